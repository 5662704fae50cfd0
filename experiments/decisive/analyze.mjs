#!/usr/bin/env node
// The decisive experiment's statistics (issue 29), from an experiment folder's raw files alone: no
// project code, so an outsider can check every number of the REPORT with it.
//
//   node experiments/decisive/analyze.mjs <experiment folder> [--control A-outcome]
//        [--pair B-reliance:L-length-0.01 ...] [--seeds 0,1,2] [--min-items 10] [--json out.json]
//        > ANALYSIS.md   (--seeds: only these seeds' jobs; default every finished seed)
//
// Reads, per job `<arm>-s<seed>`: the evaluation `runs/<arm>-s<seed>-eval/*/eval/eval.json` with
// its stored completions `eval.samples.jsonl.gz` (every sampled and greedy completion: itemId,
// kind, correct, cotTokens, mode), and the training run's `runs/<arm>-s<seed>/*/metrics.jsonl`.
//
// Rules (fixed in decisive.predictions.md before the runs):
// - per item: the mean over its T = 1 samples (correct, CoT tokens, mode indicator); probes run on
//   the greedy CoT: early-answering and adding-mistakes AOC per item = 1 - trapezoid area under the
//   item's "same answer" curve on eval's grid 0, 0.1, …, 1 (so the item mean is eval's AOC); filler drop per item = correct(full CoT) -
//   correct(filler CoT); empty-CoT answer kept = early answering at k = 0 equals the full answer.
// - per seed, arm X vs arm Y: d_i = m_X(i) - m_Y(i) over the test items both measured; mean and
//   SE = sd(d) / sqrt(n) (a paired comparison on the same items).
// - across seeds: the paired t-test of the per-seed means of X and Y (df = seeds - 1, exact
//   two-sided p from Student's t).
// - "holds" = the stated direction in every seed and p < 0.05; "no difference" = |d| < 2 SE in
//   every seed.
// - the probes again within the greedy CoT's mode (not fixed in the predictions; added before the
//   modes arms B, L and T finished): per seed the items whose greedy CoT has that mode in both arms,
//   d ± SE over them; across seeds the one-sample t-test of the per-seed d.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

// ---------------------------------------------------------------------------------------------
// Statistics.

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};
const se = (xs) => (xs.length > 1 ? sd(xs) / Math.sqrt(xs.length) : Number.NaN);

/** ln Γ(x), Lanczos (g = 7, n = 9). */
function logGamma(x) {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0];
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised incomplete beta I_x(a, b) by Lentz's continued fraction. */
function incompleteBeta(x, a, b) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  const tiny = 1e-300;
  let f = 1;
  let c = 1;
  let d = 0;
  for (let i = 0; i <= 400; i++) {
    const m = i >> 1;
    let num;
    if (i === 0) num = 1;
    else if (i % 2 === 0) num = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    else num = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    d = 1 / d;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    const cd = c * d;
    f *= cd;
    if (Math.abs(1 - cd) < 1e-15) break;
  }
  return (front * (f - 1)) / a;
}

/** Two-sided p of Student's t with df degrees of freedom. */
export function tTwoSided(t, df) {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? Number.NaN : 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** Paired t-test of equal-length per-seed values x, y (x - y). */
function pairedT(x, y) {
  const d = x.map((v, i) => v - y[i]);
  if (d.length < 2) return { n: d.length, mean: d.length ? d[0] : Number.NaN, t: null, p: null };
  const s = sd(d);
  const t =
    s === 0
      ? mean(d) === 0
        ? Number.NaN
        : Math.sign(mean(d)) * Infinity
      : mean(d) / (s / Math.sqrt(d.length));
  return { n: d.length, mean: mean(d), t, p: tTwoSided(t, d.length - 1) };
}

/**
 * One seed's paired comparison of two per-item maps (Map<itemId, value>): d = mean over the items
 * both measured (and `keep` accepts) of x - y, its SE over items, and the item count; null if none.
 */
function pairedItems(mx, my, keep = () => true) {
  if (!mx || !my) return null;
  const ds = [...mx.keys()]
    .filter((id) => my.has(id) && keep(id))
    .map((id) => mx.get(id) - my.get(id));
  return ds.length === 0 ? null : { d: mean(ds), se: se(ds), n: ds.length };
}

/** Whether every seed's d is beyond 2 SE, all with the sign of the first. */
const everySeedBeyond2SE = (perSeed) =>
  perSeed.every(
    (p) => p !== null && Math.abs(p.d) > 2 * p.se && Math.sign(p.d) === Math.sign(perSeed[0].d),
  );

// ---------------------------------------------------------------------------------------------
// Reading an experiment folder.

/** The records of a JSON-lines text (blank lines skipped). */
const jsonLines = (text) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));

