#!/usr/bin/python3
"""Golden fixture for an end-to-end training check: a small MLP (no dropout) trained for 15
steps of SGD with Nesterov momentum and weight decay on fixed batches, in float64-free
float32 exactly as PyTorch does. Writes train/testdata/mlp_steps.json with the initial
weights, the batches, the loss of each step and the final weights.

Run from the repo root: /usr/bin/python3 tools/golden/train_steps.py
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
net = nn.Sequential(nn.Flatten(), nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 5))
init = {k: v.detach().clone() for k, v in net.state_dict().items()}
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
batches, losses = [], []
for step in range(15):
    x = torch.randn(8, 20)
    y = torch.randint(0, 5, (8,))
    opt.zero_grad()
    loss = F.cross_entropy(net(x), y)
    loss.backward()
    opt.step()
    batches.append({"x": x.flatten().tolist(), "y": y.tolist()})
    losses.append(loss.item())
out = {
    "init": {k: {"shape": list(v.shape), "data": v.flatten().tolist()} for k, v in init.items()},
    "final": {k: {"shape": list(v.shape), "data": v.flatten().tolist()} for k, v in net.state_dict().items()},
    "batches": batches,
    "losses": losses,
}
with open("train/testdata/mlp_steps.json", "w") as f:
    json.dump(out, f)
