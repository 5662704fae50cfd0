// Op-by-op profile of ONE AtManRL mask-fit step (issue 31 item 1) on wasm (SIMD, one thread):
// the ~10M-parameter bench config of bench/fit.bench.ts (D=384, L=6, H=6, Hkv=2, I=1024,
// V=2048), 8 items × CoT 128 (prompt 128, delimiter 1, answer 4), prefix reuse on, i.e. exactly
// what fitSaliencyMasks runs per step: bias from θ, forward of the suffix over the cached prefix,
// gold-answer CE, backward to θ, AdamW update. `tf.profile` records every kernel (forward and
// backward) with its wall time (the wasm backend times each kernel call synchronously); the table
// aggregates step 2's kernels of a 3-step fit by kernel name (time, count, share),
// then lists the GEMM shapes, each re-timed alone with tf.matMul (minimum of REPS) as the XNNPACK
// side of the GEMM ratio; `bench/profile-fit.py` times the same shapes with PyTorch.
//
// Not part of `pnpm test` or `pnpm bench` (a script, not a *.bench.ts). Run from packages/saliency:
//   pnpm build && node bench/profile-fit.mjs     (PROFILE_B, PROFILE_COT, PROFILE_PROMPT, PROFILE_REPS,
//   PROFILE_MODEL=modes to change)
//   OPENBLAS_CORETYPE=Cooperlake /usr/bin/python3 bench/profile-fit.py   (reads the JSON below)
//   PROFILE_GEMM_ONLY=1 node bench/profile-fit.mjs   (re-times the last profile's GEMM shapes only)
// Writes .test-results/profile-fit.json. Timings on a loaded machine are contention: use shares
// and ratios measured in one sitting.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@atmanrl/attention-mask/node';
import { createRandomModel, parseLlamaConfig } from '@atmanrl/model';
import { fitSaliencyMasks } from '@atmanrl/saliency';
import * as tf from '@tensorflow/tfjs-core';

const B = Number(process.env.PROFILE_B ?? 8);
const COT = Number(process.env.PROFILE_COT ?? 128);
const REPS = Number(process.env.PROFILE_REPS ?? 20);
// PROFILE_ROWS=r times a block of at most r rows and scales by m / r: on a loaded machine the
// minimum over repetitions only finds an uncontended run for calls shorter than a time slice.
const ROWS = Number(process.env.PROFILE_ROWS ?? 0);
// PROFILE_MODEL=modes: the modes recipe's policy shape (experiments/modes-cpu/sft-model's
// config.json: D=128, L=4, byte vocabulary) with random weights and a 13-token prompt, where a
// step is dispatch-bound (issue 31: apps/trainer README, "Benchmark").
const MODES = process.env.PROFILE_MODEL === 'modes';
const here = dirname(fileURLToPath(import.meta.url));
const CONFIG = MODES
  ? parseLlamaConfig(
      JSON.parse(
        readFileSync(join(here, '../../../experiments/modes-cpu/sft-model/config.json'), 'utf8'),
      ),
    )
  : {
      vocab_size: 2048,
      hidden_size: 384,
      intermediate_size: 1024,
      num_hidden_layers: 6,
      num_attention_heads: 6,
      num_key_value_heads: 2,
      tie_word_embeddings: true,
      rope_theta: 500000,
    };

