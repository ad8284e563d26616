#!/usr/bin/python3
"""Golden fixtures for temper's optim package, from PyTorch 1.13 (Debian python3-torch).

Run from the repository root:  /usr/bin/python3 tools/golden/optim.py
Writes optim/testdata/<case>.json. Each case runs 20 optimizer steps on three small
parameter tensors with a fixed smooth loss; the fixture records the initial parameters,
each step's learning rates, the gradients fed to the step and the parameters after it.
The Go tests feed the recorded gradients and compare the parameters, so they never need
to reproduce the loss.
"""
import json
import math
import os

import torch

STEPS = 20
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "optim", "testdata")

SHAPES = [("0.weight", [4, 3]), ("0.bias", [4]), ("2.weight", [2, 2, 2])]


def make_params():
    g = torch.Generator().manual_seed(1234)
    params, coefs = [], []
    for _, shape in SHAPES:
        params.append(torch.randn(shape, generator=g).requires_grad_(True))
        coefs.append((torch.rand(shape, generator=g) + 0.5, torch.randn(shape, generator=g)))
    return params, coefs


def loss_fn(params, coefs):
    # A smooth non-quadratic loss: sum(a*p^2/2 + b*sin(3p)).
    total = 0
    for p, (a, b) in zip(params, coefs):
        total = total + (a * p * p / 2 + b * torch.sin(3 * p)).sum()
    return total


def flat(t):
    # 9 significant digits identify a float32 exactly.
    return [float("%.9g" % x) for x in t.detach().reshape(-1).tolist()]


def run(name, kind, cfg, groups, lr_of_step=None):
    """groups: list of (param indices, group options dict)."""
    params, coefs = make_params()
    init = [flat(p) for p in params]
    pgroups = [dict(params=[params[i] for i in idx], **opts) for idx, opts in groups]
    ctor = {
        "sgd": torch.optim.SGD,
        "adagrad": torch.optim.Adagrad,
        "rmsprop": torch.optim.RMSprop,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
    }[kind]
    opt = ctor(pgroups, **cfg)
    steps = []
    for t in range(STEPS):
        if lr_of_step is not None:
            for gi, pg in enumerate(opt.param_groups):
                pg["lr"] = lr_of_step(t, gi)
        opt.zero_grad()
        loss_fn(params, coefs).backward()
        grads = [flat(p.grad) for p in params]
        opt.step()
        steps.append(dict(lrs=[pg["lr"] for pg in opt.param_groups], grads=grads,
                          params=[flat(p) for p in params]))
    fixture = dict(
        name=name, optimizer=kind, config=cfg, torch=torch.__version__,
        params=[dict(name=n, shape=s, init=init[i]) for i, (n, s) in enumerate(SHAPES)],
        groups=[dict(params=idx, lr=opts.get("lr", cfg["lr"]),
                     weight_decay=opt.param_groups[gi]["weight_decay"])
                for gi, (idx, opts) in enumerate(groups)],
        steps=steps,
    )
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")


ALL = [([0, 1, 2], {})]
TWO = [([0, 1], {"lr": 0.05, "weight_decay": 0.01}), ([2], {"lr": 0.01, "weight_decay": 0.0})]


def main():
    os.makedirs(OUT, exist_ok=True)
    run("sgd_plain", "sgd", dict(lr=0.1), ALL)
    run("sgd_weight_decay", "sgd", dict(lr=0.1, weight_decay=0.05), ALL)
    run("sgd_momentum", "sgd", dict(lr=0.05, momentum=0.9), ALL)
    run("sgd_momentum_weight_decay", "sgd", dict(lr=0.05, momentum=0.9, weight_decay=0.01), ALL)
    run("sgd_dampening", "sgd", dict(lr=0.05, momentum=0.9, dampening=0.5), ALL)
    run("sgd_nesterov", "sgd", dict(lr=0.05, momentum=0.9, nesterov=True), ALL)
    run("sgd_nesterov_weight_decay", "sgd", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4), ALL)
    run("sgd_groups", "sgd", dict(lr=0.1, momentum=0.9, nesterov=True), TWO)
    run("sgd_schedule", "sgd", dict(lr=0.1, momentum=0.9), ALL,
        lr_of_step=lambda t, gi: 0.1 * 0.5 * (1 + math.cos(math.pi * t / STEPS)))
    run("adagrad", "adagrad", dict(lr=0.1), ALL)
    run("adagrad_decay", "adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.01), ALL)
    run("rmsprop", "rmsprop", dict(lr=0.01), ALL)
    run("rmsprop_momentum", "rmsprop", dict(lr=0.01, momentum=0.9), ALL)
    run("rmsprop_centered", "rmsprop", dict(lr=0.01, centered=True), ALL)
    run("rmsprop_centered_momentum_wd", "rmsprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.01), ALL)
    run("adam", "adam", dict(lr=0.01), ALL)
    run("adam_amsgrad", "adam", dict(lr=0.01, amsgrad=True), ALL)
    run("adam_weight_decay", "adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01), ALL)
    run("adam_groups", "adam", dict(lr=0.01), TWO)
    run("adamw", "adamw", dict(lr=0.01), ALL)
    run("adamw_amsgrad", "adamw", dict(lr=0.01, weight_decay=0.1, amsgrad=True), ALL)
    run("adamw_groups", "adamw", dict(lr=0.01), TWO)


if __name__ == "__main__":
    main()
