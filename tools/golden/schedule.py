#!/usr/bin/python3
"""Golden fixtures for temper/schedule from torch.optim.lr_scheduler (PyTorch 1.13).

Run from the repository root with Debian's python3-torch:

    /usr/bin/python3 tools/golden/schedule.py

Writes schedule/testdata/schedules.json: for each case a temper SPEC string, the base lrs
of two parameter groups and, for each group, the lr the optimizer holds after t calls to
scheduler.step() for t = 0..steps (and the momentum, where the scheduler cycles it); and
schedule/testdata/plateau.json: ReduceLROnPlateau fed fixed metric sequences.
"""
import json
import math
import os
import warnings

import torch
from torch.optim import SGD
from torch.optim import lr_scheduler as S

warnings.filterwarnings("ignore")
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "schedule", "testdata")
BASES = [0.1, 0.01]


def opt(bases=BASES, momentum=0.9):
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": b} for b in bases]
    return SGD(groups, lr=bases[0], momentum=momentum)


def run(name, spec, make, steps=300, bases=BASES, momentum=False, note=""):
    o = opt(bases)
    sch = make(o)
    lrs = [[] for _ in bases]
    moms = [[] for _ in bases]
    for t in range(steps + 1):
        for i, g in enumerate(o.param_groups):
            lrs[i].append(g["lr"])
            moms[i].append(g["momentum"])
        if t < steps:
            o.step()
            sch.step()
    case = {"name": name, "spec": spec, "bases": bases, "steps": steps, "lrs": lrs}
    if momentum:
        case["momentum"] = moms
    if note:
        case["note"] = note
    return case


def lam(f):
    return lambda o: S.LambdaLR(o, f)


cases = [
    run("StepLR", "step:size=30,gamma=0.1", lambda o: S.StepLR(o, step_size=30, gamma=0.1)),
    run("StepLR-default-gamma", "step:size=7", lambda o: S.StepLR(o, step_size=7)),
    run("MultiStepLR", "multistep:milestones=50/120/200,gamma=0.5",
        lambda o: S.MultiStepLR(o, milestones=[50, 120, 200], gamma=0.5)),
    run("ExponentialLR", "exp:gamma=0.99", lambda o: S.ExponentialLR(o, gamma=0.99)),
    run("Exp-k", "exp:k=0.02", lam(lambda t: math.exp(-0.02 * t)),
        note="LambdaLR(exp(-k t))"),
    run("InverseTime", "invtime:k=0.05", lam(lambda t: 1 / (1 + 0.05 * t)),
        note="LambdaLR(1/(1+k t))"),
    run("PolynomialLR", "poly:total=200,power=2",
        lambda o: S.PolynomialLR(o, total_iters=200, power=2.0),
        note="PyTorch steps PolynomialLR recursively (lr *= ratio of factors)"),
    run("PolynomialLR-linear", "poly:total=250", lambda o: S.PolynomialLR(o, total_iters=250)),
    run("CosineAnnealingLR", "cosine:tmax=300,min=0.001",
        lambda o: S.CosineAnnealingLR(o, T_max=300, eta_min=0.001),
        note="PyTorch steps CosineAnnealingLR recursively"),
    run("CosineAnnealingLR-min0", "cosine:tmax=250", lambda o: S.CosineAnnealingLR(o, T_max=250), steps=250),
    run("CosineAnnealingWarmRestarts-tmult2", "cosine-restarts:t0=10,tmult=2,min=1e-4",
        lambda o: S.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2, eta_min=1e-4)),
    run("CosineAnnealingWarmRestarts-tmult1", "sgdr:t0=25",
        lambda o: S.CosineAnnealingWarmRestarts(o, T_0=25)),
    run("CyclicLR-triangular", "cyclic:base=0.001,max=0.1,up=20,down=30",
        lambda o: S.CyclicLR(o, base_lr=0.001, max_lr=0.1, step_size_up=20, step_size_down=30),
        momentum=True),
    run("CyclicLR-triangular2", "cyclic:max=0.5,up=25,mode=triangular2",
        lambda o: S.CyclicLR(o, base_lr=BASES, max_lr=0.5, step_size_up=25, mode="triangular2"),
        momentum=True),
    run("CyclicLR-exp_range", "cyclic:base=0.001,max=0.1,up=15,mode=exp_range,gamma=0.99,base-momentum=0.7,max-momentum=0.95",
        lambda o: S.CyclicLR(o, base_lr=0.001, max_lr=0.1, step_size_up=15, mode="exp_range", gamma=0.99,
                             base_momentum=0.7, max_momentum=0.95),
        momentum=True),
    run("OneCycleLR", "onecycle:max=0.1,total=300",
        lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=300), steps=299, momentum=True),
    run("OneCycleLR-three-phase-linear", "onecycle:max=0.2,total=300,pct=0.25,three-phase=true,anneal=linear,div=10,final-div=100",
        lambda o: S.OneCycleLR(o, max_lr=0.2, total_steps=300, pct_start=0.25, three_phase=True,
                               anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0),
        steps=299, momentum=True),
    run("OneCycleLR-odd", "onecycle:max=0.05,total=97,pct=0.4",
        lambda o: S.OneCycleLR(o, max_lr=0.05, total_steps=97, pct_start=0.4), steps=96, momentum=True),
    run("LinearLR-warmup", "warmup:steps=50,start=0.1",
        lambda o: S.LinearLR(o, start_factor=0.1, total_iters=50), steps=100),
    run("ConstantLR", "const:factor=0.25,steps=40", lambda o: S.ConstantLR(o, factor=0.25, total_iters=40), steps=100),
    run("SequentialLR-warmup-cosine", "warmup:steps=50,start=0.1+cosine:tmax=250",
        lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=50),
                                     S.CosineAnnealingLR(o, T_max=250)], milestones=[50])),
    run("SequentialLR-const-exp", "const:factor=0.1,for=2+exp:gamma=0.9",
        lambda o: S.SequentialLR(o, [S.ConstantLR(o, factor=0.1, total_iters=2),
                                     S.ExponentialLR(o, gamma=0.9)], milestones=[2]), steps=60),
    run("SequentialLR-three", "warmup:steps=20,start=0.5+step:size=30,gamma=0.5,for=100+exp:gamma=0.98",
        lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.5, total_iters=20),
                                     S.StepLR(o, step_size=30, gamma=0.5),
                                     S.ExponentialLR(o, gamma=0.98)], milestones=[20, 120])),
    run("ChainedScheduler", "const:factor=0.1,steps=20*exp:gamma=0.99",
        lambda o: S.ChainedScheduler([S.ConstantLR(o, factor=0.1, total_iters=20),
                                      S.ExponentialLR(o, gamma=0.99)])),
]


