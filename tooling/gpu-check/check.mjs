// GPU check (issue 11): conformance of attention + model on the webgpu backend, then benchmarks
// (matmul GFLOP/s, matMul formulations, ~40M-parameter model forward+backward tokens/s, a 200-step
// mask-fit-like loop). Bundled by bundle.mjs into dist/check.mjs; run through ../gpu-check.sh.
// Usage: node check.mjs --out DIR [--small] [--budget-s 270]
// --small: tiny shapes for a dry run on a software adapter (lavapipe).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attention, initBackend, matMul } from '@atmanrl/attention-mask/node';
import {
  countParameters,
  createRandomModel,
  loadModel,
  parseLlamaConfig,
} from '@atmanrl/model/node';
import * as tf from '@tensorflow/tfjs-core';
// Internal switch (same module instance: the bundle is built from the packages' sources).
import {
  forceMatMulFormulation,
  matMulFormulation,
} from '../../packages/attention-mask/src/matmul.ts';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const small = flag('--small');
const outDir = opt('--out', process.env.OUT || '.');
const budgetS = Number(opt('--budget-s', '270'));
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
    log(`ERROR in ${name}: ${error?.message ?? error}`);
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
  report.maskFit = {
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
  log(`mask fit: ${JSON.stringify(report.maskFit)}`);
  tf.dispose([suffix, targets, theta]);
  optimizer.dispose();
  cache.dispose();
  model.dispose();
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
await section('mask fit', 40, maskFitBench);
report.conformancePassed = report.conformance.length > 0 && report.conformance.every((c) => c.pass);
save();
log(
  `conformance: ${report.conformance.filter((c) => c.pass).length}/${report.conformance.length} passed; report: ${reportPath}`,
);
process.exit(report.conformancePassed && report.errors.length === 0 ? 0 : 1);
