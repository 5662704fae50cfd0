// GPU check (issue 11): conformance of attention + model on the webgpu backend, then benchmarks
// (matmul GFLOP/s, matMul formulations, ~40M-parameter model forward+backward tokens/s, a 200-step
// mask-fit-like loop with the fused kernels on and off) and, issue 21, the Llama-3.2-1B
// configuration with random weights: batch-8 generation, an 8-rollout mask fit, a 64-completion
// GRPO update (token budget + recomputation), peak tensor memory per phase, the matmul share of a
// fit step. Ends with a markdown table (gpu-check.md beside gpu-check.json).
// Bundled by bundle.mjs into dist/check.mjs; run through ../gpu-check.sh.
// Usage: node check.mjs --out DIR [--small] [--budget-s 480] [--fp32-peak-tflops X]
// --small: tiny shapes for a dry run on a software adapter (lavapipe); the 1B layout is reduced
// (2 layers, 1 kv head, vocab 512) by the same reduceLlamaConfig that gives the full size.
// Imports the packages through their public entries only (tooling/scripts/check-deps.mjs checks).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  attention,
  forceMatMulFormulation,
  initBackend,
  matMul,
  matMulFormulation,
} from '@atmanrl/attention-mask/node';
import { createOptimizer, grpoStep, resolveGrpoConfig, updatePolicy } from '@atmanrl/grpo';
import {
  buildWeights,
  countParameters,
  createRandomModel,
  createRng,
  createTinyTokenizer,
  deviceBindingLimitBytes,
  LlamaModel,
  loadModel,
  loadTokenizer,
  measurePeakMemory,
  memoryShape,
  parseLlamaConfig,
  reduceLlamaConfig,
  TINY_VOCAB_SIZE,
} from '@atmanrl/model/node';
import { createSaliencyReward, fitSaliencyMasks } from '@atmanrl/saliency';
import * as tf from '@tensorflow/tfjs-core';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const small = flag('--small');
const outDir = opt('--out', process.env.OUT || '.');
const budgetS = Number(opt('--budget-s', '480'));
const fp32PeakTflops = opt('--fp32-peak-tflops', null);
const fixtures = opt('--fixtures', join(import.meta.dirname, 'fixtures'));
const t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;

const report = {
  started: new Date().toISOString(),
  mode: small ? 'small (dry run)' : 'full',
  node: process.versions.node,
  backend: null,
  conformance: [],
  matmul: [],
  formulation: [],
  model: null,
  maskFit: null,
  maskFitUnfused: null,
  llama1b: null,
  skipped: [],
  errors: [],
  seconds: {},
};
mkdirSync(outDir, { recursive: true });
const reportPath = join(outDir, 'gpu-check.json');
const save = () => {
  report.seconds.total = Number(elapsed().toFixed(1));
  writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
};
const mdPath = join(outDir, 'gpu-check.md');
const log = (m) => process.stdout.write(`[${elapsed().toFixed(1)}s] ${m}\n`);

/** Runs a section, records its time and any error, and saves the report after it. */
async function section(name, minLeftS, fn) {
  if (budgetS - elapsed() < minLeftS) {
    report.skipped.push(`${name}: ${(budgetS - elapsed()).toFixed(0)} s left of the budget`);
    log(`skip ${name}`);
    save();
    return;
  }
  const s = performance.now();
  log(`start ${name}`);
  try {
    await fn();
  } catch (error) {
    report.errors.push(`${name}: ${error?.stack ?? error}`);
    log(`ERROR in ${name}: ${error?.stack ?? error}`);
  }
  report.seconds[name] = Number(((performance.now() - s) / 1000).toFixed(1));
  save();
}

function maxAbsDiff(a, b) {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    m = Math.max(m, d);
  }
  return m;
}
let prefix = '';
function check(name, diff, tol) {
  const pass = diff < tol;
  report.conformance.push({ name: prefix + name, pass, maxAbsDiff: diff, tolerance: tol });
  if (!pass) log(`FAIL ${name}: ${diff} >= ${tol}`);
}
const num = (xs) =>
  xs.map((x) => (x === '-Infinity' || x === '-inf' ? Number.NEGATIVE_INFINITY : x));
const input = (x) => tf.tensor2d(x, undefined, 'int32');
async function read(run) {
  const t = tf.tidy(run);
  const d = await t.data();
  t.dispose();
  return d;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Times `step` (async, ends with a host read): warm-up runs, then the median of `reps`. */
async function timeIt(step, warm, reps) {
  for (let i = 0; i < warm; i++) await step();
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    await step();
    ms.push(performance.now() - s);
  }
  return { medianMs: Number(median(ms).toFixed(2)), minMs: Number(Math.min(...ms).toFixed(2)) };
}

// ---------------------------------------------------------------------------------------------
// Conformance (same fixtures and tolerances as the packages' golden tests).

