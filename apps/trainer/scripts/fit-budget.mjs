// The mask fit's budget (issue 15, item 4): fit the same items with the paper's 200 steps at
// lr 1e-3 and with cheaper or wider settings, and report (a) the per-item Spearman of relevance
// against the 200-step fit, (b) the Spearman of H across items (the reward's ranking), (c) the
// range of the reliance reward 1 - H/c. Items: T=1 completions of the model on test problems.
//
//   node apps/trainer/scripts/fit-budget.mjs <model-dir> [problems=48] [--modes]
import { initBackend } from '@atmanrl/attention-mask/node';
import { generateModesProblem, splitCompletion } from '@atmanrl/datasets';
import { loadModel } from '@atmanrl/model/node';
import {
  fitSaliencyMasks,
  saliencyItemFromSpans,
  saliencyReward,
  spearman,
  splitCompletionIds,
} from '@atmanrl/saliency';

const [modelDir, nArg] = process.argv.slice(2);
const n = Number(nArg ?? 48);
await initBackend({ prefer: 'wasm' });
const model = await loadModel(modelDir, { trainable: false });
const tok = model.tokenizer;
const problems = Array.from({ length: n }, (_, i) =>
  generateModesProblem(2, i, { guessableFraction: 0.4 }),
);
const prompts = problems.map((p) => [
  tok.bosTokenId,
  ...tok.encode(p.promptText, { addSpecialTokens: false }),
]);
const gens = await model.generate(prompts, { maxNewTokens: 96, temperature: 1, seed: 7 });
const items = gens.map((g, i) => {
  const spans = splitCompletionIds(
    tok,
    g.tokenIds,
    splitCompletion(g.text, { kind: 'number', delimiter: '####' }),
  );
  return saliencyItemFromSpans(
    tok,
    prompts[i],
    spans,
    String(problems[i].arithmetic.answer),
    '####',
  );
});
const settings = [
  { name: 'paper: 200 steps, lr 1e-3', steps: 200, lr: 1e-3 },
  { name: '50 steps, lr 4e-3', steps: 50, lr: 4e-3 },
  { name: '20 steps, lr 1e-2', steps: 20, lr: 1e-2 },
  { name: '20 steps, lr 2e-2 (twice the movement)', steps: 20, lr: 2e-2 },
  { name: '10 steps, lr 2e-2', steps: 10, lr: 2e-2 },
  { name: '20 steps, lr 1e-2, eps 1e-3 (magnitude-aware)', steps: 20, lr: 1e-2, eps: 1e-3 },
];
const results = [];
for (const s of settings) {
  const t0 = performance.now();
  const fits = await fitSaliencyMasks(model, items, {
    steps: s.steps,
    lr: s.lr,
    ...(s.eps ? { eps: s.eps } : {}),
  });
  results.push({ ...s, fits, seconds: (performance.now() - t0) / 1000 });
}
const ref = results[0].fits;
const rows = results.map((r) => {
  const rhos = r.fits
    .map((f, i) => (f.relevance.length >= 3 ? spearman(f.relevance, ref[i].relevance) : null))
    .filter((x) => x !== null && Number.isFinite(x));
  const rewards = r.fits.map((f) => saliencyReward(f.h));
  const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
  const sd = Math.sqrt(rewards.reduce((a, b) => a + (b - mean) ** 2, 0) / (rewards.length - 1));
  return {
    setting: r.name,
    seconds: r.seconds.toFixed(1),
    relevanceSpearmanVsPaper: (rhos.reduce((a, b) => a + b, 0) / rhos.length).toFixed(3),
    hSpearmanVsPaper: spearman(
      r.fits.map((f) => f.h),
      ref.map((f) => f.h),
    ).toFixed(3),
    reward: `${Math.min(...rewards).toFixed(3)} .. ${Math.max(...rewards).toFixed(3)} (mean ${mean.toFixed(3)}, sd ${sd.toFixed(3)})`,
  };
});
console.log(
  `| setting | fit time (s, ${n} items) | relevance Spearman vs 200-step (mean over items) | Spearman of H across items vs 200-step | reliance reward range |`,
);
console.log('|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.setting} | ${r.seconds} | ${r.relevanceSpearmanVsPaper} | ${r.hSpearmanVsPaper} | ${r.reward} |`,
  );
model.dispose();
