#!/usr/bin/env python3
"""PyTorch CPU baseline for bench/model.bench.ts: the same ~10M-parameter Llama (float32, 1 thread).
Run (from packages/model):  OPENBLAS_CORETYPE=Cooperlake /usr/bin/python3 bench/model_torch.py
Prints tokens/s for forward, forward+backward and generation of 8 tokens with/without a KV cache.
"""
import math
import time

import torch

torch.set_num_threads(1)
torch.manual_seed(0)
V, D, I, L, H, KV = 2048, 384, 1024, 6, 6, 2
HD = D // H
THETA = 500000.0
NEW = 8


def p(*shape):
    return torch.nn.Parameter(torch.randn(*shape) * 0.02)


embed = p(V, D)
layers = [dict(q=p(H * HD, D), k=p(KV * HD, D), v=p(KV * HD, D), o=p(D, H * HD),
               g=p(I, D), u=p(I, D), d=p(D, I), n1=torch.nn.Parameter(torch.ones(D)),
               n2=torch.nn.Parameter(torch.ones(D))) for _ in range(L)]
norm = torch.nn.Parameter(torch.ones(D))
inv = 1.0 / (THETA ** (torch.arange(0, HD, 2).float() / HD))


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w


def rope(x, pos):
    ang = pos[:, None].float() * inv[None]
    ang = torch.cat([ang, ang], -1)
    h = HD // 2
    return x * ang.cos() + torch.cat([-x[..., h:], x[..., :h]], -1) * ang.sin()


def forward(ids, cache=None):
    b, t = ids.shape
    past = 0 if cache is None or cache[0] is None else cache[0][0].shape[2]
    pos = torch.arange(past, past + t)
    x = embed[ids]
    for li, w in enumerate(layers):
        h = rms(x, w["n1"])
        q = rope((h @ w["q"].T).view(b, t, H, HD).transpose(1, 2), pos)
        k = rope((h @ w["k"].T).view(b, t, KV, HD).transpose(1, 2), pos)
        v = (h @ w["v"].T).view(b, t, KV, HD).transpose(1, 2)
        if cache is not None:
            if cache[li] is not None:
                k = torch.cat([cache[li][0], k], 2)
                v = torch.cat([cache[li][1], v], 2)
            cache[li] = (k, v)
        kk = k.repeat_interleave(H // KV, 1)
        vv = v.repeat_interleave(H // KV, 1)
        s = q @ kk.transpose(-1, -2) / math.sqrt(HD)
        tk = kk.shape[2]
        mask = torch.ones(t, tk, dtype=torch.bool).triu(tk - t + 1)
        a = torch.softmax(s.masked_fill(mask, float("-inf")), -1) @ vv
        x = x + a.transpose(1, 2).reshape(b, t, D) @ w["o"].T
        h2 = rms(x, w["n2"])
        g = h2 @ w["g"].T
        x = x + (torch.nn.functional.silu(g) * (h2 @ w["u"].T)) @ w["d"].T
    return rms(x, norm) @ embed.T


def generate(prompt, use_cache):
    ids = list(prompt)
    cache = [None] * L if use_cache else None
    with torch.no_grad():
        for step in range(NEW):
            inp = torch.tensor([ids[-1:]]) if use_cache and step > 0 else torch.tensor([ids])
            logits = forward(inp, cache)
            ids.append(int(logits[0, -1].argmax()))


def decode_step(prompt, use_cache, cache):
    with torch.no_grad():
        if use_cache:
            c = list(cache)  # do not grow the shared prefix cache
            forward(torch.tensor([[5]]), c)
        else:
            forward(torch.tensor([prompt + [5]]))[:, -1]


def timeit(fn, reps):
    """Minimum over reps after one warm-up (the dev machine is shared; the minimum is the least
    disturbed run, and the TF.js numbers in the README are minimums too)."""
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def fwd_bwd(prompt, half):
    logits = forward(torch.tensor([prompt]))[0, half - 1:-1]
    lp = torch.log_softmax(logits, -1).gather(1, torch.tensor(prompt[half:])[:, None]).sum()
    lp.backward()
    for prm in [embed, norm] + [v for w in layers for v in w.values()]:
        prm.grad = None


print(f"torch {torch.__version__}, threads={torch.get_num_threads()}")
print("| T | forward tok/s | fwd+bwd tok/s | generate 8 (cache) tok/s | decode step cache tok/s | decode step no cache tok/s |")
for T in (64, 256, 512):
    prompt = [(i * 7919) % V for i in range(T)]
    with torch.no_grad():
        f = timeit(lambda: forward(torch.tensor([prompt])), 3)
    fb = timeit(lambda: fwd_bwd(prompt, T // 2), 3)
    gc = timeit(lambda: generate(prompt, True), 3)
    cache = [None] * L
    with torch.no_grad():
        forward(torch.tensor([prompt]), cache)
    dc = timeit(lambda: decode_step(prompt, True, cache), 3)
    du = timeit(lambda: decode_step(prompt, False, None), 3)
    print(f"| {T} | {T / f:.0f} | {T / fb:.0f} | {NEW / gc:.1f} | {1 / dc:.1f} | {1 / du:.1f} |")