async function attentionGolden() {
  const cases = JSON.parse(readFileSync(join(fixtures, 'attention.json'), 'utf8')).cases;
  for (const f of cases) {
    const { B, H, Hkv, Tq, Tk, d } = f.shape;
    const q = tf.tensor4d(num(f.q), [B, H, Tq, d]);
    const k = tf.tensor4d(num(f.k), [B, Hkv, Tk, d]);
    const v = tf.tensor4d(num(f.v), [B, Hkv, Tk, d]);
    const w = tf.tensor4d(num(f.w), [B, H, Tq, d]);
    const bias = f.bias ? tf.tensor2d(num(f.bias), [B, Tk]) : tf.zeros([B, Tk]);
    const opts = {};
    if (f.suppress) opts.suppress = tf.tensor2d(num(f.suppress), [B, Tk]);
    if (f.keyMask) opts.keyMask = tf.tensor2d(num(f.keyMask), [B, Tk]);
    if (f.queryOffset !== undefined) opts.queryOffset = f.queryOffset;
    if (f.suppressShift) opts.suppressShift = f.suppressShift;
    if (f.queries) opts.queries = Array.isArray(f.queries) ? tf.tensor2d(f.queries) : f.queries;
    const run = (qq, kk, vv, bb) =>
      attention(qq, kk, vv, { ...opts, ...(f.bias ? { bias: bb } : {}) });
    const loss = (qq, kk, vv, bb) => tf.sum(tf.mul(run(qq, kk, vv, bb ?? bias), w));
    const out = tf.tidy(() => run(q, k, v, bias));
    const grads = f.bias
      ? tf.grads((a, b, c, e) => loss(a, b, c, e))([q, k, v, bias])
      : tf.grads((a, b, c) => loss(a, b, c))([q, k, v]);
    const [o, gq, gk, gv, gb] = await Promise.all([out, ...grads].map((t) => t.data()));
    tf.dispose([q, k, v, w, bias, out, ...grads, opts.suppress, opts.keyMask]);
    if (opts.queries instanceof tf.Tensor) opts.queries.dispose();
    check(`attention ${f.name}: output`, maxAbsDiff(o, num(f.out)), 2e-5);
    const g = Math.max(
      maxAbsDiff(gq, num(f.grad_q)),
      maxAbsDiff(gk, num(f.grad_k)),
      maxAbsDiff(gv, num(f.grad_v)),
      f.grad_bias ? maxAbsDiff(gb, num(f.grad_bias)) : 0,
    );
    check(`attention ${f.name}: gradients q,k,v,bias`, g, 1e-4);
  }
}

async function modelGolden() {
  const golden = JSON.parse(readFileSync(join(fixtures, 'golden.json'), 'utf8'));
  for (const variant of ['tied', 'untied']) {
    const g = golden.variants[variant];
    const model = await loadModel(join(fixtures, `tiny-llama-${variant}`));
    const bias = tf.tensor2d(g.bias.map((r) => num(r)));
    const plain = await read(() => model.forward(input(g.input_ids)));
    const biased = await read(() => model.forward(input(g.input_ids), { attentionBias: bias }));
    check(`model ${variant}: logits`, maxAbsDiff(plain, g.logits), 5e-5);
    check(`model ${variant}: biased logits`, maxAbsDiff(biased, g.logits_with_bias), 5e-5);
    const [out] = await model.generate([g.greedy_prompt], {
      maxNewTokens: g.greedy_continuation.length,
      eosTokenIds: [],
    });
    const same = JSON.stringify(out.tokenIds) === JSON.stringify(g.greedy_continuation);
    check(`model ${variant}: greedy continuation`, same ? 0 : 1, 0.5);
    bias.dispose();
    model.dispose();
  }
}

const TINY = {
  vocab_size: 300,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rope_theta: 10000,
  tie_word_embeddings: true,
  initializer_range: 0.2,
};
const IDS = [17, 42, 99, 5, 250, 61, 7, 133, 20, 88, 3, 190];

async function kvCache() {
  const model = createRandomModel(TINY, 11);
  const full = await read(() => model.forward(input([IDS])));
  const cache = model.createCache(1);
  const parts = [IDS.slice(0, IDS.length - 3), ...IDS.slice(-3).map((id) => [id])];
  const stitched = new Float32Array(full.length);
  let off = 0;
  for (const part of parts) {
    const l = await read(() => model.forward(input([part]), { cache }));
    stitched.set(l, off);
    off += l.length;
  }
  check('model: KV-cache decoding == full recomputation', maxAbsDiff(full, stitched), 1e-5);
  cache.dispose();
  model.dispose();
}

/** d loss / d theta with bias = 10·min(θ,0) on keys after a cached prefix (cached and full). */
async function biasGrad() {
  const model = createRandomModel(TINY, 11);
  const T = IDS.length;
  const p = 6;
  const cache = model.createCache(1);
  tf.tidy(() => {
    model.forward(input([IDS.slice(0, p)]), { cache });
  });
  const suffix = input([IDS.slice(p)]);
  const target = tf.tensor1d(IDS.slice(p + 1).concat([0]), 'int32');
  const after = tf.tensor2d([Array.from({ length: T }, (_, i) => (i >= p ? 1 : 0))]);
  const lossWith = (theta, useCache) => {
    const bias = tf.mul(tf.mul(10, tf.minimum(theta, 0)), after);
    const logits = useCache
      ? model.forward(suffix, { cache, updateCache: false, attentionBias: bias })
      : tf.slice(model.forward(input([IDS]), { attentionBias: bias }), [0, p, 0], [1, T - p, -1]);
    const logp = tf.logSoftmax(tf.reshape(logits, [T - p, -1]));
    return tf.neg(tf.mean(tf.sum(tf.mul(logp, tf.oneHot(target, TINY.vocab_size)), 1)));
  };
  const theta = tf.tensor2d([Array.from({ length: T }, (_, i) => (i % 2 ? 0.2 - i / 10 : -0.4))]);
  const g1 = tf.grad((t) => lossWith(t, true))(theta);
  const g2 = tf.grad((t) => lossWith(t, false))(theta);
  const [cached, full] = await Promise.all([g1.data(), g2.data()]);
  tf.dispose([g1, g2, theta, suffix, target, after]);
  cache.dispose();
  model.dispose();
  return { cached, full };
}