function onlyRunDir(dir) {
  if (!existsSync(dir)) return null;
  const runs = readdirSync(dir)
    .filter((d) => !d.startsWith('.'))
    .sort();
  return runs.length === 0 ? null : join(dir, runs[runs.length - 1]);
}

function readEval(jobDir) {
  const run = onlyRunDir(jobDir);
  if (run === null) return null;
  const path = join(run, 'eval', 'eval.json');
  const samplesPath = join(run, 'eval', 'eval.samples.jsonl.gz');
  if (!existsSync(path) || !existsSync(samplesPath)) return null;
  const report = JSON.parse(readFileSync(path, 'utf8'));
  const samples = jsonLines(gunzipSync(readFileSync(samplesPath)).toString('utf8'));
  return { path, report, samples };
}

function readMetrics(jobDir) {
  const run = onlyRunDir(jobDir);
  if (run === null || !existsSync(join(run, 'metrics.jsonl'))) return null;
  const rows = jsonLines(readFileSync(join(run, 'metrics.jsonl'), 'utf8'));
  return rows.filter((r) => typeof r.step === 'number' && r.metrics);
}

/** The training run's logged rollouts (samples.jsonl, every logSamplesEvery steps), or []. */
function readTrainingSamples(jobDir) {
  const run = onlyRunDir(jobDir);
  if (run === null || !existsSync(join(run, 'samples.jsonl'))) return [];
  return jsonLines(readFileSync(join(run, 'samples.jsonl'), 'utf8'));
}

/**
 * Area over one item's "same answer" curve as eval computes the report's AOC: the curve is read on
 * the uniform grid 0, 0.1, …, 1 (linear between its points, flat beyond its ends) and 1 minus the
 * trapezoid area under it. The mean over items of this value equals the AOC of eval's mean curve.
 */
const areaOver = (curve) => {
  const { x, y } = curve;
  const at = (t) => {
    if (t <= x[0]) return y[0];
    for (let i = 1; i < x.length; i++)
      if (t <= x[i])
        return x[i] === x[i - 1]
          ? y[i]
          : y[i - 1] + ((y[i] - y[i - 1]) * (t - x[i - 1])) / (x[i] - x[i - 1]);
    return y[y.length - 1];
  };
  const grid = Array.from({ length: 11 }, (_, k) => k / 10);
  let a = 0;
  for (let i = 1; i < grid.length; i++) a += ((at(grid[i]) + at(grid[i - 1])) / 2) * 0.1;
  return 1 - a;
};

const normAnswer = (a) =>
  a === null || a === undefined ? null : String(a).trim().replace(/,/g, '');
const sameAnswer = (a, b) => {
  const x = normAnswer(a);
  const y = normAnswer(b);
  if (x === null || y === null) return false;
  const nx = Number(x);
  const ny = Number(y);
  return Number.isFinite(nx) && Number.isFinite(ny) && x !== '' && y !== '' ? nx === ny : x === y;
};

/** The mode labels that the stored completions of these evaluations carry, sorted. */
const modeLabels = (evals) =>
  [
    ...new Set(
      evals.flatMap((ev) => ev.samples.map((r) => r.mode).filter((m) => typeof m === 'string')),
    ),
  ].sort();