const PROMPT = Number(process.env.PROFILE_PROMPT ?? (MODES ? 13 : 128));
function items(batch, prompt, cot) {
  const ids = (n, salt) =>
    Array.from({ length: n }, (_, i) => (i * 7919 + salt * 104729) % CONFIG.vocab_size);
  return Array.from({ length: batch }, (_, b) => ({
    promptIds: ids(prompt, b),
    cotIds: ids(cot, b + 100),
    delimiterIds: [7],
    goldAnswerIds: ids(4, b + 200),
  }));
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const loadBefore = load();
const backend = await initBackend({ prefer: 'wasm' });
const outDir = join(here, '..', '.test-results');
if (process.env.PROFILE_GEMM_ONLY) {
  // Re-time the GEMM shapes of the last profile only (REPS each), e.g. right before the PyTorch
  // side, and update them in the JSON.
  const file = join(outDir, 'profile-fit.json');
  const prev = JSON.parse(readFileSync(file, 'utf8'));
  for (const g of prev.gemm) {
    g.cachedMs = await timeGemm(g.batch, g.m, g.n, g.k, false);
    g.freshMs = await timeGemm(g.batch, g.m, g.n, g.k, true);
    g.gflopsFresh = (2 * g.batch * g.m * g.n * g.k) / 1e9 / (g.freshMs / 1e3);
    console.info(
      `${g.batch}·${g.m}·${g.n}·${g.k}: cached ${g.cachedMs.toFixed(2)} ms, fresh ${g.freshMs.toFixed(2)} ms`,
    );
  }
  prev.loadBefore = loadBefore;
  prev.loadAfter = load();
  prev.gemmReps = REPS;
  prev.gemmRows = ROWS;
  writeFileSync(file, JSON.stringify(prev, null, 1));
  process.exit(0);
}
const model = createRandomModel(CONFIG, 0);
const fitItems = items(B, PROMPT, COT);

// A 3-step fit under tf.profile; onStep marks where each step's kernels end in the profile's
// kernel list (the engine appends to it as kernels run), so the kernels between the marks after
// step 1 and step 2 are exactly step 2: bias from θ, suffix forward over the cached prefix, CE,
// backward to θ, AdamW update. Step 1 is the warm-up; the prefix and CE evaluations fall outside.
const marks = [];
const stamps = [];
const info = await tf.profile(() =>
  fitSaliencyMasks(model, fitItems, {
    steps: 3,
    onStep: () => {
      marks.push(tf.engine().state.activeProfile.kernels.length);
      stamps.push(performance.now());
    },
  }),
);
const kernels = info.kernels.slice(marks[0], marks[1]);
const stepWallMs = stamps[1] - stamps[0];

const byName = new Map();
const gemm = new Map();
for (const k of kernels) {
  const ms = k.kernelTimeMs;
  const a = byName.get(k.name) ?? { name: k.name, ms: 0, count: 0 };
  a.ms += ms;
  a.count++;
  byName.set(k.name, a);
  if (k.name === 'BatchMatMul' || k.name === '_FusedMatMul') {
    const [sa, sb] = k.inputShapes;
    const so = k.outputShapes[0];
    const key = `${sa.join('x')} · ${sb.join('x')} -> ${so.join('x')}`;
    const g = gemm.get(key) ?? { a: sa, b: sb, out: so, ms: 0, count: 0 };
    g.ms += ms;
    g.count++;
    gemm.set(key, g);
  }
}
// tf.customGrad ops (attention-mask's matMul) appear as "unnamed scope" whose time INCLUDES the
// kernels they ran, which are listed on their own too: left out of the total and the shares.
const scopes = byName.get('unnamed scope') ?? { ms: 0, count: 0 };
byName.delete('unnamed scope');
const total = [...byName.values()].reduce((s, a) => s + a.ms, 0);
const rows = [...byName.values()].sort((x, y) => y.ms - x.ms);

// GEMM geometry: output [.., m, n] and the contracted size k (the input dim that is neither m nor n).
function geometry(a, out) {
  const m = out[out.length - 2];
  const n = out[out.length - 1];
  const batch = out.slice(0, -2).reduce((p, x) => p * x, 1);
  const a2 = a.slice(-2);
  const k = a2[0] === m && a2[1] !== m ? a2[1] : a2[0] === m ? a2[1] : a2[0];
  return { batch, m, n, k };
}
// Re-time every GEMM shape alone with tf.matMul on [batch,m,k]·[batch,k,n], minimum of REPS
// after a warm-up: once with the same right-hand tensor every call ("cached") and once with a new
// one every call ("fresh", as in the fit, where every right-hand side is a new activation).
async function timeGemm(batch, mFull, n, k, fresh) {
  const m = ROWS > 0 ? Math.min(ROWS, mFull) : mFull;
  const x = tf.randomNormal([batch, m, k]);
  let y = tf.randomNormal([batch, k, n]);
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < REPS + 1; r++) {
    if (fresh && r > 0) {
      y.dispose();
      y = tf.randomNormal([batch, k, n]);
      await y.data();
    }
    const s = performance.now();
    const z = tf.matMul(x, y);
    await z.data();
    const e = performance.now() - s;
    z.dispose();
    if (r > 0) best = Math.min(best, e);
  }
  x.dispose();
  y.dispose();
  return (best * mFull) / m;
}
const gemmRows = [];
const gemmTotal = [...gemm.values()].reduce((a, g) => a + g.ms, 0);
// shapes with at least 1 % of the step's GEMM time (the rest is listed in the JSON only)
for (const [key, g] of [...gemm].sort((x, y) => y[1].ms - x[1].ms)) {
  if (g.ms < 0.01 * gemmTotal) continue;
  const { batch, m, n, k } = geometry(g.a, g.out);
  const cachedMs = await timeGemm(batch, m, n, k, false);
  const freshMs = await timeGemm(batch, m, n, k, true);
  const gflop = (2 * batch * m * n * k) / 1e9;
  gemmRows.push({
    key,
    batch,
    m,
    n,
    k,
    count: g.count,
    profileMs: g.ms,
    cachedMs,
    freshMs,
    gflopsFresh: gflop / (freshMs / 1e3),
  });
}
// The same step without the profiler (its per-kernel timers and bookkeeping cost time too).
const plainStamps = [];
await fitSaliencyMasks(model, fitItems, {
  steps: 3,
  onStep: () => plainStamps.push(performance.now()),
});
const plainStepMs = Math.min(plainStamps[1] - plainStamps[0], plainStamps[2] - plainStamps[1]);
const loadAfter = load();