// ---------------------------------------------------------------------------------------------
// Benchmarks.

async function matmulBench() {
  for (const n of small ? [128, 256] : [1024, 2048, 4096]) {
    const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
    const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
    const reps = small ? 3 : n >= 4096 ? 20 : 50;
    const step = async () => {
      const outs = [];
      for (let i = 0; i < reps; i++) outs.push(tf.matMul(a, b));
      await outs.at(-1).data();
      tf.dispose(outs);
    };
    const t = await timeIt(step, 1, 3);
    const gflops = (2 * n ** 3 * reps) / (t.medianMs / 1000) / 1e9;
    report.matmul.push({ n, reps, ...t, gflops: Number(gflops.toFixed(1)) });
    log(`matmul ${n}: ${gflops.toFixed(1)} GFLOP/s`);
    tf.dispose([a, b]);
  }
}

async function formulationBench() {
  const [B, H, Hkv, T, d] = small ? [1, 4, 2, 64, 32] : [4, 16, 4, 512, 64];
  const [M, K, N] = small ? [128, 128, 128] : [4096, 1024, 4096];
  const q = tf.randomNormal([B, H, T, d], 0, 1, 'float32', 1);
  const k = tf.randomNormal([B, Hkv, T, d], 0, 1, 'float32', 2);
  const v = tf.randomNormal([B, Hkv, T, d], 0, 1, 'float32', 3);
  const bias = tf.randomNormal([B, T], 0, 1, 'float32', 4);
  const x = tf.randomNormal([M, K], 0, 1, 'float32', 5);
  const w = tf.randomNormal([K, N], 0, 1, 'float32', 6);
  const att = () =>
    tf.grads((a, b, c, e) => tf.sum(attention(a, b, c, { bias: e })))([q, k, v, bias]);
  const lin = () => tf.grads((a, b) => tf.sum(matMul(a, b)))([x, w]);
  const values = {};
  for (const f of ['explicit', 'flags']) {
    forceMatMulFormulation(f);
    const entry = { formulation: f };
    for (const [name, fn] of [
      ['attention fwd+bwd', att],
      ['linear fwd+bwd', lin],
    ]) {
      const run = async () => {
        const g = fn();
        await Promise.all(g.map((t) => t.data()));
        tf.dispose(g);
      };
      entry[name] = await timeIt(run, 2, small ? 3 : 7);
      const g = fn();
      values[`${f} ${name}`] = await Promise.all(g.map((t) => t.data()));
      tf.dispose(g);
    }
    report.formulation.push(entry);
    log(`formulation ${f}: ${JSON.stringify(entry)}`);
  }
  forceMatMulFormulation(null);
  // Same numbers either way (float32 summation order may differ in the last bits).
  for (const name of ['attention fwd+bwd', 'linear fwd+bwd']) {
    const a = values[`explicit ${name}`];
    const b = values[`flags ${name}`];
    const diff = Math.max(...a.map((x, i) => maxAbsDiff(x, b[i])));
    report.formulation.push({ compare: name, maxAbsDiff: diff });
  }
  tf.dispose([q, k, v, bias, x, w]);
}

/** ~40M parameters (tied 32k vocabulary, 8 layers of width 512, GQA 8/4 heads). */
const CONFIG_40M = {
  vocab_size: 32000,
  hidden_size: 512,
  intermediate_size: 1536,
  num_hidden_layers: 8,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  rope_theta: 500000,
  tie_word_embeddings: true,
  initializer_range: 0.02,
};
const CONFIG_SMALL = { ...TINY, vocab_size: 512 };

function randomIds(n, vocab, seed) {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % vocab;
  });
}

async function modelBench() {
  const config = small ? CONFIG_SMALL : CONFIG_40M;
  const [B, T] = small ? [2, 32] : [8, 256];
  const model = createRandomModel(config, 1);
  const params = countParameters(parseLlamaConfig(config));
  const prompts = Array.from({ length: B }, (_, b) => randomIds(1, config.vocab_size, b + 1));
  const completions = Array.from({ length: B }, (_, b) =>
    randomIds(T - 1, config.vocab_size, b + 100),
  );
  const loss = () => {
    const { logProbs, mask } = model.sequenceLogProbs(prompts, completions);
    return tf.div(tf.neg(tf.sum(logProbs)), tf.sum(mask));
  };
  const trainStep = async () => {
    const { value, grads } = tf.variableGrads(loss, model.trainableVariables);
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
  };
  const forwardStep = async () => {
    const l = tf.tidy(loss);
    await l.data();
    l.dispose();
  };
  const first = performance.now();
  await trainStep();
  const firstMs = performance.now() - first;
  const fwd = await timeIt(forwardStep, 1, small ? 2 : 5);
  const train = await timeIt(trainStep, 1, small ? 2 : 5);
  report.model = {
    config,
    parameters: params,
    batch: B,
    tokens: B * T,
    firstStepMs: Number(firstMs.toFixed(0)),
    forward: { ...fwd, tokensPerS: Math.round((B * T) / (fwd.medianMs / 1000)) },
    forwardBackward: { ...train, tokensPerS: Math.round((B * T) / (train.medianMs / 1000)) },
  };
  log(`model: ${JSON.stringify(report.model.forwardBackward)}`);
  model.dispose();
}