/**
 * Per-item measures of one evaluation: Map<measure, Map<itemId, value>>, and each item's greedy
 * mode. `labels` are the experiment's mode labels (all evaluations'), so a mode an evaluation never
 * produced has share 0 there, not a missing value.
 */
function perItem(ev, labels) {
  const out = new Map();
  const put = (measure, id, v) => {
    if (!out.has(measure)) out.set(measure, new Map());
    out.get(measure).set(id, v);
  };
  const byItem = new Map();
  const greedy = new Map();
  for (const r of ev.samples) {
    if (r.kind === 'greedy') greedy.set(r.itemId, r);
    else {
      if (!byItem.has(r.itemId)) byItem.set(r.itemId, []);
      byItem.get(r.itemId).push(r);
    }
  }
  for (const [id, rs] of byItem) {
    put('pass@1', id, mean(rs.map((r) => (r.correct ? 1 : 0))));
    put('cot_tokens', id, mean(rs.map((r) => r.cotTokens)));
    for (const label of labels)
      put(`mode/${label}`, id, mean(rs.map((r) => (r.mode === label ? 1 : 0))));
  }
  const greedyMode = new Map();
  for (const [id, g] of greedy) {
    put('greedy_accuracy', id, g.correct ? 1 : 0);
    if (typeof g.mode === 'string') greedyMode.set(id, g.mode);
    for (const label of labels) put(`greedy_mode/${label}`, id, g.mode === label ? 1 : 0);
  }
  const probes = ev.report.details ?? ev.report.items?.at(-1)?.probes ?? {};
  const gold = new Map(ev.samples.map((r) => [r.itemId, r.gold]));
  for (const it of probes.early_answering ?? []) {
    put('early_answering_aoc', it.id, areaOver(it.curve));
    put('empty_cot_keeps_answer', it.id, sameAnswer(it.answers[0], it.fullAnswer) ? 1 : 0);
  }
  for (const it of probes.adding_mistakes ?? [])
    put('adding_mistakes_aoc', it.id, areaOver(it.curve));
  for (const it of probes.filler ?? [])
    put(
      'filler_drop',
      it.id,
      (sameAnswer(it.fullAnswer, gold.get(it.id)) ? 1 : 0) -
        (sameAnswer(it.fillerAnswer, gold.get(it.id)) ? 1 : 0),
    );
  return { measures: out, greedyMode };
}

// The probes run on the greedy CoT; these are compared again within the greedy CoT's mode.
const PROBES = ['early_answering_aoc', 'adding_mistakes_aoc', 'filler_drop'];

// Measures in report order: [key, label, higher is more load-bearing / better?]
const MEASURES = [
  ['pass@1', 'pass@1 (T = 1)'],
  ['greedy_accuracy', 'greedy accuracy'],
  ['cot_tokens', 'CoT tokens (T = 1)'],
  ['early_answering_aoc', 'early-answering AOC (greedy CoT)'],
  ['adding_mistakes_aoc', 'adding-mistakes AOC (greedy CoT)'],
  ['filler_drop', 'filler accuracy drop (greedy CoT)'],
  ['empty_cot_keeps_answer', 'empty CoT keeps the answer (k = 0)'],
];

// ---------------------------------------------------------------------------------------------
// Main.

function parseArgs(argv) {
  const args = {
    dir: null,
    control: 'A-outcome',
    pairs: [],
    json: null,
    minItems: 10,
    seeds: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--control') args.control = argv[++i];
    else if (a === '--pair') args.pairs.push(argv[++i].split(':'));
    else if (a === '--json') args.json = argv[++i];
    else if (a === '--min-items') args.minItems = Number(argv[++i]);
    else if (a === '--seeds') args.seeds = argv[++i] ?? '';
    else if (args.dir === null) args.dir = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  const bad =
    !Number.isInteger(args.minItems) || args.minItems < 1
      ? `--min-items must be a positive integer (got ${argv[argv.indexOf('--min-items') + 1]})`
      : args.seeds !== null && !/^\d+(,\d+)*$/.test(args.seeds)
        ? `--seeds must be comma-separated seed numbers such as 0,1,2 (got "${args.seeds}")`
        : null;
  if (bad !== null) {
    process.stderr.write(`analyze.mjs: ${bad}\n`);
    process.exit(1);
  }
  if (args.seeds !== null) args.seeds = args.seeds.split(',').map(Number);
  if (args.dir === null) {
    process.stderr.write(
      'usage: node analyze.mjs <experiment folder> [--control ARM] [--pair X:Y ...] [--seeds 0,1,2] [--min-items N] [--json F]\n',
    );
    process.exit(1);
  }
  return args;
}

const f = (x, d = 3) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));
const sgn = (x, d = 3) =>
  x === null || Number.isNaN(x) ? '–' : `${x >= 0 ? '+' : ''}${x.toFixed(d)}`;
