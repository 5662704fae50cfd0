#!/usr/bin/env node
// Recomputes an evaluation's accuracy, CoT-length and reasoning-mode numbers from its stored
// completions alone (no project code), and compares them with the report the evaluation wrote.
//
//   node experiments/scripts/recompute-eval.mjs <run-dir>/eval/<name>.json [...more reports]
//
// Reads `<name>.samples.jsonl.gz` beside each report (gzip'd JSONL, one completion a line: itemId,
// itemIndex, kind 'greedy' | 'sample', correct, cotTokens, mode, ...). Prints one JSON object per
// report: { report, items, recomputed: {key: value}, reported: {key: value}, mismatches: [key] },
// and exits 1 when any recomputed value differs from the report's by more than 1e-9.
//
// The rules (as the report states them): every item has n sampled completions (with temperature
// 0 there are none, and the greedy completion counts as each of them);
//   pass@k          = mean over items of 1 - C(n-c, k) / C(n, k)   (c = correct samples of the item)
//   cot_tokens/mean = mean CoT tokens over all sampled completions
//   modes/<label>   = share of all sampled completions in that mode
//   modes_greedy/<label>, accuracy_greedy = the same over the greedy completions
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** Unbiased pass@k (Chen et al. 2021) as a product: 1 - prod_{i=n-c+1}^{n} (1 - k/i). */
function passAtK(n, c, k) {
  if (n - c < k) return 1;
  let fail = 1;
  for (let i = n - c + 1; i <= n; i++) fail *= 1 - k / i;
  return 1 - fail;
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

function recompute(reportPath) {
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  const samplesPath = reportPath.replace(/\.json$/, '.samples.jsonl.gz');
  const records = gunzipSync(readFileSync(samplesPath))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
  const greedy = records.filter((r) => r.kind === 'greedy');
  greedy.sort((a, b) => a.itemIndex - b.itemIndex);
  const sampledByItem = new Map(greedy.map((g) => [g.itemIndex, []]));
  for (const r of records) if (r.kind === 'sample') sampledByItem.get(r.itemIndex).push(r);
  const temperatureZero = records.every((r) => r.kind === 'greedy');
  const ks = Object.keys(report.summary)
    .map((key) => /^pass@(\d+)$/.exec(key))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]));
  const n = temperatureZero ? Math.max(1, ...ks) : sampledByItem.values().next().value.length;
  const perItem = greedy.map((g) =>
    temperatureZero ? Array.from({ length: n }, () => g) : sampledByItem.get(g.itemIndex),
  );
  const all = perItem.flat();
  const out = {};
  for (const k of ks)
    out[`pass@${k}`] = mean(perItem.map((s) => passAtK(n, s.filter((r) => r.correct).length, k)));
  out.accuracy_greedy = mean(greedy.map((g) => (g.correct ? 1 : 0)));
  out['cot_tokens/mean'] = mean(all.map((r) => r.cotTokens));
  out.items = greedy.length;
  if (all.some((r) => r.mode !== undefined)) {
    // The labels are the task's (modes: terse / verbose / bypass / other; hint-modes: compute /
    // decorative / other): every label a stored completion carries or the report names.
    const labels = new Set(all.map((r) => r.mode).filter((m) => typeof m === 'string'));
    for (const key of Object.keys(report.summary)) {
      const m = /^modes\/([a-z]+)$/.exec(key);
      if (m) labels.add(m[1]);
    }
    for (const label of labels) {
      out[`modes/${label}`] = all.filter((r) => r.mode === label).length / all.length;
      out[`modes_greedy/${label}`] = greedy.filter((r) => r.mode === label).length / greedy.length;
    }
  }
  const reported = {};
  const mismatches = [];
  for (const [key, value] of Object.entries(out)) {
    const r = report.summary[key];
    reported[key] = r ?? null;
    if (typeof r !== 'number' || Math.abs(r - value) > 1e-9) mismatches.push(key);
  }
  return { report: reportPath, items: greedy.length, recomputed: out, reported, mismatches };
}

const paths = process.argv.slice(2);
if (paths.length === 0) {
  process.stderr.write('usage: node recompute-eval.mjs <run-dir>/eval/<name>.json [...]\n');
  process.exit(1);
}
let bad = 0;
for (const p of paths) {
  const r = recompute(p);
  if (r.mismatches.length > 0) bad++;
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
process.exit(bad > 0 ? 1 : 0);
