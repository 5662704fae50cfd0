#!/usr/bin/env python3
"""PyTorch CPU reference of bench/fit.bench.ts: the same AtManRL mask fit on the same ~10M-parameter
Llama (D=384, L=6, H=6, Hkv=2, I=1024, V=2048, tied head; float32, 1 thread), same items (prompt
128, CoT 32/128, delimiter 1, answer 4, ids (i*7919 + salt*104729) % 2048), same objective (sum over
items of the mean gold-answer CE under bias 10*min(theta, 0) on CoT keys, every layer, head and
query row) and AdamW (lr 1e-3, betas (0.6, 0.9999), weight decay 0.05), in two variants:
naive (the whole sequence every step) and prefix reuse (prompt[:-1] keys/values computed once);
in both the last layer computes queries, attention and MLP for the 4 answer-predicting rows only
(the project's `outputRows`; the loss reads no other row).
Weights are random (timing only). Prints ms per fit step, the minimum over BENCH_STEPS (default 3)
steps after one warm-up step; with the project's numbers from .test-results/fit-bench.json
(written by `pnpm --filter @atmanrl/saliency bench`), also the project/PyTorch ratios.
Run (from packages/saliency):  OPENBLAS_CORETYPE=Cooperlake /usr/bin/python3 bench/fit_torch.py
"""
import json
import math
import os
import time

import torch

torch.set_num_threads(1)
torch.manual_seed(0)
V, D, I, L, H, KV = 2048, 384, 1024, 6, 6, 2
HD = D // H
THETA = 500000.0
STEPS = int(os.environ.get("BENCH_STEPS", "3"))


def p(*shape):
    return torch.randn(*shape) * 0.02  # frozen: no requires_grad


embed = p(V, D)
layers = [dict(q=p(H * HD, D), k=p(KV * HD, D), v=p(KV * HD, D), o=p(D, H * HD),
               g=p(I, D), u=p(I, D), d=p(D, I), n1=torch.ones(D), n2=torch.ones(D))
          for _ in range(L)]
norm = torch.ones(D)
inv = 1.0 / (THETA ** (torch.arange(0, HD, 2).float() / HD))


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w


def rope(x, pos):
    ang = pos[:, None].float() * inv[None]
    ang = torch.cat([ang, ang], -1)
    h = HD // 2
    return x * ang.cos() + torch.cat([-x[..., h:], x[..., :h]], -1) * ang.sin()