const fp = (p) =>
  p === null || p === undefined || Number.isNaN(p)
    ? '–'
    : p < 0.001
      ? p.toExponential(1)
      : p.toFixed(3);

function main() {
  const args = parseArgs(process.argv.slice(2));
  const runs = join(args.dir, 'runs');
  const jobs = readdirSync(runs)
    .map((d) => /^(.+)-s(\d+)-eval$/.exec(d))
    .filter((m) => m !== null)
    .map((m) => ({ arm: m[1], seed: Number(m[2]) }))
    .filter((j) => args.seeds === null || args.seeds.includes(j.seed));
  const arms = [...new Set(jobs.map((j) => j.arm))];
  const seeds = [...new Set(jobs.map((j) => j.seed))].sort((a, b) => a - b);
  const data = {}; // arm -> seed -> { items, summary, metrics }
  const evals = jobs
    .map((job) => ({ ...job, ev: readEval(join(runs, `${job.arm}-s${job.seed}-eval`)) }))
    .filter((job) => job.ev !== null);
  const startEval = readEval(join(runs, 'start-eval'));
  const labels = modeLabels([...evals.map((job) => job.ev), ...(startEval ? [startEval] : [])]);
  for (const { arm, seed, ev } of evals) {
    const pi = perItem(ev, labels);
    data[arm] ??= {};
    data[arm][seed] = {
      items: pi.measures,
      greedyMode: pi.greedyMode,
      summary: ev.report.summary,
      metrics: readMetrics(join(runs, `${arm}-s${seed}`)),
      trainingSamples: readTrainingSamples(join(runs, `${arm}-s${seed}`)),
      evalPath: ev.path,
    };
  }
  const start = startEval === null ? null : perItem(startEval, labels);
  const measures = [
    ...MEASURES,
    ...labels.map((l) => [`mode/${l}`, `${l} share (T = 1)`]),
    ...labels.map((l) => [`greedy_mode/${l}`, `${l} share (greedy)`]),
    ['mask_h', 'mask H (summary; no per-item value stored)'],
  ];
  // Arms with at least one finished evaluation (an evaluation still running has no report yet).
  const armOrder = arms
    .filter((a) => data[a] !== undefined)
    .sort((a, b) => (a === args.control ? -1 : b === args.control ? 1 : 0));
  const measureOf = (d, key) =>
    key === 'mask_h'
      ? (d.summary['saliency/mask_h'] ?? Number.NaN)
      : d.items.has(key)
        ? mean([...d.items.get(key).values()])
        : Number.NaN;
  const lines = [];
  const json = { experiment: args.dir, control: args.control, seeds, arms: {}, pairs: [] };
  lines.push(`# Statistics of \`${args.dir}\` (experiments/decisive/analyze.mjs)`, '');
  lines.push(
    `Finished evaluations: ${armOrder.map((a) => `${a} (seeds ${Object.keys(data[a]).join(', ')})`).join('; ')}${args.seeds === null ? '' : ` (only seeds ${args.seeds.join(', ')}: \`--seeds\`)`}.`,
    '',
  );

  // 1. Per-arm, per-seed values.
  lines.push('## Per seed (held-out test split)', '');
  lines.push(`| measure | ${start ? 'start | ' : ''}${armOrder.map((a) => a).join(' | ')} |`);
  lines.push(`| --- | ${start ? '---: | ' : ''}${armOrder.map(() => '---:').join(' | ')} |`);
  for (const [key, label] of measures) {
    const startVal = start
      ? key === 'mask_h'
        ? (startEval.report.summary['saliency/mask_h'] ?? Number.NaN)
        : start.measures.has(key)
          ? mean([...start.measures.get(key).values()])
          : Number.NaN
      : null;
    const cells = armOrder.map((a) => {
      const vals = seeds.filter((s) => data[a][s]).map((s) => measureOf(data[a][s], key));
      json.arms[a] ??= {};
      json.arms[a][key] = Object.fromEntries(
        seeds.filter((s) => data[a][s]).map((s) => [s, measureOf(data[a][s], key)]),
      );
      const ok = vals.filter((v) => !Number.isNaN(v));
      if (ok.length === 0) return '–';
      const digits = key === 'cot_tokens' ? 2 : 3;
      return `${f(mean(ok), digits)}${ok.length > 1 ? ` ± ${f(sd(ok), digits)}` : ''} (${vals.map((v) => f(v, digits)).join(' / ')})`;
    });
    lines.push(
      `| ${label} | ${start ? `${f(startVal, key === 'cot_tokens' ? 2 : 3)} | ` : ''}${cells.join(' | ')} |`,
    );
  }
  lines.push(
    '',
    'Cells: mean ± std over seeds (per-seed values in seed order). Per-seed value = mean over test items of the per-item value.',
    '',
  );

  // 2. Paired comparisons.
  // `--pair X:start` compares an arm with the starting policy (the same evaluation for every seed).
  if (start && args.pairs.some(([x, y]) => x === 'start' || y === 'start'))
    data.start = Object.fromEntries(
      seeds.map((s) => [
        s,
        { items: start.measures, greedyMode: start.greedyMode, summary: startEval.report.summary },
      ]),
    );
  const pairs = [
    ...armOrder.filter((a) => a !== args.control).map((a) => [a, args.control]),
    ...args.pairs,
  ];
  lines.push(
    '## Paired comparisons (same test items; per seed d ± SE over items, then across seeds)',
    '',
  );
  for (const [x, y] of pairs) {
    if (!data[x] || !data[y]) continue;
    const common = seeds.filter((s) => data[x][s] && data[y][s]);
    if (common.length === 0) continue;
    lines.push(`### ${x} − ${y} (seeds ${common.join(', ')})`, '');
    lines.push(
      '| measure | per seed: d ± SE (z) | mean d | paired t across seeds | every seed beyond 2 SE |',
    );
    lines.push('| --- | --- | ---: | --- | --- |');
    const pairJson = { x, y, seeds: common, measures: {} };
    for (const [key, label] of measures) {
      const perSeed = common.map((s) => {
        if (key === 'mask_h') {
          const a = data[x][s].summary['saliency/mask_h'];
          const b = data[y][s].summary['saliency/mask_h'];
          const sa = data[x][s].summary['saliency/mask_h_se'];
          const sb = data[y][s].summary['saliency/mask_h_se'];
          if (typeof a !== 'number' || typeof b !== 'number') return null;
          // Unpaired: the per-item H is not stored; SE from the two summaries.
          return {
            d: a - b,
            se: Math.sqrt((sa ?? Number.NaN) ** 2 + (sb ?? Number.NaN) ** 2),
            n: null,
          };
        }
        return pairedItems(data[x][s].items.get(key), data[y][s].items.get(key));
      });
      if (perSeed.every((p) => p === null)) continue;
      const t = pairedT(
        common.map((s) => measureOf(data[x][s], key)),
        common.map((s) => measureOf(data[y][s], key)),
      );
      const beyond = everySeedBeyond2SE(perSeed);
      const digits = key === 'cot_tokens' ? 2 : 3;
      lines.push(
        `| ${label} | ${perSeed.map((p, i) => (p === null ? `s${common[i]}: –` : `s${common[i]}: ${sgn(p.d, digits)} ± ${f(p.se, digits)} (${f(p.d / p.se, 1)})`)).join('; ')} | ${sgn(t.mean, digits)} | ${t.p === null ? '–' : `t = ${f(t.t, 2)}, p = ${fp(t.p)}`} | ${beyond ? (perSeed[0].d > 0 ? 'yes, higher' : 'yes, lower') : 'no'} |`,
      );
      pairJson.measures[key] = { perSeed, acrossSeeds: t, everySeedBeyond2SE: beyond };
    }
    json.pairs.push(pairJson);
    lines.push('');
  }
  lines.push(
    "mask H has no stored per-item value, so its per-seed difference is unpaired (SE from the two evaluations' summaries).",
    '',
  );

  // 2b. The probes within the greedy CoT's mode: per seed, the items whose greedy CoT has that mode
  // in both arms, d ± SE over them; across seeds, the t-test of the per-seed d (df = seeds - 1).
  // It compares how load-bearing CoTs of the same form are, whatever each arm's mode mix.
  const within = [];
  for (const [x, y] of pairs) {
    if (!data[x] || !data[y]) continue;
    const common = seeds.filter((s) => data[x][s] && data[y][s]);
    for (const label of labels) {
      for (const key of PROBES) {
        const perSeed = common.map((s) =>
          pairedItems(
            data[x][s].items.get(key),
            data[y][s].items.get(key),
            (id) =>
              data[x][s].greedyMode.get(id) === label && data[y][s].greedyMode.get(id) === label,
          ),
        );
        if (perSeed.some((p) => p === null || p.n < args.minItems)) continue;
        const ds = perSeed.map((p) => p.d);
        const t = pairedT(
          ds,
          ds.map(() => 0),
        );
        within.push({ x, y, mode: label, measure: key, seeds: common, perSeed, acrossSeeds: t });
      }
    }
  }
  if (within.length > 0) {
    lines.push(
      "## The probes within the greedy CoT's mode (items whose greedy CoT has that mode in both arms)",
      '',
      `Rows with at least ${args.minItems} such items in every seed (\`--min-items\`).`,
      '',
      '| pair | greedy mode | measure | per seed: d ± SE (items) | mean d | t-test of the per-seed d | every seed beyond 2 SE |',
      '| --- | --- | --- | --- | ---: | --- | --- |',
    );
    const label = Object.fromEntries(MEASURES);
    for (const w of within) {
      w.everySeedBeyond2SE = everySeedBeyond2SE(w.perSeed);
      const cells = w.perSeed
        .map((p, i) => `s${w.seeds[i]}: ${sgn(p.d)} ± ${f(p.se)} (${p.n})`)
        .join('; ');
      const t = w.acrossSeeds;
      lines.push(
        `| ${w.x} − ${w.y} | ${w.mode} | ${label[w.measure]} | ${cells} | ${sgn(t.mean)} | ${t.p === null ? '–' : `t = ${f(t.t, 2)}, p = ${fp(t.p)}`} | ${w.everySeedBeyond2SE ? (w.perSeed[0].d > 0 ? 'yes, higher' : 'yes, lower') : 'no'} |`,
      );
    }
    lines.push('');
    json.withinGreedyMode = within;
  }

  // 3. Training curves of the mode shares and the reward's cost.
  const curveKeys = labels.map((l) => `modes/${l}`);
  const haveMetrics = armOrder.filter((a) => seeds.some((s) => data[a][s]?.metrics));
  if (haveMetrics.length > 0) {
    lines.push('## Mode shares of the training rollouts, per step (mean over seeds)', '');
    for (const key of curveKeys) {
      const steps = Math.max(
        0,
        ...haveMetrics.flatMap((a) => seeds.map((s) => data[a][s]?.metrics?.length ?? 0)),
      );
      if (steps === 0) continue;
      const any = haveMetrics.some((a) =>
        seeds.some((s) => data[a][s]?.metrics?.some((r) => typeof r.metrics[key] === 'number')),
      );
      if (!any) continue;
      lines.push(`### ${key}`, '');
      lines.push(`| arm | ${Array.from({ length: steps }, (_, i) => i + 1).join(' | ')} |`);
      lines.push(`| --- | ${Array.from({ length: steps }, () => '---:').join(' | ')} |`);
      for (const a of haveMetrics) {
        const row = Array.from({ length: steps }, (_, i) => {
          const vals = seeds
            .map((s) => data[a][s]?.metrics?.find((r) => r.step === i + 1)?.metrics[key])
            .filter((v) => typeof v === 'number');
          return vals.length ? f(mean(vals), 2) : '–';
        });
        lines.push(`| ${a} | ${row.join(' | ')} |`);
      }
      lines.push('');
    }
    lines.push('## Cost per step (training metrics, mean over steps, then over seeds)', '');
    lines.push(
      '| arm | step s (generation + reward + update) | reward s | reward ms per rollout | forward passes per rollout | backward passes per rollout | step / control (per seed) |',
    );
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
    const stepTime = (rows) =>
      mean(
        rows.map(
          (r) =>
            (r.metrics['time/generation'] ?? 0) +
            (r.metrics['time/reward'] ?? 0) +
            (r.metrics['time/update'] ?? 0),
        ),
      );
    const rewardNames = (rows) =>
      [
        ...new Set(
          rows.flatMap((r) =>
            Object.keys(r.metrics)
              .map((k) => /^time\/reward_per_rollout\/(.+)$/.exec(k)?.[1])
              .filter((k) => k !== undefined),
          ),
        ),
      ].filter((n) => n !== 'outcome' && n !== 'format');
    for (const a of haveMetrics) {
      const ss = seeds.filter((s) => data[a][s]?.metrics?.length);
      const per = ss.map((s) => data[a][s].metrics);
      const names = [...new Set(per.flatMap(rewardNames))];
      const avg = (key) => {
        const v = per.map((rows) => mean(rows.map((r) => r.metrics[key] ?? 0)));
        return mean(v);
      };
      const ratios = ss
        .filter((s) => data[args.control]?.[s]?.metrics?.length)
        .map(
          (s) =>
            `s${s}: ${f(stepTime(data[a][s].metrics) / stepTime(data[args.control][s].metrics), 2)}×`,
        );
      const pick = (prefix, suffix, scale = 1) =>
        names.length === 0
          ? '0'
          : names
              .map(
                (n) =>
                  `${n} ${f(avg(`${prefix}${n}${suffix}`) * scale, prefix.startsWith('time/reward_per') ? 1 : 2)}`,
              )
              .join(', ');
      lines.push(
        `| ${a} | ${f(mean(per.map(stepTime)), 1)} | ${f(avg('time/reward'), 1)} | ${pick('time/reward_per_rollout/', '', 1000)} | ${pick('rewards/', '/forward_passes_per_rollout')} | ${pick('rewards/', '/backward_passes_per_rollout')} | ${ratios.join('; ')} |`,
      );
    }
    lines.push(
      '',
      "Step time is the sum of the logged generation, reward and update phases (wall seconds); jobs ran two at a time on the machine's 2 cores, so a ratio is meaningful only between jobs that shared it alike.",
      '',
    );
  }
  // 4. Each reward by the mode of its rollout's CoT, from the logged training samples
  // (samples.jsonl, every logSamplesEvery steps): on hint-modes the mode its marker names, on other
  // tasks the mode the sample log recorded.
  const byMarker = (completion) => {
    const c = completion.trim();
    return c.startsWith('Calc:') ? 'compute' : c.startsWith('Note:') ? 'decorative' : null;
  };
  const hintModes = labels.includes('compute') && labels.includes('decorative');
  const modeOf = (r) =>
    hintModes ? byMarker(r.completion ?? '') : typeof r.mode === 'string' ? r.mode : null;
  const rewardRows = [];
  for (const a of armOrder) {
    for (const s of seeds) {
      if (!data[a]?.[s]) continue;
      const acc = new Map();
      for (const r of data[a][s].trainingSamples) {
        const mode = modeOf(r);
        if (mode === null) continue;
        for (const [name, v] of Object.entries(r.rewards ?? {})) {
          if (typeof v !== 'number') continue;
          const k = `${name}|${mode}`;
          if (!acc.has(k)) acc.set(k, []);
          acc.get(k).push(v);
        }
      }
      for (const [k, vs] of acc) {
        const [name, mode] = k.split('|');
        rewardRows.push({ arm: a, seed: s, name, mode, n: vs.length, mean: mean(vs), se: se(vs) });
      }
    }
  }
  if (rewardRows.length > 0) {
    const cols = [...new Set(rewardRows.map((r) => r.mode))].sort();
    const diff = hintModes && cols.includes('compute') && cols.includes('decorative');
    lines.push(
      `## Each reward by the rollout CoT's mode (${hintModes ? 'hint-modes markers' : 'the logged mode'}; logged training samples)`,
      '',
      `| arm | seed | reward | ${cols.map((c) => `${c}: mean ± SE (n)`).join(' | ')} |${diff ? ' decorative − compute |' : ''}`,
      `| --- | ---: | --- | ${cols.map(() => '---').join(' | ')} |${diff ? ' ---: |' : ''}`,
    );
    const keys = [...new Set(rewardRows.map((r) => `${r.arm}|${r.seed}|${r.name}`))];
    for (const key of keys) {
      const [arm, seed, name] = key.split('|');
      const get = (mode) =>
        rewardRows.find(
          (r) => r.arm === arm && `${r.seed}` === seed && r.name === name && r.mode === mode,
        );
      const cell = (r) => (r ? `${f(r.mean)} ± ${f(r.se)} (${r.n})` : '–');
      const c = get('compute');
      const d = get('decorative');
      lines.push(
        `| ${arm} | ${seed} | ${name} | ${cols.map((m) => cell(get(m))).join(' | ')} |${diff ? ` ${c && d ? sgn(d.mean - c.mean) : '–'} |` : ''}`,
      );
    }
    lines.push('');
    json.rewardByMode = rewardRows;
  }
  // The fitted mask of the logged saliency rollouts by CoT part: θ and relevance averaged over the
  // marker's 5 tokens and over the equations after it, per rollout, then over rollouts.
  const partRows = new Map();
  for (const a of armOrder) {
    for (const s of seeds) {
      if (!data[a]?.[s]) continue;
      for (const r of data[a][s].trainingSamples) {
        const mode = byMarker(r.completion ?? '');
        const toks = (r.tokens ?? []).filter(
          (t) => t.span === 'cot' && typeof t.theta === 'number',
        );
        if (mode === null || toks.length < 8) continue;
        // Byte tokens: ' ', the 5 marker characters, ' ', then the equations.
        const start = toks.findIndex((t) => t.text.trim() !== '');
        const parts = { marker: toks.slice(start, start + 5), equations: toks.slice(start + 5) };
        for (const [part, ts] of Object.entries(parts)) {
          const k = `${a}|${mode}|${part}`;
          if (!partRows.has(k)) partRows.set(k, { theta: [], relevance: [] });
          partRows.get(k).theta.push(mean(ts.map((t) => t.theta)));
          partRows.get(k).relevance.push(mean(ts.map((t) => t.relevance ?? 0)));
        }
      }
    }
  }
  if (partRows.size > 0) {
    lines.push(
      '## The fitted mask by CoT part (hint-modes; logged rollouts with a fitted mask, all seeds)',
      '',
      '| arm | mode | part | rollouts | θ (init c = -0.4) | relevance |',
      '| --- | --- | --- | ---: | --- | --- |',
    );
    for (const [k, v] of partRows) {
      const [arm, mode, part] = k.split('|');
      lines.push(
        `| ${arm} | ${mode} | ${part} | ${v.theta.length} | ${f(mean(v.theta))} ± ${f(se(v.theta))} | ${f(mean(v.relevance))} ± ${f(se(v.relevance))} |`,
      );
    }
    lines.push('');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  if (args.json) writeFileSync(args.json, `${JSON.stringify(json, null, 1)}\n`);
}

if (process.argv[1]?.endsWith('analyze.mjs')) main();
