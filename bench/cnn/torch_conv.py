#!/usr/bin/python3
"""temper vs PyTorch on the conv layers of the `cnn` model (and a whole training step).

Usage (from the repository root):
    /usr/bin/python3 bench/cnn/torch_conv.py [--reps 5] [--threads 2]

It runs, in one go: the Go benchmarks BenchmarkCNNConv and BenchmarkCNNStep of package nn
(go test -bench, -cpu THREADS), then this script's PyTorch timings of the same shapes twice
(OPENBLAS_CORETYPE unset, and =SkylakeX: Debian's OpenBLAS misdetects some CPUs), with
torch.set_num_threads(THREADS), and prints each time with the temper/PyTorch ratio (< 1:
temper is faster). Times are medians over --reps repetitions, so a busy machine hurts both
sides alike. `--torch-only` prints the PyTorch timings as JSON (used internally).

Shapes (batch 128, 3x3 convolution, padding 1, bias):
  conv1: 1 -> 32 channels, 28x28 (the image needs no gradient: backward is dW, db only)
  conv2: 32 -> 64 channels, 14x14 (backward also computes the input gradient)
"fwd" is inference (torch.no_grad / no tape), "fwdbwd" forward + backward from a given
output gradient g (y.backward(g); temper copies g into y's gradient).
"step" is one SGD-Nesterov training step of the whole cnn (torch_mnist.py's model).
"""
import argparse, json, os, re, statistics, subprocess, sys, time

SHAPES = [("conv1_1x28x28_32", 128, 1, 28, 28, 32, False), ("conv2_32x14x14_64", 128, 32, 14, 14, 64, True)]


def torch_times(reps, threads):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    out = {}

    def med(f, warm=3):
        for _ in range(warm):
            f()
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t)
        return statistics.median(ts)

    for name, n, c, h, w, o, xgrad in SHAPES:
        conv = nn.Conv2d(c, o, 3, padding=1)
        x = torch.randn(n, c, h, w)

        def fwd():
            with torch.no_grad():
                conv(x)

        xg = x.clone().requires_grad_(xgrad)
        g = torch.randn(n, o, h, w)

        def fwdbwd():
            conv.zero_grad(set_to_none=True)
            xg.grad = None
            conv(xg).backward(g)

        out[name + "/fwd"] = med(fwd, warm=5)
        out[name + "/fwdbwd"] = med(fwdbwd, warm=5)

    net = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    xs = torch.rand(128, 1, 28, 28)
    ys = torch.arange(128) % 10

    def step():
        opt.zero_grad()
        F.cross_entropy(net(xs), ys).backward()
        opt.step()

    out["step"] = med(step, warm=10)
    out["_torch"] = torch.__version__
    return out


def go_times(threads, reps):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    cmd = ["go", "test", "./nn", "-run", "^$", "-bench", "^(BenchmarkCNNConv|BenchmarkCNNStep)$",
           "-benchtime", "10x", "-count", str(reps), "-cpu", str(threads)]
    res = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit("go test failed:\n" + res.stdout + res.stderr)
    samples = {}
    for line in res.stdout.splitlines():
        m = re.match(r"Benchmark(CNNConv/(\S+?)|CNNStep)(-\d+)?\s+\d+\s+([\d.]+) ns/op", line)
        if m:
            key = m.group(2) or "step"
            samples.setdefault(key, []).append(float(m.group(4)) * 1e-9)
    return {k: statistics.median(v) for k, v in samples.items()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--torch-only", action="store_true")
    a = p.parse_args()
    if a.torch_only:
        print(json.dumps(torch_times(a.reps, a.threads)))
        return
    go = go_times(a.threads, a.reps)
    runs = {}
    for label, core in [("default", None), ("SkylakeX", "SkylakeX")]:
        env = dict(os.environ)
        env.pop("OPENBLAS_CORETYPE", None)
        if core:
            env["OPENBLAS_CORETYPE"] = core
        res = subprocess.run([sys.executable, os.path.abspath(__file__), "--torch-only", "--reps", str(a.reps),
                              "--threads", str(a.threads)], env=env, capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit("torch run failed:\n" + res.stderr)
        runs[label] = json.loads(res.stdout.strip().splitlines()[-1])
    tv = runs["default"].pop("_torch")
    runs["SkylakeX"].pop("_torch")
    print(f"threads {a.threads}, median of {a.reps}; pytorch {tv}; times in ms; ratio = temper / pytorch")
    print(f"{'benchmark':34s} {'temper':>9s} {'torch':>9s} {'ratio':>6s} {'torch SkX':>10s} {'ratio':>6s}")
    for k in runs["default"]:
        g, t0, t1 = go.get(k), runs["default"][k], runs["SkylakeX"][k]
        if g is None:
            continue
        print(f"{k:34s} {1e3 * g:9.2f} {1e3 * t0:9.2f} {g / t0:6.2f} {1e3 * t1:10.2f} {g / t1:6.2f}")


if __name__ == "__main__":
    main()
