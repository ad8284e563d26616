#!/usr/bin/python3
"""PyTorch reference of temper's built-in models, timed per step, for bench/models.

Usage: /usr/bin/python3 torch_models.py MODEL --mode train|infer [--shape C,H,W] [--batch N]
       [--steps N] [--warmup N] [--threads N]

Prints one JSON line: seconds per step (the best and the mean of the timed steps), the
losses of the timed training steps, the BLAS torch uses. Inputs are fixed random tensors
(seed 0) with labels i mod classes, so no data loading is timed. Training: SGD, Nesterov
momentum 0.9, lr 0.05, weight decay 5e-4, softmax cross-entropy, model.train(). Inference:
model.eval() under torch.no_grad().

The networks must be temper's (nn/cnn_models.go, nn/models.go):
  mlp:      784-512-512-10, ReLU, dropout 0.2 after each hidden layer (flattened input).
  cnn:      conv3x3(C->32,p1) BN ReLU maxpool2, conv3x3(32->64,p1) BN ReLU maxpool2,
            fc(64*H/4*W/4 -> 128) ReLU dropout 0.5, fc(128 -> 10).
  lenet5:   conv5x5(C->6,p2) ReLU maxpool2, conv5x5(6->16) ReLU maxpool2,
            fc(16*H'*W' -> 120) ReLU fc(120 -> 84) ReLU fc(84 -> 10).
  resnet20: He et al. 2016 CIFAR ResNet, 3x3 conv to 16 + BN + ReLU, 3 stages of 3 basic
            blocks (16, 32, 64 channels; stages 2 and 3 start with stride 2; option-A
            shortcuts: subsample and zero-pad channels), global average pool, fc(64 -> 10).
"""
import argparse, json, os, time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ShortcutA(nn.Module):
    def __init__(self, planes, stride):
        super().__init__()
        self.pad, self.stride = planes // 4, stride

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad, self.pad))


class BasicBlock(nn.Module):
    def __init__(self, inp, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = ShortcutA(planes, stride) if stride != 1 or inp != planes else nn.Identity()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet20(nn.Module):
    def __init__(self, c, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(c, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, inp = [], 16
        for planes, stride in [(16, 1), (32, 2), (64, 2)]:
            blocks = []
            for i in range(3):
                blocks.append(BasicBlock(inp, planes, stride if i == 0 else 1))
                inp = planes
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def build(kind, c, h, w):
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, 512), nn.ReLU(), nn.Dropout(0.2),
                             nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 10))
    if kind == "cnn":
        return nn.Sequential(nn.Conv2d(c, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(64 * (h // 4) * (w // 4), 128), nn.ReLU(), nn.Dropout(0.5),
                             nn.Linear(128, 10))
    if kind == "lenet5":
        oh, ow = (h // 2 - 4) // 2, (w // 2 - 4) // 2
        return nn.Sequential(nn.Conv2d(c, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(16 * oh * ow, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                             nn.Linear(84, 10))
    if kind == "resnet20":
        return ResNet20(c)
    raise SystemExit("unknown model " + kind)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--mode", choices=["train", "infer"], default="train")
    p.add_argument("--shape", default="1,28,28")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c, h, w = (int(v) for v in a.shape.split(","))
    net = build(a.model, c, h, w)
    x = torch.rand(a.batch, c, h, w)
    y = torch.arange(a.batch) % 10
    times, losses = [], []
    if a.mode == "train":
        net.train()
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
        for i in range(a.warmup + a.steps):
            t = time.perf_counter()
            opt.zero_grad(set_to_none=False)
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            lv = loss.item()
            if i >= a.warmup:
                times.append(time.perf_counter() - t)
                losses.append(lv)
    else:
        net.eval()
        with torch.no_grad():
            for i in range(a.warmup + a.steps):
                t = time.perf_counter()
                out = net(x)
                out.sum().item()
                if i >= a.warmup:
                    times.append(time.perf_counter() - t)
    # Debian's torch calls the system BLAS through libblas.so.3 (alternatives): this says
    # which library that is (OpenBLAS pthread expected).
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    print(json.dumps({"framework": "torch " + torch.__version__, "blas": blas,
                      "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""), "model": a.model, "mode": a.mode,
                      "batch": a.batch, "best_s": min(times), "mean_s": sum(times) / len(times),
                      "losses": losses}))


if __name__ == "__main__":
    main()