/** θ per CoT token, bias 10·min(θ,0) on CoT keys for answer rows, Adam on θ only, prompt cached. */
async function maskFitBench() {
  const config = small ? CONFIG_SMALL : CONFIG_40M;
  const [P, C, A, steps] = small ? [8, 16, 4, 20] : [64, 128, 16, 200];
  const T = P + C + A;
  const model = createRandomModel(config, 2, { trainable: false });
  const ids = randomIds(T, config.vocab_size, 7);
  const cache = model.createCache(1);
  tf.tidy(() => {
    model.forward(input([ids.slice(0, P)]), { cache });
  });
  const suffix = input([ids.slice(P)]); // [1, C+A]
  const targets = tf.oneHot(tf.tensor1d(ids.slice(P + C), 'int32'), config.vocab_size); // [A,V]
  const theta = tf.variable(tf.zeros([1, C]), true, 'theta');
  const optimizer = tf.train.adam(0.1);
  const loss = () => {
    const bias = tf.concat(
      [tf.zeros([1, P]), tf.mul(10, tf.minimum(theta, 0)), tf.zeros([1, A])],
      1,
    ); // [1,T]
    const logits = model.forward(suffix, {
      cache,
      updateCache: false,
      attentionBias: bias,
      queries: { start: P + C - 1, end: T },
    }); // [1, C+A, V]
    const rows = tf.slice(logits, [0, C - 1, 0], [1, A, -1]); // rows predicting the answer
    const logp = tf.logSoftmax(tf.reshape(rows, [A, -1]));
    const nll = tf.neg(tf.mean(tf.sum(tf.mul(logp, targets), 1)));
    return tf.add(nll, tf.mul(0.01, tf.sum(tf.relu(tf.neg(theta))))); // + sparsity
  };
  const step = async () => {
    const cost = optimizer.minimize(loss, true, [theta]);
    const value = (await cost.data())[0];
    cost.dispose();
    return value;
  };
  const firstStart = performance.now();
  const firstLoss = await step();
  const firstMs = performance.now() - firstStart;
  const start = performance.now();
  let lastLoss = firstLoss;
  for (let i = 1; i < steps; i++) lastLoss = await step();
  const ms = performance.now() - start;
  const thetaValues = await theta.data();
  const result = {
    fused: process.env.ATMANRL_WEBGPU_FUSED?.trim() !== '0',
    prompt: P,
    cot: C,
    answer: A,
    steps,
    firstStepMs: Number(firstMs.toFixed(0)),
    msPerStep: Number((ms / (steps - 1)).toFixed(2)),
    stepsPerS: Number(((steps - 1) / (ms / 1000)).toFixed(1)),
    totalS: Number(((performance.now() - firstStart) / 1000).toFixed(1)),
    firstLoss,
    lastLoss,
    thetaMin: Math.min(...thetaValues),
  };
  log(`mask fit: ${JSON.stringify(result)}`);
  tf.dispose([suffix, targets, theta]);
  optimizer.dispose();
  cache.dispose();
  model.dispose();
  return result;
}

/** {@link maskFitBench} with the fused webgpu kernels of @atmanrl/model off (read per call). */
async function maskFitBenchUnfused() {
  const saved = process.env.ATMANRL_WEBGPU_FUSED;
  process.env.ATMANRL_WEBGPU_FUSED = '0';
  try {
    return await maskFitBench();
  } finally {
    if (saved === undefined) delete process.env.ATMANRL_WEBGPU_FUSED;
    else process.env.ATMANRL_WEBGPU_FUSED = saved;
  }
}

// ---------------------------------------------------------------------------------------------
// Issue 21: the Llama-3.2-1B configuration (random weights), full size unless --small.

/** The 1B config: the real config.json, reduced for --small by the function the CI test uses. */
function config1b() {
  const full = JSON.parse(readFileSync(join(fixtures, 'llama-3.2-1b.config.json'), 'utf8'));
  const c = small
    ? reduceLlamaConfig(full, { numLayers: 2, numKeyValueHeads: 1, vocabSize: TINY_VOCAB_SIZE })
    : reduceLlamaConfig(full);
  return { ...c, torch_dtype: 'float32' };
}

/**
 * A model with the config's layout and deterministic pseudo-random weights made on the device:
 * `√2·std·sin(a_i · b_j)` from two short host vectors, a in [1, 133), b in [1, 11) (a product, so
 * not low-rank; drawing 1.2e9 normals on the host would take minutes, and timings and memory do
 * not depend on the distribution). Norm gains are 1.
 */
