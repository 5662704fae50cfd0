// The mask fit's budget (issue 15 item 4, issue 31 item 2): fit the same items with the paper's
// 200 AdamW steps at lr 1e-3 and with cheaper budgets and step rules, and report against the
// 200-step fit (a) the per-item Spearman of relevance (median, 10th percentile, mean over items
// with >= 3 CoT tokens and a non-constant relevance), (b) the Spearman of H across items (the
// reward's ranking), (c) the range of the reliance reward 1 - H/c and (d) the cost in passes
// (fit steps = forward + backward each) and the fit's wall time.
//
// Items: temperature-1 completions of the model on its task's test problems:
//   --task modes  generateModesProblem(2, i) (the modes task; e.g. experiments/modes-cpu/sft-model)
//   --task arith  generateArithmeticProblem(2, i, { steps: 2 }) in the GSM8K `#### <answer>` format
//                 (the task of the embedded default model, apps/trainer/assets/default-model)
//
//   node apps/trainer/scripts/fit-budget.mjs <model-dir> [problems=48] [--task modes|arith]
//        [--samples k] [--json out.json] [--ref earlier.json] [--quick]
// --ref reuses the paper fit saved in an earlier --json of the same items (same model, task, n).
//
// Step rules (all through fitSaliencyMasks' public options):
//   adamw   the paper's AdamW (betas 0.6/0.9999, weight decay 0.05, eps 1e-8), steps × lr = 0.2
//   sign    sign-gradient descent: AdamW with betas (0, 0) and no weight decay, so each step is
//           θ ← θ − lr·sign(g) exactly (m̂ = g, √v̂ = |g|); steps × lr = 0.2
//   grad@c  one plain gradient step at θ = c: lr 100, eps 1e3, no weight decay, so
//           θ₁ − c = −100·g/(|g| + 1e3) ≈ −0.1·g (|g| ≪ 1e3): relevance = −0.1·g/|c| = −0.25·g, a
//           closed form whose scale is the gradient's (not bounded by steps × lr)
//   adam0   AdamW without weight decay at a larger lr (movement 2× the paper's)
import { readFileSync, writeFileSync } from 'node:fs';
import { initBackend } from '@atmanrl/attention-mask/node';
import {
  generateArithmeticProblem,
  generateModesProblem,
  splitCompletion,
} from '@atmanrl/datasets';
import { loadModel } from '@atmanrl/model/node';
import {
  fitSaliencyMasks,
  saliencyItemFromSpans,
  saliencyReward,
  spearman,
  splitCompletionIds,
} from '@atmanrl/saliency';

const argv = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
};
const bool = (name) => {
  const i = argv.indexOf(name);
  if (i < 0) return false;
  argv.splice(i, 1);
  return true;
};
const task = flag('--task', 'modes');
const samples = Number(flag('--samples', '1'));
const jsonOut = flag('--json', null);
const quick = bool('--quick');
const beta0 = bool('--beta0'); // the β1 = 0 family only (with --ref: no paper fit needed)
const refFile = flag('--ref', null); // reuse the paper fit of an earlier --json of the same items
if (argv.includes('--modes')) argv.splice(argv.indexOf('--modes'), 1); // old flag: the default
const [modelDir, nArg] = argv;
if (!modelDir || (task !== 'modes' && task !== 'arith')) {
  console.error(
    'usage: node apps/trainer/scripts/fit-budget.mjs <model-dir> [problems=48] [--task modes|arith] [--samples k] [--json out.json] [--quick]',
  );
  process.exit(1);
}
const n = Number(nArg ?? 48);
await initBackend({ prefer: 'wasm' });
const model = await loadModel(modelDir, { trainable: false });
const tok = model.tokenizer;
const problems = Array.from({ length: n }, (_, i) =>
  task === 'modes'
    ? generateModesProblem(2, i, { guessableFraction: 0.4 })
    : generateArithmeticProblem(2, i, { steps: 2 }),
);
const gold = (p) => String(task === 'modes' ? p.arithmetic.answer : p.answer);
const prompts = problems.map((p) => [
  tok.bosTokenId,
  ...tok.encode(p.promptText, { addSpecialTokens: false }),
]);
const items = [];
for (let s = 0; s < samples; s++) {
  const gens = await model.generate(prompts, { maxNewTokens: 96, temperature: 1, seed: 7 + s });
  gens.forEach((g, i) => {
    const spans = splitCompletionIds(
      tok,
      g.tokenIds,
      splitCompletion(g.text, { kind: 'number', delimiter: '####' }),
    );
    items.push(saliencyItemFromSpans(tok, prompts[i], spans, gold(problems[i]), '####'));
  });
}
const cotLens = items.map((it) => it.cotIds.length).sort((a, b) => a - b);

