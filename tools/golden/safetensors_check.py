#!/usr/bin/python3
"""safetensors interop check between temper (Go) and PyTorch 1.13 (Debian python3-torch).

torch 1.13 ships no safetensors module, so this script reads and writes the format by hand
(json + struct + torch.frombuffer), following https://github.com/huggingface/safetensors:
8-byte little-endian header length N, N bytes of JSON header (padded with spaces to a
multiple of 8), then the tensor bytes; data_offsets are relative to the end of the header.

Run from the repository root:

  /usr/bin/python3 tools/golden/safetensors_check.py write
      Writes checkpoint/testdata/torch_small.safetensors, the state_dict of a small PyTorch
      model (Linear, BatchNorm1d with its I64 num_batches_tracked, Linear) plus F64, F16 and
      BF16 tensors and a 0-d tensor, laid out like safetensors.torch.save_file (tensors sorted
      by dtype then name, metadata {"format": "pt"}), and torch_small.json with the expected
      names (in data order), dtypes, shapes and float32 values that the Go test compares.

  /usr/bin/python3 tools/golden/safetensors_check.py read FILE [FILE...]
      Validates FILE (e.g. one written by temper's checkpoint.Save) and prints each tensor's
      name, dtype, shape and sum, then loads the Linear/BatchNorm tensors into a PyTorch
      module with the same dotted names using load_state_dict(strict=True).
"""
import json
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.join(HERE, "..", "..", "checkpoint", "testdata")

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}
# safetensors sorts tensors by dtype (descending in its enum order) then by name.
ENUM_ORDER = ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert 8 + n <= len(raw), f"header length {n} beyond file of {len(raw)} bytes"
    assert (8 + n) % 8 == 0, "header not padded to 8 bytes"
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    buf = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    entries = sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"]))
    pos = 0
    out = {}
    for name, e in entries:
        b, end = e["data_offsets"]
        assert b == pos, f"{name}: begins at {b}, want {pos} (contiguous, no holes)"
        dt = DTYPES[e["dtype"]]
        count = 1
        for d in e["shape"]:
            count *= d
        assert end - b == count * torch.tensor([], dtype=dt).element_size(), f"{name}: size mismatch"
        t = torch.frombuffer(bytearray(buf[b:end]), dtype=dt) if end > b else torch.empty(0, dtype=dt)
        out[name] = t.reshape(e["shape"])
        pos = end
    assert pos == len(buf), f"data is {len(buf)} bytes, tensors use {pos}"
    return out, meta


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write(path, tensors, meta):
    items = sorted(tensors.items(), key=lambda kv: (-ENUM_ORDER.index(NAMES[kv[1].dtype]), kv[0]))
    header, off, chunks = {}, 0, []
    for name, t in items:
        b = tensor_bytes(t)
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        chunks.append(b)
    # Keys sorted alphabetically (unlike the data order) so readers must order by offsets.
    ordered = {"__metadata__": meta}
    ordered.update(sorted(header.items()))
    h = json.dumps(ordered, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)
    return [name for name, _ in items]


def cmd_write():
    torch.manual_seed(20261128)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    model.train()
    for _ in range(3):  # move the BN running statistics and num_batches_tracked
        model(torch.randn(8, 3))
    tensors = {k: v.detach().clone() for k, v in model.state_dict().items()}
    g = torch.Generator().manual_seed(7)
    tensors["extra.f64"] = torch.randn(2, 3, generator=g, dtype=torch.float64)
    tensors["extra.f16"] = torch.tensor([1.0, -2.5, 65504.0, 6e-8, 0.1], dtype=torch.float16)
    tensors["extra.bf16"] = torch.tensor([[1.0, -3.140625], [1e30, 0.0]], dtype=torch.bfloat16)
    tensors["extra.scalar"] = torch.tensor(0.25)
    tensors["extra.empty"] = torch.zeros(0, 3)
    os.makedirs(TESTDATA, exist_ok=True)
    path = os.path.join(TESTDATA, "torch_small.safetensors")
    names = write(path, tensors, {"format": "pt"})
    expect = {
        "names": names,
        "meta": {"format": "pt"},
        "tensors": {k: {"dtype": NAMES[v.dtype], "shape": list(v.shape),
                        "values": [float(x) for x in v.float().reshape(-1).tolist()]} for k, v in tensors.items()},
    }
    with open(os.path.join(TESTDATA, "torch_small.json"), "w") as f:
        json.dump(expect, f, indent=1)
        f.write("\n")
    # Self-check: the hand-written file reads back identically.
    back, meta = read(path)
    for k, v in tensors.items():
        assert torch.equal(back[k], v), k
    print(f"wrote {path} ({len(names)} tensors)")


def cmd_read(paths):
    for path in paths:
        tensors, meta = read(path)
        print(f"{path}: {len(tensors)} tensors, metadata {json.dumps(meta, sort_keys=True)}")
        for name, t in tensors.items():
            print(f"  {name:24s} {NAMES[t.dtype]:4s} {str(list(t.shape)):14s} sum={t.double().sum().item():.9g}")
        # Rebuild a PyTorch module with the same dotted names (every 2-D "P.weight" becomes a
        # Linear at path P, 1-D ones with running stats a BatchNorm1d) and load the file into
        # it with load_state_dict(strict=True): the names and shapes are exactly a state_dict.
        root = torch.nn.Module()
        loadable = {}
        for name, t in tensors.items():
            if not name.endswith(".weight"):
                continue
            prefix = name[: -len(".weight")]
            if t.dim() == 2:
                mod = torch.nn.Linear(t.shape[1], t.shape[0], bias=prefix + ".bias" in tensors)
            elif t.dim() == 1 and prefix + ".running_mean" in tensors:
                mod = torch.nn.BatchNorm1d(t.shape[0])
            else:
                continue
            parent = root
            parts = prefix.split(".")
            for p in parts[:-1]:
                if not hasattr(parent, p):
                    parent.add_module(p, torch.nn.Module())
                parent = getattr(parent, p)
            parent.add_module(parts[-1], mod)
            for k in mod.state_dict():
                loadable[prefix + "." + k] = tensors[prefix + "." + k].to(mod.state_dict()[k].dtype)
        if loadable:
            root.load_state_dict(loadable, strict=True)
            print(f"  {len(loadable)} tensors loaded into a PyTorch module with load_state_dict(strict=True)")


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "write":
        cmd_write()
    elif len(sys.argv) >= 3 and sys.argv[1] == "read":
        cmd_read(sys.argv[2:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
