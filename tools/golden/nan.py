#!/usr/bin/python3
"""NaN propagation in PyTorch 1.13, the reference for temper's ReLU and max pooling.

Writes nn/testdata/nan.json: for ReLU and max pooling, an input holding NaN, -0 and
infinities, the output, the upstream gradient and the input gradient; and an MLP whose
first weight holds one NaN, with its logits (NaN rows where PyTorch propagates). Values
are strings ("NaN", "-0", "Inf", "-Inf" or the number with 9 significant digits) since
JSON has no NaN. Run: /usr/bin/python3 tools/golden/nan.py
"""
import json, math, os

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "nn", "testdata", "nan.json")


def enc(v):
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Inf" if v > 0 else "-Inf"
    if v == 0 and math.copysign(1, v) < 0:
        return "-0"
    return f"{v:.9g}"


def t2j(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [enc(v) for v in t.reshape(-1).tolist()]}


def op_case(name, cfg, f, x):
    x = x.clone().requires_grad_(True)
    y = f(x)
    g = torch.arange(1, y.numel() + 1, dtype=torch.float32).reshape(y.shape) / 8
    (y * g).sum().backward()
    return {"name": name, "config": cfg, "x": t2j(x), "y": t2j(y), "g": t2j(g), "dx": t2j(x.grad)}


def main():
    torch.manual_seed(0)
    nan, inf = float("nan"), float("inf")
    cases = []
    x = torch.tensor([[nan, -1.0, 2.0, -0.0, inf, -inf], [0.5, nan, -3.0, 0.0, 1.0, nan]])
    cases.append(op_case("relu", {"kind": "relu"}, torch.relu, x))
    x = torch.randn(1, 2, 6, 6)
    x[0, 0, 0, 1] = nan
    x[0, 1, 3, 3] = nan
    x[0, 1, 5, 5] = nan
    for k, s, p in [(2, 2, 0), (3, 2, 1)]:
        m = nn.MaxPool2d(k, s, p)
        cases.append(op_case(f"maxpool_k{k}_s{s}_p{p}", {"kind": "max", "kernel": k, "stride": s, "padding": p}, m, x))
    mlp = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    with torch.no_grad():
        mlp[0].weight[2, 4] = nan
    xin = torch.randn(4, 6)
    xin[1, 4] = 0  # NaN·0 is NaN: every row sees it
    c = {"name": "mlp_nan_weight", "config": {"kind": "mlp"}, "x": t2j(xin), "y": t2j(mlp(xin)),
         "params": {n: t2j(p) for n, p in mlp.named_parameters()}}
    cases.append(c)
    with open(OUT, "w") as f:
        json.dump({"generator": "tools/golden/nan.py", "torch": torch.__version__, "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
