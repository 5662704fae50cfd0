#!/usr/bin/python3
"""PyTorch CPU baseline for bench/attention.bench.ts (same shapes and math, float32).

Run (from packages/attention-mask):
    OPENBLAS_CORETYPE=Cooperlake /usr/bin/python3 bench/attention_torch.py
OPENBLAS_CORETYPE fixes Debian OpenBLAS's misdetection of this CPU (toolchain.md); one thread.
"""
import ctypes
import math
import time

import torch

torch.set_num_threads(1)
B, H, HKV, D = 8, 8, 2, 64


def corename():
    for lib in ("libopenblas.so.0", "libopenblasp-r0.3.21.so"):
        try:
            f = ctypes.CDLL(lib).openblas_get_corename
            f.restype = ctypes.c_char_p
            return f().decode()
        except OSError:
            continue
    return "unknown"


def attention(q, k, v, bias):
    t = q.shape[2]
    rep = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(rep, dim=1)
    v = v.repeat_interleave(rep, dim=1)
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    scores = scores + bias[:, None, None, :]
    causal = torch.ones(t, t, dtype=torch.bool).tril()
    scores = scores.masked_fill(~causal, float("-inf"))
    return torch.matmul(torch.softmax(scores, -1), v)


def timeit(fn, reps):
    fn()
    best = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best.append(time.perf_counter() - t0)
    return sum(best) / len(best) * 1000


print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, openblas core {corename()}")
for T in (64, 256, 512):
    g = torch.Generator().manual_seed(0)
    q = torch.randn(B, H, T, D, generator=g, requires_grad=True)
    k = torch.randn(B, HKV, T, D, generator=g, requires_grad=True)
    v = torch.randn(B, HKV, T, D, generator=g, requires_grad=True)
    bias = torch.randn(B, T, generator=g, requires_grad=True)

    def fwd():
        with torch.no_grad():
            attention(q, k, v, bias)

    def fwd_bwd():
        out = attention(q, k, v, bias).sum()
        torch.autograd.grad(out, (q, k, v, bias))

    print(f"T={T}: forward {timeit(fwd, 5):.2f} ms, forward+backward {timeit(fwd_bwd, 5):.2f} ms")
