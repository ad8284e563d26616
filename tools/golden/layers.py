#!/usr/bin/python3
"""Golden fixtures for temper's convolutional layers (package nn), from PyTorch.

Run from the repository root with Debian's python3-torch (1.13):
    /usr/bin/python3 tools/golden/layers.py
It writes nn/testdata/{conv2d,pool,batchnorm,block,cnn_model}.json. Each case holds the input, the
parameters, an upstream gradient g, the output y and the gradients of sum(y*g) with respect
to the input and every parameter (and, for batch norm, the running statistics after the
steps). Values are float32 written in full precision; the Go tests (nn/golden_test.go)
read them and never run Python.
"""
import json, os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(20261128)
torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "nn", "testdata")


def t2j(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float(f"{v:.9g}") for v in t.reshape(-1).tolist()]}


def run(module, x, steps=1):
    """Forward/backward `steps` times on x; returns y, g and the grads of the last step."""
    x = x.clone().requires_grad_(True)
    for _ in range(steps):
        for p in module.parameters():
            p.grad = None
        x.grad = None
        y = module(x)
        g = torch.randn_like(y)
        (y * g).sum().backward()
    return x, y, g


def case(name, cfg, module, x, steps=1, extra=None):
    x, y, g = run(module, x, steps)
    c = {"name": name, "config": cfg, "x": t2j(x), "g": t2j(g), "y": t2j(y), "dx": t2j(x.grad),
         "params": {}, "grads": {}, "buffers": {}}
    for n, p in module.named_parameters():
        c["params"][n] = t2j(p)
        c["grads"][n] = t2j(p.grad)
    for n, b in module.named_buffers():
        c["buffers"][n] = t2j(b.float())
    if extra:
        c.update(extra)
    return c


def conv_cases():
    out = []
    specs = [
        # (N, C, H, W, O, kh, kw, stride, pad, dil, groups, bias)
        (2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, True),
        (2, 4, 9, 8, 6, 3, 3, 2, 1, 1, 1, True),
        (1, 2, 10, 9, 3, 3, 2, 1, 0, 2, 1, False),
        (3, 4, 6, 7, 6, 3, 3, 1, 2, 1, 2, True),
        (2, 6, 8, 8, 4, 1, 1, 2, 0, 1, 2, False),
        (1, 1, 14, 14, 4, 3, 3, 1, 1, 1, 1, True),
        (20, 3, 5, 5, 5, 3, 3, 1, 1, 1, 1, True),  # several images per im2col block
        (2, 3, 8, 7, 4, 5, 3, (2, 1), (2, 1), (1, 2), 1, True),
    ]
    for (n, c, h, w, o, kh, kw, s, p, d, g, bias) in specs:
        s2 = s if isinstance(s, tuple) else (s, s)
        p2 = p if isinstance(p, tuple) else (p, p)
        d2 = d if isinstance(d, tuple) else (d, d)
        m = nn.Conv2d(c, o, (kh, kw), stride=s2, padding=p2, dilation=d2, groups=g, bias=bias)
        cfg = {"in": c, "out": o, "kernel": [kh, kw], "stride": list(s2), "padding": list(p2),
               "dilation": list(d2), "groups": g, "bias": bias}
        out.append(case(f"conv_{n}x{c}x{h}x{w}_o{o}_k{kh}{kw}_s{s2}_p{p2}_d{d2}_g{g}_b{int(bias)}", cfg, m,
                        torch.randn(n, c, h, w)))
    return out


def pool_cases():
    out = []
    for (kind, n, c, h, w, k, s, p, extra) in [
        ("max", 2, 3, 8, 8, 2, 2, 0, {}),
        ("max", 2, 2, 7, 9, 3, 2, 1, {}),
        ("max", 1, 2, 9, 8, 3, 1, 1, {"dilation": 2}),
        ("avg", 2, 3, 8, 8, 2, 2, 0, {}),
        ("avg", 2, 2, 7, 9, 3, 2, 1, {}),
        ("avg", 2, 2, 7, 9, 3, 2, 1, {"exclude_padding": True}),
        ("adaptive", 2, 3, 7, 5, 3, 2, 0, {}),
        ("adaptive", 2, 4, 6, 6, 1, 1, 0, {}),
    ]:
        if kind == "max":
            m = nn.MaxPool2d(k, s, p, dilation=extra.get("dilation", 1))
        elif kind == "avg":
            m = nn.AvgPool2d(k, s, p, count_include_pad=not extra.get("exclude_padding", False))
        else:
            m = nn.AdaptiveAvgPool2d((k, s))
        cfg = {"kind": kind, "kernel": k, "stride": s, "padding": p, **extra}
        x = torch.randn(n, c, h, w)
        out.append(case(f"{kind}_{n}x{c}x{h}x{w}_k{k}_s{s}_p{p}_{extra}", cfg, m, x))
    return out