function hashedModel(config, seed, tokenizer) {
  const parsed = parseLlamaConfig(config, 'llama-3.2-1b.config.json');
  const std = parsed.initializer_range;
  let k = 0;
  // One tensor per block: the vocabulary matrices split where the device's binding limit binds.
  const weights = buildWeights(
    parsed,
    (spec, blockRows) => {
      const shape = memoryShape(spec);
      if (!spec.transposed) return [tf.ones(shape)];
      return blockRows.map((cols) => {
        k++;
        const rows = shape[0]; // [in, out_k]: a block of the checkpoint's rows
        const a = tf.tensor2d(
          randomIds(rows, 1 << 20, seed * 1000 + k).map((x) => 1 + x / 7919),
          [rows, 1],
        );
        const b = tf.tensor2d(
          randomIds(cols, 1 << 20, seed * 2000 + k).map((x) => 1 + x / 104729),
          [1, cols],
        );
        const w = tf.tidy(() => tf.mul(tf.sin(tf.mul(a, b)), std * Math.SQRT2));
        tf.dispose([a, b]);
        return w;
      });
    },
    true,
    deviceBindingLimitBytes(),
  );
  return new LlamaModel(parsed, weights, tokenizer);
}

/**
 * `fn` once under tf.profile and measurePeakMemory: peak tensor MiB (tfjs-tracked tensors) as
 * "above what was held before / in all" (before: the weights, and for the update the optimizer
 * state), the peak of GPU buffers allocated on webgpu (tensors, staging and the backend's pool of
 * free buffers: what the device holds), and the kernels (with timestamp-query times when the
 * adapter has it).
 */
async function profiled(fn) {
  const mem = await measurePeakMemory(() => tf.profile(fn));
  const mib = (b) => Number((b / 2 ** 20).toFixed(1));
  const gpu = mem.peakBytesAllocatedInGPU;
  return {
    peakMiB:
      `${mib(mem.peakBytes - mem.startBytes)} / ${mib(mem.peakBytes)}` +
      (gpu === undefined ? '' : `; GPU buffers allocated ${mib(gpu)}`),
    kernels: mem.result.kernels,
  };
}

/** FLOPs of a matmul kernel from its shapes: 2·prod(out)·K, K the inner dim of the first input. */
function matmulFlops(kernel) {
  const out = kernel.outputShapes[0];
  const a = kernel.inputShapes[0];
  if (!out || !a || out.length < 2 || a.length < 2) return 0;
  const m = out[out.length - 2];
  const [x, y] = a.slice(-2);
  const inner = y !== m || x === m ? (x === m ? y : x) : x;
  return 2 * out.reduce((p, d) => p * d, 1) * inner;
}

const state1b = { model: null, config: null, tokenizer: null };
function model1b() {
  if (!state1b.model) {
    state1b.config = config1b();
    const s = performance.now();
    state1b.model = hashedModel(state1b.config, 3, state1b.tokenizer ?? undefined);
    report.llama1b = {
      config: {
        layers: state1b.config.num_hidden_layers,
        hidden: state1b.config.hidden_size,
        heads: `${state1b.config.num_attention_heads}/${state1b.config.num_key_value_heads}`,
        intermediate: state1b.config.intermediate_size,
        vocab: state1b.config.vocab_size,
      },
      parameters: countParameters(parseLlamaConfig(state1b.config)),
      initMs: Math.round(performance.now() - s),
    };
  }
  return state1b.model;
}

async function generation1b() {
  const model = model1b();
  const [B, P, N] = small ? [8, 8, 8] : [8, 32, 64];
  const V = state1b.config.vocab_size;
  const prompts = Array.from({ length: B }, (_, b) => randomIds(P, V, 300 + b));
  const gen = (n) =>
    model.generate(prompts, { maxNewTokens: n, temperature: 1, seed: 1, eosTokenIds: [] });
  await gen(2); // shader compilation
  const s = performance.now();
  const out = await gen(N);
  const ms = performance.now() - s;
  const mem = await profiled(() => gen(Math.min(4, N)));
  report.llama1b.generation = {
    batch: B,
    prompt: P,
    newTokens: N,
    ms: Math.round(ms),
    tokensPerS: Number(((B * out[0].tokenIds.length) / (ms / 1000)).toFixed(1)),
    peakMiB: mem.peakMiB,
  };
  log(`1b generation: ${JSON.stringify(report.llama1b.generation)}`);
}

/** Stops a fit from its onStep callback once the section's time cap is reached. */
class TimeCap extends Error {}

function fitItems1b() {
  const [R, P, C, D, A] = small ? [8, 8, 16, 2, 4] : [8, 32, 128, 2, 4];
  const V = state1b.config.vocab_size;
  return Array.from({ length: R }, (_, r) => ({
    promptIds: randomIds(P, V, 400 + r),
    cotIds: randomIds(C, V, 500 + r),
    delimiterIds: randomIds(D, V, 600 + r),
    goldAnswerIds: randomIds(A, V, 700 + r),
  }));
}