def forward(ids, past, bias, rows):
    """ids [B,T] from position `past`; cache: list of (k, v) per layer or None; bias [B,Tk].
    Returns rows [r0, r1) of the T rows: the last layer computes queries, attention and MLP for
    those rows only (every row still gives its keys and values), as the project's fit does."""
    cache, start = past
    b, t = ids.shape
    pos = torch.arange(start, start + t)
    x = embed[ids]
    for li, w in enumerate(layers):
        h = rms(x, w["n1"])
        r0, r1 = rows if li == len(layers) - 1 else (0, t)
        q = rope((h[:, r0:r1] @ w["q"].T).view(b, r1 - r0, H, HD).transpose(1, 2), pos[r0:r1])
        k = rope((h @ w["k"].T).view(b, t, KV, HD).transpose(1, 2), pos)
        v = (h @ w["v"].T).view(b, t, KV, HD).transpose(1, 2)
        if cache is not None:
            k = torch.cat([cache[li][0], k], 2)
            v = torch.cat([cache[li][1], v], 2)
        kk = k.repeat_interleave(H // KV, 1)
        vv = v.repeat_interleave(H // KV, 1)
        s = q @ kk.transpose(-1, -2) / math.sqrt(HD)  # [B,H,T,Tk]
        tk = kk.shape[2]
        mask = torch.ones(t, tk, dtype=torch.bool).triu(tk - t + 1)[r0:r1]
        s = s.masked_fill(mask, float("-inf")) + bias[:, None, None, :]
        a = torch.softmax(s, -1) @ vv
        x = x[:, r0:r1] + a.transpose(1, 2).reshape(b, r1 - r0, D) @ w["o"].T
        h2 = rms(x, w["n2"])
        x = x + (torch.nn.functional.silu(h2 @ w["g"].T) * (h2 @ w["u"].T)) @ w["d"].T
    return rms(x, norm)  # [B,R,D]


def prefix_cache(ids):
    """Keys/values of every layer for ids [B,P-1] (no bias reaches them: causality)."""
    b, t = ids.shape
    pos = torch.arange(t)
    cache = []
    with torch.no_grad():
        x = embed[ids]
        for w in layers:
            h = rms(x, w["n1"])
            q = rope((h @ w["q"].T).view(b, t, H, HD).transpose(1, 2), pos)
            k = rope((h @ w["k"].T).view(b, t, KV, HD).transpose(1, 2), pos)
            v = (h @ w["v"].T).view(b, t, KV, HD).transpose(1, 2)
            cache.append((k, v))
            kk = k.repeat_interleave(H // KV, 1)
            vv = v.repeat_interleave(H // KV, 1)
            s = q @ kk.transpose(-1, -2) / math.sqrt(HD)
            s = s.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
            x = x + (torch.softmax(s, -1) @ vv).transpose(1, 2).reshape(b, t, D) @ w["o"].T
            h2 = rms(x, w["n2"])
            x = x + (torch.nn.functional.silu(h2 @ w["g"].T) * (h2 @ w["u"].T)) @ w["d"].T
    return cache


def ids(n, salt):
    return [(i * 7919 + salt * 104729) % V for i in range(n)]


def fit_ms(batch, cot, reuse, prompt=128):
    seqs = [ids(prompt, b) + ids(cot, b + 100) + [7] + ids(4, b + 200) for b in range(batch)]
    full = torch.tensor(seqs)  # [B,T]
    t = full.shape[1]
    cot0 = prompt  # CoT key columns [prompt, prompt+cot)
    gold = full[:, t - 4:]  # [B,4], predicted by rows t-5 .. t-2
    theta = torch.full((batch, cot), -0.4, requires_grad=True)
    opt = torch.optim.AdamW([theta], lr=1e-3, betas=(0.6, 0.9999), weight_decay=0.05)
    past = (prefix_cache(full[:, :prompt - 1]), prompt - 1) if reuse else (None, 0)
    inp = full[:, prompt - 1:] if reuse else full

    def step():
        bias = torch.zeros(batch, t)
        bias = torch.cat([bias[:, :cot0], 10 * theta.clamp(max=0), bias[:, cot0 + cot:]], 1)
        tq = inp.shape[1]
        rows = forward(inp, past, bias, (tq - 5, tq - 1))  # [B,4,D]: the answer-predicting rows
        logp = torch.log_softmax(rows @ embed.T, -1)  # [B,4,V]
        loss = -logp.gather(2, gold[:, :, None]).mean((1, 2)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()  # warm-up
    times = []
    for _ in range(STEPS):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return 1000 * min(times)


here = os.path.dirname(os.path.abspath(__file__))
project_file = os.path.join(here, "..", ".test-results", "fit-bench.json")
project = {}
if os.path.exists(project_file):
    for r in json.load(open(project_file)):  # vitest may run a bench more than once: keep the minimum
        key = (r["what"], r["batch"], r["cot"], r["prompt"])
        project[key] = min(project.get(key, math.inf), r["stepMs"])

print(f"torch {torch.__version__}, threads={torch.get_num_threads()}, "
      f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}")
print("| items x CoT | PyTorch naive ms/step | PyTorch prefix reuse ms/step | project naive / PyTorch naive | project reuse / PyTorch reuse |")
print("|---|---|---|---|---|")
for cot in (32, 128):
    for batch in (1, 8):
        naive = fit_ms(batch, cot, False)
        reuse = fit_ms(batch, cot, True)
        pn = project.get(("fit naive", batch, cot, 128))
        pr = project.get(("fit reuse", batch, cot, 128))
        rn = f"{pn / naive:.1f}x" if pn else "-"
        rr = f"{pr / reuse:.1f}x" if pr else "-"
        print(f"| {batch} x {cot} | {naive:.0f} | {reuse:.0f} | {rn} | {rr} |")
