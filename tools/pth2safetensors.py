#!/usr/bin/python3
"""Convert a PyTorch checkpoint (.pth / .pt) to a safetensors state dict that temper loads.

  /usr/bin/python3 tools/pth2safetensors.py IN.pth OUT.safetensors [--f16]

IN may hold a state dict, a whole model (torch.save(model)), or a training checkpoint
dict with the weights under "state_dict", "model" or "model_state_dict". Tensors are
written as float32 (float16 with --f16: half the size, converted back on load; integer
buffers such as num_batches_tracked keep their dtype). Names are kept as they are:
temper strips "module." (DataParallel) and "_orig_mod." (torch.compile) prefixes itself
and prints a load report. Needs only python3-torch (torch 1.13 has no safetensors
module; the format is written by hand, see tools/golden/safetensors_check.py).

Then, for a torchvision ResNet-18 fine-tuned on a folder of images:

  temper finetune --from OUT.safetensors --model resnet18 --data images:DIR \\
      --image-size 224 --channels 3 --strategy last:1
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
from safetensors_check import write  # noqa: E402


def state_dict(obj):
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        for k in ("state_dict", "model_state_dict", "model"):
            if k in obj and isinstance(obj[k], (dict, torch.nn.Module)):
                return state_dict(obj[k])
        if all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj
    raise SystemExit("pth2safetensors: no state dict found (want a state dict, a model, or a dict with state_dict/model)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--f16", action="store_true", help="store floating-point tensors as float16")
    a = ap.parse_args()
    sd = state_dict(torch.load(a.input, map_location="cpu"))
    out = {}
    for k, v in sd.items():
        v = v.detach().contiguous()
        if v.dtype.is_floating_point:
            v = v.to(torch.float16 if a.f16 else torch.float32)
        out[k] = v
    write(a.output, out, {"format": "pt", "source": os.path.basename(a.input)})
    print(f"wrote {a.output}: {len(out)} tensors, {sum(v.numel() for v in out.values())} values")


if __name__ == "__main__":
    main()
