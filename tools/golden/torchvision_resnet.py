#!/usr/bin/python3
"""Golden fixtures for temper's ImageNet ResNets against torchvision 0.14 (Debian
python3-torchvision, with python3-torch 1.13).

Run from the repository root:

  /usr/bin/python3 tools/golden/torchvision_resnet.py

For resnet18 and resnet34 it builds torchvision's own model code (torchvision.models.resnet:
its ResNet, BasicBlock, _make_layer and forward) at one eighth of the width — so that the
fixtures stay small — by handing that module a torch.nn whose Conv2d, BatchNorm2d and Linear
divide their channel counts by 8 (the RGB input keeps its 3 channels): widths 8, 16, 32, 64
instead of 64 … 512, the 7x7 stride-2 stem, the 3x3 stride-2 max pool, the four stages and the
1x1 downsample + BN shortcuts unchanged. Weights: torchvision's init under torch.manual_seed,
then random BN affine parameters and running statistics and num_batches_tracked = 7, all
rounded to float16 (the file stores them as F16, num_batches_tracked as I64, so temper's load
path converts dtypes); the logits are computed from exactly those values.

It writes checkpoint/testdata/tv_NAME.safetensors (the state dict, torchvision's names, written
here by torch) and checkpoint/testdata/tv_NAME_io.safetensors (F32): the input x (2x3x64x64),
the logits in eval mode, the logits in train mode (batch statistics), and two running
statistics after that train-mode forward pass (momentum 0.1).
"""
import os
import sys
import types

import torch
import torchvision
import torchvision.models.resnet as tvr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from safetensors_check import write  # noqa: E402 (the hand-written safetensors writer)

TESTDATA = os.path.join(HERE, "..", "..", "checkpoint", "testdata")
DIV = 8
CLASSES = 10


class Conv2d(torch.nn.Conv2d):
    def __init__(self, i, o, *a, **k):
        super().__init__(i if i == 3 else i // DIV, o // DIV, *a, **k)


class BatchNorm2d(torch.nn.BatchNorm2d):
    def __init__(self, c, *a, **k):
        super().__init__(c // DIV, *a, **k)


class Linear(torch.nn.Linear):
    def __init__(self, i, o, *a, **k):
        super().__init__(i // DIV, o, *a, **k)


def narrow_nn():
    ns = types.SimpleNamespace(**{k: getattr(torch.nn, k) for k in dir(torch.nn) if not k.startswith("__")})
    ns.Conv2d, ns.BatchNorm2d, ns.Linear = Conv2d, BatchNorm2d, Linear
    return ns


def build(name, seed):
    tvr.nn = narrow_nn()
    try:
        torch.manual_seed(seed)
        m = getattr(torchvision.models, name)(weights=None, num_classes=CLASSES)
    finally:
        tvr.nn = torch.nn
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                c = mod.num_features
                mod.weight.copy_(0.5 + torch.rand(c, generator=g))
                mod.bias.copy_(0.2 * torch.randn(c, generator=g))
                mod.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                mod.running_var.copy_(0.5 + torch.rand(c, generator=g))
                mod.num_batches_tracked.fill_(7)
        for t in m.state_dict().values():
            if t.dtype.is_floating_point:
                t.copy_(t.half().float())
    return m


def main():
    print("torch", torch.__version__, "torchvision", torchvision.__version__)
    for name, seed in (("resnet18", 18), ("resnet34", 34)):
        m = build(name, seed)
        sd = {k: (v.half() if v.dtype.is_floating_point else v) for k, v in m.state_dict().items()}
        write(os.path.join(TESTDATA, f"tv_{name}.safetensors"), sd,
              {"format": "pt", "source": f"torchvision {torchvision.__version__} {name}, widths / {DIV}"})
        torch.manual_seed(seed + 2)
        x = torch.randn(2, 3, 64, 64)
        with torch.no_grad():
            m.eval()
            eval_logits = m(x)
            m.train()
            train_logits = m(x)
        io = {"x": x, "logits_eval": eval_logits, "logits_train": train_logits,
              "after_train.bn1.running_mean": m.bn1.running_mean.clone(),
              "after_train.layer4.1.bn2.running_var": m.layer4[1].bn2.running_var.clone()}
        write(os.path.join(TESTDATA, f"tv_{name}_io.safetensors"), io, {"format": "pt"})
        n = sum(v.numel() for v in m.state_dict().values())
        print(name, "state dict", len(sd), "tensors,", n, "values; eval logits[0,:3]", eval_logits[0, :3].tolist())


if __name__ == "__main__":
    main()