const adamw = (steps) => ({
  name: `AdamW ${steps} × ${+(0.2 / steps).toPrecision(3)}`,
  rule: 'adamw',
  steps,
  lr: 0.2 / steps,
});
const sign = (steps) => ({
  name: `sign ${steps} × ${+(0.2 / steps).toPrecision(3)}`,
  rule: 'sign',
  steps,
  lr: 0.2 / steps,
  betas: [0, 0],
  weightDecay: 0,
});
const b0 = (steps, lr = 0.2 / steps, beta2 = 0.9999) => ({
  name: `AdamW β1 = 0${beta2 !== 0.9999 ? `, β2 = ${beta2}` : ''}, ${steps} × ${+lr.toPrecision(3)}`,
  rule: 'adamw-b0',
  steps,
  lr,
  betas: [0, beta2],
});
const paperSetting = { name: 'paper: AdamW 200 × 1e-3', rule: 'adamw', steps: 200, lr: 1e-3 };
const settings = beta0
  ? [paperSetting, ...[2, 3, 5, 6, 7, 8, 10].map((k) => b0(k)), b0(5, 0.02), b0(5, 0.04, 0.9)]
  : quick
    ? [
        { name: 'paper: AdamW 200 × 1e-3', rule: 'adamw', steps: 200, lr: 1e-3 },
        adamw(10),
        {
          name: 'grad@c (1 step, θ₁ − c ≈ −0.1·g)',
          rule: 'grad@c',
          steps: 1,
          lr: 100,
          eps: 1e3,
          weightDecay: 0,
        },
      ]
    : [
        { name: 'paper: AdamW 200 × 1e-3', rule: 'adamw', steps: 200, lr: 1e-3 },
        ...[1, 2, 5, 10, 15, 20].map(adamw),
        { name: 'AdamW 5 × 0.02 (half the movement)', rule: 'adamw', steps: 5, lr: 0.02 },
        { name: 'AdamW 10 × 0.01 (half the movement)', rule: 'adamw', steps: 10, lr: 0.01 },
        { name: 'AdamW β1 = 0, 10 × 0.02', rule: 'adamw', steps: 10, lr: 0.02, betas: [0, 0.9999] },
        ...[5, 10].map(sign),
        {
          name: 'grad@c (1 step, θ₁ − c ≈ −0.1·g)',
          rule: 'grad@c',
          steps: 1,
          lr: 100,
          eps: 1e3,
          weightDecay: 0,
        },
        { name: 'AdamW no wd 10 × 0.04', rule: 'adam0', steps: 10, lr: 0.04, weightDecay: 0 },
      ];
const results = [];
if (refFile) {
  const prev = JSON.parse(readFileSync(refFile, 'utf8'));
  const same =
    prev.fits?.length === items.length &&
    prev.fits.every((f, i) => f.cotIds.join(',') === items[i].cotIds.join(','));
  if (!same) {
    console.error(`--ref ${refFile}: its items differ from this run's; run without --ref`);
    process.exit(1);
  }
  results.push({ ...settings[0], fits: prev.fits, seconds: prev.rows[0].seconds });
  settings.shift();
}
for (const s of settings) {
  const t0 = performance.now();
  const fits = await fitSaliencyMasks(model, items, {
    steps: s.steps,
    lr: s.lr,
    ...(s.betas ? { betas: s.betas } : {}),
    ...(s.weightDecay !== undefined ? { weightDecay: s.weightDecay } : {}),
    ...(s.eps ? { eps: s.eps } : {}),
  });
  results.push({ ...s, fits, seconds: (performance.now() - t0) / 1000 });
  console.error(`${s.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const quantile = (xs, q) => {
  const v = [...xs].sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const pos = (v.length - 1) * q;
  const lo = Math.floor(pos);
  return v[lo] + (v[Math.min(lo + 1, v.length - 1)] - v[lo]) * (pos - lo);
};
const ref = results[0].fits;
const rows = results.map((r) => {
  const rhos = [];
  let undefinedRho = 0;
  r.fits.forEach((f, i) => {
    if (f.relevance.length < 3) return;
    const rho = spearman(f.relevance, ref[i].relevance);
    if (Number.isFinite(rho)) rhos.push(rho);
    else undefinedRho++;
  });
  const rewards = r.fits.map((f) => saliencyReward(f.h));
  const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
  const sd = Math.sqrt(rewards.reduce((a, b) => a + (b - mean) ** 2, 0) / (rewards.length - 1));
  return {
    setting: r.name,
    rule: r.rule,
    steps: r.steps,
    lr: r.lr,
    seconds: r.seconds,
    relevanceMedian: quantile(rhos, 0.5),
    relevanceP10: quantile(rhos, 0.1),
    relevanceMean: rhos.reduce((a, b) => a + b, 0) / rhos.length,
    relevanceItems: rhos.length,
    relevanceUndefined: undefinedRho,
    hSpearman: spearman(
      r.fits.map((f) => f.h),
      ref.map((f) => f.h),
    ),
    rewardMin: Math.min(...rewards),
    rewardMax: Math.max(...rewards),
    rewardMean: mean,
    rewardSd: sd,
  };
});
const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : '–');
console.log(
  `\n${task} task, ${modelDir}: ${items.length} items (${n} problems × ${samples} samples), CoT tokens median ${cotLens[cotLens.length >> 1]} (min ${cotLens[0]}, max ${cotLens[cotLens.length - 1]})\n`,
);
console.log(
  '| setting | passes (fwd+bwd) | fit s (loaded) | relevance ρ median | relevance ρ 10th pct | relevance ρ mean | H ρ across items | reliance reward range (mean, sd) |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---|');
for (const r of rows)
  console.log(
    `| ${r.setting} | ${r.steps} | ${r.seconds.toFixed(1)} | ${f3(r.relevanceMedian)} | ${f3(r.relevanceP10)} | ${f3(r.relevanceMean)} | ${f3(r.hSpearman)} | ${r.rewardMin.toFixed(3)} .. ${r.rewardMax.toFixed(3)} (${r.rewardMean.toFixed(3)}, ${r.rewardSd.toFixed(3)}) |`,
  );
if (jsonOut) {
  writeFileSync(
    jsonOut,
    `${JSON.stringify({
      task,
      modelDir,
      problems: n,
      samples,
      items: items.length,
      cotLens,
      rows,
      // the paper fit per item, for --ref
      fits: results[0].fits.map((f, i) => ({
        cotIds: items[i].cotIds,
        h: f.h,
        relevance: f.relevance,
      })),
    })}\n`,
  );
}
model.dispose();