def bn_cases():
    out = []
    for (dims, shape, train, momentum, affine, steps, shift) in [
        (2, (4, 3, 5, 6), True, 0.1, True, 1, 0.0),
        (2, (3, 4, 3, 3), True, None, True, 3, 2.0),
        (2, (2, 3, 4, 4), False, 0.1, True, 1, 0.0),
        (1, (8, 5), True, 0.1, True, 2, 0.0),
        (1, (4, 3, 7), True, 0.3, False, 1, 0.0),
        (1, (6, 4), False, 0.1, True, 1, 0.0),
        (2, (2, 2, 3, 3), True, 0.1, True, 1, 50.0),  # large mean relative to std
    ]:
        m = (nn.BatchNorm2d if dims == 2 else nn.BatchNorm1d)(shape[1], momentum=momentum, affine=affine)
        with torch.no_grad():
            if affine:
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
        init_buffers = {n: t2j(b.float()) for n, b in m.named_buffers()}
        init_params = {n: t2j(p) for n, p in m.named_parameters()}
        m.train(train)
        x = torch.randn(*shape) + shift
        cfg = {"dims": dims, "train": train, "momentum": momentum, "affine": affine, "steps": steps}
        out.append(case(f"bn{dims}d_{shape}_train{int(train)}_m{momentum}_a{int(affine)}_steps{steps}", cfg, m, x,
                        steps=steps, extra={"init_buffers": init_buffers, "init_params": init_params}))
    return out


class Block(nn.Module):
    """The CIFAR basic block (option A or B), named like temper's nn.BasicBlock."""

    def __init__(self, cin, cout, stride, option):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.option, self.pad, self.stride = option, cout - cin, stride
        if option == "B" and (stride != 1 or cin != cout):
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        if hasattr(self, "shortcut"):
            sc = self.shortcut(x)
        elif self.stride != 1 or self.pad:
            before = self.pad // 2
            sc = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, before, self.pad - before))
        else:
            sc = x
        return F.relu(h + sc)


def block_cases():
    out = []
    for (n, cin, cout, h, stride, option) in [(2, 4, 4, 6, 1, "A"), (2, 4, 8, 7, 2, "A"), (2, 3, 6, 6, 2, "B")]:
        m = Block(cin, cout, stride, option)
        cfg = {"in": cin, "out": cout, "stride": stride, "option": option}
        out.append(case(f"block_{n}x{cin}x{h}_{cout}_s{stride}_{option}", cfg, m, torch.randn(n, cin, h, h)))
    return out


def cnn_model_cases():
    """The whole `cnn` model (torch_mnist.py's network) on 4x4 input, dropout off: logits,
    loss and every parameter gradient of one training-mode step, and the BN buffers."""
    out = []
    for seed in (1,):
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Flatten(), nn.Linear(64 * 1 * 1, 128), nn.ReLU(), nn.Dropout(0.0), nn.Linear(128, 10))
        with torch.no_grad():
            for m in net:
                if isinstance(m, nn.BatchNorm2d):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.3, 0.3)
        init_params = {n: t2j(p) for n, p in net.named_parameters()}
        x = torch.rand(6, 1, 4, 4)
        y = torch.tensor([0, 3, 7, 3, 9, 1])
        logits = net(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        out.append({"name": f"cnn_4x4_seed{seed}", "config": {"labels": y.tolist(), "loss": float(loss)},
                    "x": t2j(x), "y": t2j(logits), "init_params": init_params,
                    "grads": {n: t2j(p.grad) for n, p in net.named_parameters()},
                    "buffers": {n: t2j(b.float()) for n, b in net.named_buffers()},
                    "params": {}, "g": t2j(torch.zeros(1)), "dx": t2j(torch.zeros(1))})
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, cases in [("conv2d", conv_cases()), ("pool", pool_cases()), ("batchnorm", bn_cases()),
                        ("block", block_cases()), ("cnn_model", cnn_model_cases())]:
        path = os.path.join(OUT, name + ".json")
        with open(path, "w") as f:
            json.dump({"generator": "tools/golden/layers.py", "torch": torch.__version__, "cases": cases}, f)
        print(path, len(cases), "cases", os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
