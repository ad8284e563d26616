#!/usr/bin/python3
"""Time the sgemm shapes of internal/kernel's BenchmarkSgemm in PyTorch (OpenBLAS/MKL).

Run with Debian's python3-torch:  /usr/bin/python3 bench/sgemm/torch_sgemm.py [--threads 2]
Set OPENBLAS_CORETYPE=SkylakeX in the environment to force OpenBLAS's AVX-512 kernels, and
OPENBLAS_NUM_THREADS to the thread count: --threads (torch.set_num_threads) alone does not
limit OpenBLAS's own threads (run.sh sets both).
Prints one line per shape: "<name> <GFLOP/s>", same names as the Go benchmark.
Each shape computes C = op(A) @ op(B) into a preallocated C (torch.mm(out=...)) with the
transposes expressed as strided views, as a framework would call it.
"""
import argparse
import time

import torch

SHAPES = [
    # name, transA, transB, m, n, k
    ("sq128", False, False, 128, 128, 128),
    ("sq256", False, False, 256, 256, 256),
    ("sq512", False, False, 512, 512, 512),
    ("sq1024", False, False, 1024, 1024, 1024),
    ("fc1_fwd_NT_128x512x784", False, True, 128, 512, 784),
    ("fc1_dX_NN_128x784x512", False, False, 128, 784, 512),
    ("fc1_dW_TN_512x784x128", True, False, 512, 784, 128),
    ("fc2_fwd_NT_128x512x512", False, True, 128, 512, 512),
    ("fc2_dX_NN_128x512x512", False, False, 128, 512, 512),
    ("fc2_dW_TN_512x512x128", True, False, 512, 512, 128),
    ("fc3_fwd_NT_128x10x512", False, True, 128, 10, 512),
    ("fc3_dX_NN_128x512x10", False, False, 128, 512, 10),
    ("fc3_dW_TN_10x512x128", True, False, 10, 512, 128),
]


def bench(trans_a, trans_b, m, n, k, min_time):
    g = torch.Generator().manual_seed(1)
    a = torch.rand(k, m, generator=g).t() if trans_a else torch.rand(m, k, generator=g)
    b = torch.rand(n, k, generator=g).t() if trans_b else torch.rand(k, n, generator=g)
    c = torch.empty(m, n)
    for _ in range(3):
        torch.mm(a, b, out=c)
    best = float("inf")
    # Best of 5 repetitions of a loop lasting >= min_time, like go test -bench's b.N loop.
    for _ in range(5):
        reps, elapsed = 1, 0.0
        while True:
            t0 = time.perf_counter()
            for _ in range(reps):
                torch.mm(a, b, out=c)
            elapsed = time.perf_counter() - t0
            if elapsed >= min_time:
                break
            reps *= 2
        best = min(best, elapsed / reps)
    return 2.0 * m * n * k / best / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--min-time", type=float, default=0.2)
    ap.add_argument("--list", action="store_true", help="print the shape names and exit")
    args = ap.parse_args()
    if args.list:
        for s in SHAPES:
            print(s[0])
        return
    torch.set_num_threads(args.threads)
    for name, ta, tb, m, n, k in SHAPES:
        print(f"{name} {bench(ta, tb, m, n, k, args.min_time):.2f}", flush=True)


if __name__ == "__main__":
    main()
