#!/usr/bin/python3
"""Golden fixtures for temper's regularize package, from PyTorch.

Run from anywhere with Debian's python3-torch (1.13):
    /usr/bin/python3 tools/golden/regularize.py
It writes regularize/testdata/{fmp,penalty}.json; the Go tests read them and never run
Python.

fmp.json: torch.nn.functional.fractional_max_pool2d with fixed _random_samples (the only
variant PyTorch has: pseudo-random window starts, fixed kernel). Each case holds the input,
the samples (N, C, 2), the output, its argmax indices and the gradient of sum(y*g).

penalty.json: the value and gradient of (l2/2)*sum(w^2) + l1*sum(|w|) over a weight and a
bias, as a reference for the weights-only default (the bias is skipped) and IncludeAll.

torchvision (stochastic_depth) is not packaged in Debian, so stochastic depth is tested
against its formula directly in Go.
"""
import json, os

import torch
import torch.nn.functional as F

torch.manual_seed(20261128)
torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "regularize", "testdata")


def t2j(t):
    t = t.detach().contiguous()
    if t.dtype in (torch.int64, torch.int32):
        return {"shape": list(t.shape), "data": [int(v) for v in t.reshape(-1).tolist()]}
    t = t.to(torch.float32)
    return {"shape": list(t.shape), "data": [float(f"{v:.9g}") for v in t.reshape(-1).tolist()]}


def fmp_case(name, shape, kernel, output_size=None, output_ratio=None):
    x = torch.randn(*shape, dtype=torch.float32).requires_grad_(True)
    n, c = shape[0], shape[1]
    samples = torch.rand(n, c, 2, dtype=torch.float32)
    y, idx = F.fractional_max_pool2d(x, kernel, output_size=output_size, output_ratio=output_ratio,
                                     return_indices=True, _random_samples=samples)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    return {"name": name, "kernel": kernel, "out": list(y.shape[2:]),
            "ratio": list(output_ratio) if output_ratio is not None else [0, 0],
            "x": t2j(x), "samples": t2j(samples), "y": t2j(y), "indices": t2j(idx), "g": t2j(g),
            "dx": t2j(x.grad)}


def penalty_case(name, l2, l1):
    w = torch.randn(4, 5, dtype=torch.float32, requires_grad=True)
    b = torch.randn(4, dtype=torch.float32, requires_grad=True)
    out = {"name": name, "l2": l2, "l1": l1, "w": t2j(w), "b": t2j(b)}
    for tag, ps in (("weights", [w]), ("all", [w, b])):
        for p in (w, b):
            p.grad = None
        r = sum(l2 / 2 * (p * p).sum() + l1 * p.abs().sum() for p in ps)
        r.backward()
        out[tag] = {"value": float(r), "dw": t2j(w.grad),
                    "db": t2j(b.grad if b.grad is not None else torch.zeros_like(b))}
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = [
        fmp_case("k2-size", (2, 3, 11, 9), 2, output_size=(5, 4)),
        fmp_case("k3-size", (2, 2, 13, 10), 3, output_size=(7, 6)),
        fmp_case("k2-ratio", (1, 3, 28, 28), 2, output_ratio=(0.5, 0.5)),
        fmp_case("k2-sqrt2", (2, 2, 16, 16), 2, output_ratio=(0.7071, 0.7071)),
        fmp_case("k2-out1", (1, 2, 5, 6), 2, output_size=(1, 3)),
    ]
    with open(os.path.join(OUT, "fmp.json"), "w") as f:
        json.dump(cases, f)
    pens = [penalty_case("l2", 0.1, 0.0), penalty_case("l1", 0.0, 0.05), penalty_case("elastic", 0.2, 0.03)]
    with open(os.path.join(OUT, "penalty.json"), "w") as f:
        json.dump(pens, f)


if __name__ == "__main__":
    main()