async function maskFit1b() {
  const model = model1b();
  const items = fitItems1b();
  const steps = small ? 10 : 200;
  const capS = Math.max(20, Math.min(small ? 60 : 150, budgetS - elapsed() - 150));
  await fitSaliencyMasks(model, items, { steps: 1 }); // shader compilation
  let done = 0;
  const s = performance.now();
  try {
    await fitSaliencyMasks(model, items, {
      steps,
      onStep: (info) => {
        done = info.step;
        if ((performance.now() - s) / 1000 > capS && info.step < steps) throw new TimeCap();
      },
    });
  } catch (e) {
    if (!(e instanceof TimeCap)) throw e;
  }
  const ms = performance.now() - s;
  const mem = await profiled(() => fitSaliencyMasks(model, items, { steps: 1 }));
  const msPerStep = ms / Math.max(1, done);
  report.llama1b.maskFit = {
    rollouts: items.length,
    prompt: items[0].promptIds.length,
    cot: items[0].cotIds.length,
    answer: items[0].goldAnswerIds.length,
    steps,
    stepsRun: done,
    msPerStep: Number(msPerStep.toFixed(1)),
    totalS: Number(((msPerStep * steps) / 1000).toFixed(1)),
    extrapolated: done < steps,
    peakMiB: mem.peakMiB,
  };
  log(`1b mask fit: ${JSON.stringify(report.llama1b.maskFit)}`);
  matmulShare(mem.kernels);
}

/**
 * The matmul kernels' share of a profiled fit step: their time over all kernel time, and their
 * GFLOP/s (FLOPs from shapes) as a fraction of the float32 peak (--fp32-peak-tflops) and of the
 * best matmul of the `matmul` section. Needs timestamp-query; omitted with a note without it.
 */
function matmulShare(kernels) {
  const total = kernels.reduce((t, k) => t + (k.kernelTimeMs || 0), 0);
  if (!(total > 0)) {
    report.llama1b.matmulShare = { omitted: 'no kernel times (adapter without timestamp-query)' };
    return;
  }
  const mm = kernels.filter((k) => /MatMul/.test(k.name));
  const mmMs = mm.reduce((t, k) => t + (k.kernelTimeMs || 0), 0);
  const flops = mm.reduce((t, k) => t + matmulFlops(k), 0);
  const gflops = mmMs > 0 ? flops / (mmMs / 1000) / 1e9 : 0;
  const best = Math.max(0, ...report.matmul.map((m) => m.gflops));
  report.llama1b.matmulShare = {
    kernels: kernels.length,
    matmulKernels: mm.length,
    kernelMs: Number(total.toFixed(1)),
    matmulMs: Number(mmMs.toFixed(1)),
    timeShare: Number((mmMs / total).toFixed(3)),
    matmulGflops: Number(gflops.toFixed(1)),
    ofMatmulBench: best > 0 ? Number((gflops / best).toFixed(3)) : null,
    ofFp32Peak: fp32PeakTflops
      ? Number((gflops / (Number(fp32PeakTflops) * 1000)).toFixed(3))
      : null,
    note: 'one fit step under tf.profile (one timestamped pass per kernel); FLOPs from shapes',
  };
  log(`1b matmul share: ${JSON.stringify(report.llama1b.matmulShare)}`);
}

async function update1b() {
  const model = model1b();
  model.recompute = true;
  const [N, P, T, budget] = small ? [8, 8, 16, 48] : [64, 32, 256, 16 * 288];
  const V = state1b.config.vocab_size;
  const episodes = Array.from({ length: N }, (_, i) => ({
    promptIds: randomIds(P, V, 800 + i),
    completionIds: randomIds(T, V, 900 + i),
    oldLogProbs: Array.from({ length: T }, () => -Math.log(V)),
    advantage: i % 2 ? 1 : -1,
    truncated: false,
  }));
  const cfg = resolveGrpoConfig({
    lossType: 'grpo',
    maxCompletionLength: T,
    learningRate: 1e-6,
    maxTokensPerMicroBatch: budget,
  });
  const optimizer = createOptimizer(model, cfg);
  try {
    await updatePolicy({ policy: model, optimizer }, episodes.slice(0, 2), cfg); // compile
    const s = performance.now();
    const stats = await updatePolicy({ policy: model, optimizer }, episodes, cfg);
    const ms = performance.now() - s;
    // peak of two passes: model, optimizer state, gradients and one pass's activations
    const two = Math.max(2, 2 * Math.floor(budget / (P + T)));
    const mem = await profiled(() =>
      updatePolicy({ policy: model, optimizer }, episodes.slice(0, two), cfg),
    );
    report.llama1b.update = {
      completions: N,
      prompt: P,
      completion: T,
      maxTokensPerMicroBatch: budget,
      passes: Math.ceil(N / Math.max(1, Math.floor(budget / (P + T)))),
      recompute: true,
      ms: Math.round(ms),
      tokensPerS: Math.round((N * (P + T)) / (ms / 1000)),
      gradNorm: stats.gradNorms[0],
      peakMiB: mem.peakMiB,
    };
    log(`1b update: ${JSON.stringify(report.llama1b.update)}`);
  } finally {
    optimizer.dispose();
    model.recompute = false;
  }
}