const pct = (x) => `${((100 * x) / total).toFixed(1)} %`;
const lines = [
  `one fit step, B=${B} × CoT ${COT} (prompt ${PROMPT}, delimiter 1, answer 4), prefix reuse, backend ${backend.backend ?? backend.name ?? JSON.stringify(backend)}; ` +
    `load average before ${loadBefore}, after ${loadAfter} (loaded machine: shares, not times)`,
  `step wall time: ${plainStepMs.toFixed(0)} ms unprofiled (min of 2), ${stepWallMs.toFixed(0)} ms profiled; sum of its kernels ${total.toFixed(0)} ms ` +
    `(${kernels.length - scopes.count} kernel calls; ${scopes.count} customGrad scopes, ${scopes.ms.toFixed(0)} ms, counted in their kernels)`,
  '',
  '| kernel | ms | calls | share |',
  '|---|---:|---:|---:|',
  ...rows.map((r) => `| ${r.name} | ${r.ms.toFixed(1)} | ${r.count} | ${pct(r.ms)} |`),
  '',
  '| GEMM (inputs -> output) | batch·m·n·k | calls | ms in step | ms/call in step | alone, cached rhs (ms) | alone, fresh rhs (ms) | GFLOP/s fresh |',
  '|---|---|---:|---:|---:|---:|---:|---:|',
  ...gemmRows.map(
    (g) =>
      `| ${g.key} | ${g.batch}·${g.m}·${g.n}·${g.k} | ${g.count} | ${g.profileMs.toFixed(1)} | ${(g.profileMs / g.count).toFixed(2)} | ${g.cachedMs.toFixed(2)} | ${g.freshMs.toFixed(2)} | ${g.gflopsFresh.toFixed(1)} |`,
  ),
];
console.info(lines.join('\n'));
mkdirSync(outDir, { recursive: true });
writeFileSync(
  join(outDir, 'profile-fit.json'),
  JSON.stringify(
    {
      B,
      COT,
      loadBefore,
      loadAfter,
      stepWallMs,
      plainStepMs,
      total,
      scopes,
      kernels: rows,
      gemm: gemmRows,
    },
    null,
    1,
  ),
);
model.dispose();
