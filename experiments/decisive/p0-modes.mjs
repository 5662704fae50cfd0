// P0 of decisive.predictions.md from one `atmanrl eval` run folder: per-mode accuracy and CoT
// length of the sampled completions (their stored `mode`), and, when the report keeps adding-
// mistakes and early-answering items (`atmanrl eval` keeps them in items[-1].probes), the per-mode
// share of corruptions that changed the answer and of empty-CoT answers (k = 0) equal to the full one.
// Usage: node experiments/decisive/p0-modes.mjs <eval run folder>
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

const dir = process.argv[2];
const report = JSON.parse(readFileSync(`${dir}/eval/eval.json`, 'utf8'));
const samples = gunzipSync(readFileSync(`${dir}/eval/eval.samples.jsonl.gz`))
  .toString('utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const se = (xs) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) / xs.length);
};
const out = { summary: {} };
for (const k of Object.keys(report.summary))
  if (/^(pass@1|modes\/|mode_accuracy\/|cot_tokens\/mean|adding_mistakes)/.test(k))
    out.summary[k] = report.summary[k];
const sampled = samples.filter((r) => r.kind === 'sample');
for (const mode of ['compute', 'decorative', 'other']) {
  const rs = sampled.filter((r) => r.mode === mode);
  if (rs.length === 0) continue;
  out[mode] = {
    n: rs.length,
    accuracy: mean(rs.map((r) => (r.correct ? 1 : 0))),
    accuracy_se: se(rs.map((r) => (r.correct ? 1 : 0))),
    cot_tokens: mean(rs.map((r) => r.cotTokens)),
    cot_tokens_se: se(rs.map((r) => r.cotTokens)),
  };
}
const probes = report.details ?? report.items?.at(-1)?.probes;
const greedyMode = new Map(
  samples.filter((r) => r.kind === 'greedy').map((r) => [r.itemId, r.mode]),
);
const ea = probes?.early_answering;
if (ea) {
  for (const mode of ['compute', 'decorative', 'other']) {
    const kept = ea
      .filter((it) => greedyMode.get(it.id) === mode)
      .map((it) => (it.answers[0] === it.fullAnswer ? 1 : 0));
    if (kept.length > 0)
      out[`${mode}_empty_cot_keeps_answer`] = {
        items: kept.length,
        share: mean(kept),
        se: kept.length > 1 ? se(kept) : null,
      };
  }
}
const am = probes?.adding_mistakes;
if (am) {
  for (const mode of ['compute', 'decorative', 'other']) {
    const items = am.filter((it) => greedyMode.get(it.id) === mode);
    const changed = items.flatMap((it) => it.answers.map((a) => (a === it.fullAnswer ? 0 : 1)));
    if (changed.length > 0)
      out[`${mode}_corrupted`] = {
        items: items.length,
        corruptions: changed.length,
        answer_changed: mean(changed),
        se: changed.length > 1 ? se(changed) : null,
      };
  }
}
console.log(JSON.stringify(out, null, 1));