/**
 * One whole AtManRL GRPO step on the 1B layout (issue 21's target: at most 5 minutes on an H200):
 * P = 8 prompts × G = 8 = 64 completions of up to 256 tokens, an outcome reward, the saliency
 * reward with a 50-step mask fit per completion, and one update (μ = 1) with the token budget and
 * recomputation, through grpoStep and createSaliencyReward as the trainer composes them. Random
 * weights rarely write `####`, so each completion is all CoT and the fit appends the gold answer
 * (the split's missing-delimiter rule). --small: 2 × 4 completions of 16 tokens, 5 fit steps.
 */
async function atmanrlStep1b() {
  const policy = model1b();
  const tokenizer = policy.tokenizer;
  const [P, G, T, fitSteps, budget] = small ? [2, 4, 16, 5, 64] : [8, 8, 256, 50, 16 * 288];
  const samples = Array.from({ length: P }, (_, i) => ({
    prompt: `Q: What is ${i + 2} + ${i + 3}? A:`,
    gold: String(2 * i + 5),
  }));
  const batch = {
    samples,
    promptIds: samples.map((x) => [
      ...(tokenizer.bosTokenId === undefined ? [] : [tokenizer.bosTokenId]),
      ...tokenizer.encode(x.prompt, { addSpecialTokens: false }),
    ]),
  };
  const split = (text) => {
    const at = text.indexOf('####');
    return at < 0
      ? { cotRange: [0, text.length], answerRange: null }
      : { cotRange: [0, at], answerRange: [at + 4, text.length] };
  };
  const rewards = [
    {
      name: 'outcome',
      fn: async (xs, completions) =>
        completions.map((c, i) => (c.text.includes(`#### ${xs[i].gold}`) ? 0 : -1)),
    },
    {
      name: 'saliency',
      fn: createSaliencyReward({
        model: policy,
        tokenizer,
        gold: (x) => x.gold,
        split,
        delimiter: '####',
        fit: { steps: fitSteps, maxTokensPerBatch: budget },
      }),
    },
  ];
  const config = {
    numGenerations: G,
    maxCompletionLength: T,
    temperature: 1,
    learningRate: 1e-6,
    gradientAccumulationSteps: 4,
    maxTokensPerMicroBatch: budget,
  };
  policy.recompute = true;
  const optimizer = createOptimizer(policy, config);
  try {
    const s = performance.now();
    const mem = await measurePeakMemory(() =>
      grpoStep({ policy, optimizer, rewards, rng: createRng(0), config }, batch),
    );
    const ms = performance.now() - s;
    const m = mem.result.metrics;
    const mib = (b) => (b === undefined ? null : Number((b / 2 ** 20).toFixed(1)));
    report.llama1b.step = {
      completions: P * G,
      maxCompletionLength: T,
      meanCompletionLength: m['completions/mean_length'],
      fitSteps,
      maxTokensPerMicroBatch: budget,
      recompute: true,
      s: Number((ms / 1000).toFixed(1)),
      generationS: m['time/generation'],
      saliencyS: m['time/reward/saliency'],
      updateS: m['time/update'],
      saliencyMean: m['rewards/saliency/mean'],
      gradNorm: m.grad_norm,
      peakTensorMiB: mib(mem.peakBytes),
      peakGpuAllocatedMiB: mib(mem.peakBytesAllocatedInGPU),
      note: 'first and only step: includes shader compilation',
    };
    log(`1b atmanrl step: ${JSON.stringify(report.llama1b.step)}`);
  } finally {
    optimizer.dispose();
    policy.recompute = false;
  }
}

