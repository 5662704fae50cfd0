#!/usr/bin/env python3
"""The PyTorch side of the GEMM ratio of bench/profile-fit.mjs (issue 31 item 1): times
torch.matmul (float32, 1 thread, OpenBLAS) at every GEMM shape of one wasm mask-fit step, read from
.test-results/profile-fit.json, as [batch,m,k] @ [batch,k,n] (minimum of REPS after a warm-up,
a new right-hand side every call as in the fit), and prints XNNPACK (wasm, fresh and cached
right-hand side) / PyTorch per shape and weighted by each shape's share of the step's GEMM time.
Run (from packages/saliency), right after `node bench/profile-fit.mjs`:
    OPENBLAS_CORETYPE=Cooperlake /usr/bin/python3 bench/profile-fit.py
(docs/toolchain.md: without OPENBLAS_CORETYPE Debian's OpenBLAS falls back to SSE3 kernels here).
"""
import json
import os
import time

import torch

torch.set_num_threads(1)
REPS = int(os.environ.get("PROFILE_REPS", "20"))
here = os.path.dirname(os.path.abspath(__file__))
data = json.load(open(os.path.join(here, "..", ".test-results", "profile-fit.json")))


ROWS = int(os.environ.get("PROFILE_ROWS", "0"))  # as in profile-fit.mjs: time <= ROWS rows, scale


def time_gemm(batch, m_full, n, k):
    m = min(ROWS, m_full) if ROWS > 0 else m_full
    x = torch.randn(batch, m, k)
    best = float("inf")
    for r in range(REPS + 1):
        y = torch.randn(batch, k, n)
        t0 = time.perf_counter()
        torch.matmul(x, y)
        dt = (time.perf_counter() - t0) * 1e3
        if r > 0:
            best = min(best, dt)
    return best * m_full / m


try:
    core = torch.__config__.show().split("\n")
except Exception:  # noqa: BLE001
    core = []
print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} thread, OPENBLAS_CORETYPE="
      f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; load average {os.getloadavg()}")
print(f"wasm side measured at load {data['loadBefore']} .. {data['loadAfter']}, "
      f"rows per timed block: wasm {data.get('gemmRows', 0) or 'all'}, PyTorch {ROWS or 'all'}\n")
print("| GEMM batch·m·n·k | step ms (wasm) | wasm fresh ms | wasm cached ms | PyTorch ms | fresh / PyTorch | cached / PyTorch |")
print("|---|---:|---:|---:|---:|---:|---:|")
w_step = w_fresh = w_cached = 0.0
for g in data["gemm"]:
    if g["m"] * g["n"] * g["k"] < 1000:
        continue
    pt = time_gemm(g["batch"], g["m"], g["n"], g["k"])
    rf, rc = g["freshMs"] / pt, g["cachedMs"] / pt
    w_step += g["profileMs"]
    w_fresh += g["profileMs"] * rf
    w_cached += g["profileMs"] * rc
    print(f"| {g['batch']}·{g['m']}·{g['n']}·{g['k']} | {g['profileMs']:.1f} | {g['freshMs']:.2f} | "
          f"{g['cachedMs']:.2f} | {pt:.3f} | {rf:.1f}× | {rc:.1f}× |")
print(f"\nGEMM ratio weighted by each shape's time in the step: fresh {w_fresh / w_step:.1f}×, "
      f"cached {w_cached / w_step:.1f}× (XNNPACK wasm / PyTorch OpenBLAS)")