def plateau(name, spec, kw, metrics, bases=BASES):
    o = opt(bases)
    sch = S.ReduceLROnPlateau(o, **kw)
    lrs = [[] for _ in bases]
    for m in metrics:
        sch.step(m)
        for i, g in enumerate(o.param_groups):
            lrs[i].append(g["lr"])
    return {"name": name, "spec": spec, "bases": bases, "metrics": metrics, "lrs": lrs}


def losses(n, seed):
    # a decreasing loss that plateaus and wiggles, deterministic
    g = torch.Generator().manual_seed(seed)
    noise = torch.rand(n, generator=g, dtype=torch.float64).tolist()
    return [1.0 / (1 + 0.2 * min(t, 25)) + 0.02 * noise[t] for t in range(n)]


def accs(n, seed):
    g = torch.Generator().manual_seed(seed)
    noise = torch.rand(n, generator=g, dtype=torch.float64).tolist()
    return [0.9 - 0.5 / (1 + 0.3 * min(t, 20)) + 0.01 * noise[t] for t in range(n)]


plateaus = [
    plateau("default", "plateau", {}, losses(200, 1)),
    plateau("patience2-factor0.5-cooldown1-min", "plateau:patience=2,factor=0.5,cooldown=1,min=0.005",
            dict(patience=2, factor=0.5, cooldown=1, min_lr=0.005), losses(200, 2)),
    plateau("max-abs", "plateau:mode=max,threshold-mode=abs,threshold=0.002,patience=3,factor=0.3",
            dict(mode="max", threshold_mode="abs", threshold=0.002, patience=3, factor=0.3), accs(200, 3)),
    plateau("max-rel-patience0", "plateau:mode=max,patience=0,factor=0.9,threshold=0.01",
            dict(mode="max", patience=0, factor=0.9, threshold=0.01), accs(120, 4)),
    plateau("min-abs-eps", "plateau:threshold-mode=abs,threshold=0,patience=1,factor=0.5,eps=1e-4",
            dict(threshold_mode="abs", threshold=0.0, patience=1, factor=0.5, eps=1e-4), losses(200, 5)),
]

os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "schedules.json"), "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f)
with open(os.path.join(OUT, "plateau.json"), "w") as f:
    json.dump({"torch": torch.__version__, "cases": plateaus}, f)
print("wrote", len(cases), "schedule cases and", len(plateaus), "plateau cases to", os.path.normpath(OUT))