/** Every number of the report as one markdown table (printed, and saved as gpu-check.md). */
function markdownTable() {
  const rows = [];
  const add = (section, what, value) => {
    if (value !== undefined && value !== null) rows.push(`| ${section} | ${what} | ${value} |`);
  };
  add('backend', 'adapter', report.backend?.detail);
  add(
    'conformance',
    'passed',
    `${report.conformance.filter((c) => c.pass).length}/${report.conformance.length}`,
  );
  for (const m of report.matmul) add('matmul', `${m.n}³ GFLOP/s`, m.gflops);
  if (report.model) {
    add('41.6M model', 'fwd tokens/s', report.model.forward.tokensPerS);
    add('41.6M model', 'fwd+bwd tokens/s', report.model.forwardBackward.tokensPerS);
  }
  for (const [name, f] of [
    ['fused', report.maskFit],
    ['unfused', report.maskFitUnfused],
  ]) {
    if (!f) continue;
    add(`41.6M mask fit (${name})`, `${f.steps} steps, ms/step`, f.msPerStep);
    add(`41.6M mask fit (${name})`, 'total s', f.totalS);
  }
  if (report.maskFit && report.maskFitUnfused)
    add(
      '41.6M mask fit',
      'unfused / fused time',
      (report.maskFitUnfused.msPerStep / report.maskFit.msPerStep).toFixed(2),
    );
  const l = report.llama1b;
  if (l) {
    const c = l.config;
    add(
      '1B',
      'layout',
      `L${c.layers} D${c.hidden} H${c.heads} I${c.intermediate} V${c.vocab}, ${(l.parameters / 1e6).toFixed(1)}M params`,
    );
    if (l.generation) {
      const g = l.generation;
      add('1B generation', `batch ${g.batch}, ${g.newTokens} new tokens: tokens/s`, g.tokensPerS);
      add('1B generation', 'peak tensor MiB (above weights / all)', g.peakMiB);
    }
    if (l.maskFit) {
      const f = l.maskFit;
      add('1B mask fit', `${f.rollouts} × CoT ${f.cot}: ms/step`, f.msPerStep);
      add(
        '1B mask fit',
        `${f.steps} steps, s${f.extrapolated ? ` (extrapolated from ${f.stepsRun})` : ''}`,
        f.totalS,
      );
      add('1B mask fit', 'peak tensor MiB, 1 step (above weights / all)', f.peakMiB);
    }
    if (l.matmulShare) {
      const m = l.matmulShare;
      if (m.omitted) add('1B fit step matmuls', 'share', `omitted: ${m.omitted}`);
      else {
        add('1B fit step matmuls', 'share of kernel time', m.timeShare);
        add('1B fit step matmuls', 'GFLOP/s', m.matmulGflops);
        add('1B fit step matmuls', 'of best matmul bench', m.ofMatmulBench);
        add('1B fit step matmuls', 'of fp32 peak', m.ofFp32Peak ?? 'pass --fp32-peak-tflops');
      }
    }
    if (l.step) {
      const t = l.step;
      add(
        '1B AtManRL step',
        `${t.completions} × ≤${t.maxCompletionLength} tokens (mean ${t.meanCompletionLength}), ${t.fitSteps}-step fits: s`,
        t.s,
      );
      add(
        '1B AtManRL step',
        'generation / saliency fits / update s',
        [t.generationS, t.saliencyS, t.updateS].map((x) => Number(x).toFixed(1)).join(' / '),
      );
      add(
        '1B AtManRL step',
        'peak tensor MiB / GPU buffers allocated MiB',
        `${t.peakTensorMiB} / ${t.peakGpuAllocatedMiB ?? '–'}`,
      );
    }
    if (l.update) {
      const u = l.update;
      add(
        '1B GRPO update',
        `${u.completions} × ${u.completion} tokens, budget ${u.maxTokensPerMicroBatch}, recompute: s`,
        (u.ms / 1000).toFixed(1),
      );
      add('1B GRPO update', 'tokens/s', u.tokensPerS);
      add(
        '1B GRPO update',
        'peak tensor MiB, 2 passes (above weights + AdamW state / all)',
        u.peakMiB,
      );
    }
  }
  for (const s of report.skipped) add('skipped', s, '');
  return [
    `# gpu-check (${report.mode})`,
    '',
    '| section | what | value |',
    '|---|---|---|',
    ...rows,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------

const logger = { info: (m) => log(m), warn: (m) => log(`warn: ${m}`) };
let reference = null;
await section('cpu reference', 0, async () => {
  await initBackend({ prefer: 'cpu' });
  reference = await biasGrad();
});
await section('init webgpu', 0, async () => {
  report.backend = await initBackend({ prefer: 'webgpu', logger });
});
if (report.backend?.name !== 'webgpu') {
  report.errors.push('webgpu did not start: nothing else was run');
  save();
  log(`report: ${reportPath}`);
  process.exit(2);
}
await section('conformance attention', 20, attentionGolden);
await section('conformance model', 20, modelGolden);
await section('conformance kv-cache', 10, kvCache);
await section('conformance bias gradient', 10, async () => {
  const { cached, full } = await biasGrad();
  check('model: bias gradient cached == full', maxAbsDiff(cached, full), 1e-5);
  check('model: bias gradient webgpu == cpu', maxAbsDiff(full, reference.full), 1e-5);
});
// The other matMul formulation (transpose flags) must pass the same suites.
await section('conformance with flags formulation', 30, async () => {
  prefix = '[flags] ';
  forceMatMulFormulation('flags');
  try {
    await attentionGolden();
    await modelGolden();
    const { full } = await biasGrad();
    check('model: bias gradient webgpu == cpu', maxAbsDiff(full, reference.full), 1e-5);
  } finally {
    forceMatMulFormulation(null);
    prefix = '';
  }
});
report.matMulFormulationDefault = matMulFormulation();
await section('matmul', 30, matmulBench);
await section('formulation', 30, formulationBench);
await section('model', 40, modelBench);
await section('mask fit', 40, async () => {
  report.maskFit = await maskFitBench();
});
await section('mask fit unfused', 40, async () => {
  report.maskFitUnfused = await maskFitBenchUnfused();
});
await section('1b model', 60, async () => {
  state1b.tokenizer = small
    ? createTinyTokenizer()
    : await loadTokenizer(join(fixtures, 'llama3-tokenizer'));
  model1b();
});
if (state1b.model) {
  await section('1b atmanrl step', small ? 30 : 200, atmanrlStep1b);
  await section('1b generation', 40, generation1b);
  await section('1b mask fit', 60, maskFit1b);
  await section('1b grpo update', 60, update1b);
  state1b.model.dispose();
  state1b.model = null;
}
report.conformancePassed = report.conformance.length > 0 && report.conformance.every((c) => c.pass);
save();
const table = markdownTable();
writeFileSync(mdPath, `${table}\n`);
process.stdout.write(`\n${table}\n\n`);
log(
  `conformance: ${report.conformance.filter((c) => c.pass).length}/${report.conformance.length} passed; report: ${reportPath}`,
);
process.exit(report.conformancePassed && report.errors.length === 0 ? 0 : 1);
