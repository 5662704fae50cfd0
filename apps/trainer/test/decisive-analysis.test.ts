// experiments/decisive/analyze.mjs (issue 29's statistics from raw files) against hand-computed
// values on a two-item, two-seed, two-arm experiment folder written here.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const script = fileURLToPath(new URL('../../../experiments/decisive/analyze.mjs', import.meta.url));

/** One evaluation: per item, the correctness of its two T = 1 samples; modes; probe items. */
function writeEval(
  dir: string,
  correct: Record<string, [boolean, boolean]>,
  opts: {
    maskH: number;
    maskHSe: number;
    earlyY: Record<string, number[]>;
    greedyMode?: Record<string, string>;
  },
): void {
  const evalDir = join(dir, '20261207-000000-eval-test', 'eval');
  mkdirSync(evalDir, { recursive: true });
  const records = Object.entries(correct).flatMap(([itemId, cs]) => [
    {
      itemId,
      kind: 'greedy',
      correct: cs[0],
      cotTokens: 10,
      mode: opts.greedyMode?.[itemId] ?? 'compute',
      gold: '5',
    },
    ...cs.map((c, k) => ({
      itemId,
      kind: 'sample',
      sampleIndex: k,
      correct: c,
      cotTokens: c ? 10 : 20,
      mode: c ? 'compute' : 'decorative',
      gold: '5',
    })),
  ]);
  writeFileSync(
    join(evalDir, 'eval.samples.jsonl.gz'),
    gzipSync(`${records.map((r) => JSON.stringify(r)).join('\n')}\n`),
  );
  const probes = {
    early_answering: Object.entries(opts.earlyY).map(([id, y]) => ({
      id,
      fullAnswer: '5',
      answers: y.map((v) => (v === 1 ? '5' : '4')),
      curve: { x: y.map((_, k) => k / (y.length - 1)), y },
    })),
  };
  writeFileSync(
    join(evalDir, 'eval.json'),
    JSON.stringify({
      summary: { 'saliency/mask_h': opts.maskH, 'saliency/mask_h_se': opts.maskHSe },
      items: [{ probes }],
    }),
  );
}

describe('experiments/decisive/analyze.mjs', () => {
  it('gives per-seed values, paired per-item differences with SE and the across-seed paired t', () => {
    const exp = tempDir('decisive-');
    const runs = join(exp, 'runs');
    const early = { earlyY: { i1: [0, 1, 1], i2: [1, 1, 1] } }; // AOC 0.25 and 0
    const earlyB = { earlyY: { i1: [0, 0, 1], i2: [1, 1, 1] } }; // AOC 0.75 and 0
    // pass@1 per item: A s0 [1, 0.5], B s0 [1, 1]; A s1 [0.5, 0.5], B s1 [1, 1].
    writeEval(
      join(runs, 'A-outcome-s0-eval'),
      { i1: [true, true], i2: [true, false] },
      { maskH: -0.3, maskHSe: 0.03, ...early },
    );
    writeEval(
      join(runs, 'B-reliance-s0-eval'),
      { i1: [true, true], i2: [true, true] },
      { maskH: -0.2, maskHSe: 0.04, ...earlyB, greedyMode: { i2: 'decorative' } },
    );
    writeEval(
      join(runs, 'A-outcome-s1-eval'),
      { i1: [true, false], i2: [false, true] },
      { maskH: -0.3, maskHSe: 0.03, ...early },
    );
    writeEval(
      join(runs, 'B-reliance-s1-eval'),
      { i1: [true, true], i2: [true, true] },
      { maskH: -0.25, maskHSe: 0.04, ...earlyB },
    );
    const out = join(exp, 'stats.json');
    const r = spawnSync(process.execPath, [script, exp, '--min-items', '1', '--json', out], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/### B-reliance − A-outcome \(seeds 0, 1\)/);
    const stats = JSON.parse(readFileSync(out, 'utf8'));
    expect(stats.arms['A-outcome']['pass@1']).toEqual({ 0: 0.75, 1: 0.5 });
    expect(stats.arms['B-reliance']['pass@1']).toEqual({ 0: 1, 1: 1 });
    // CoT tokens per sample: 10 if correct else 20; modes follow correctness.
    expect(stats.arms['A-outcome'].cot_tokens[0]).toBeCloseTo(12.5, 12);
    expect(stats.arms['A-outcome']['mode/decorative'][1]).toBeCloseTo(0.5, 12);
    expect(stats.arms['A-outcome'].early_answering_aoc[0]).toBeCloseTo(0.125, 12);
    const [pair] = stats.pairs;
    expect([pair.x, pair.y]).toEqual(['B-reliance', 'A-outcome']);
    const p1 = pair.measures['pass@1'];
    // seed 0: d = [0, 0.5] -> mean 0.25, SE = sd / sqrt(2) = 0.25; seed 1: d = [0.5, 0.5] -> 0.5, SE 0.
    expect(p1.perSeed[0].d).toBeCloseTo(0.25, 12);
    expect(p1.perSeed[0].se).toBeCloseTo(0.25, 12);
    expect(p1.perSeed[1].d).toBeCloseTo(0.5, 12);
    expect(p1.perSeed[1].se).toBeCloseTo(0, 12);
    // Across seeds: diffs 0.25 and 0.5: mean 0.375, sd 0.1768, t = 3 with df 1,
    // p = 1 - (2/pi) atan(3).
    expect(p1.acrossSeeds.t).toBeCloseTo(3, 10);
    expect(p1.acrossSeeds.p).toBeCloseTo(1 - (2 / Math.PI) * Math.atan(3), 10);
    expect(p1.everySeedBeyond2SE).toBe(false); // seed 0: 0.25 = 1 SE
    // mask H has no per-item value: unpaired, SE from the two summaries.
    expect(pair.measures.mask_h.perSeed[0].d).toBeCloseTo(0.1, 12);
    expect(pair.measures.mask_h.perSeed[0].se).toBeCloseTo(0.05, 12);
    // Greedy mode shares: B s0's greedy CoT of i2 is decorative.
    expect(stats.arms['B-reliance']['greedy_mode/decorative']).toEqual({ 0: 0.5, 1: 0 });
    // The probes within the greedy CoT's mode: early-answering AOC, B - A, i1 +0.5, i2 0. Seed 0
    // keeps only i1 (B's greedy CoT of i2 is decorative): d = 0.5 over 1 item; seed 1 both items:
    // d = 0.25, SE 0.25. The per-seed d 0.5 and 0.25 give t = 3 (df 1), as above.
    const within = stats.withinGreedyMode.filter(
      (w: { measure: string }) => w.measure === 'early_answering_aoc',
    );
    expect(within.map((w: { mode: string }) => w.mode)).toEqual(['compute']);
    const [w] = within;
    expect(w.perSeed[0].n).toBe(1);
    expect(w.perSeed[0].d).toBeCloseTo(0.5, 12);
    expect(w.perSeed[1].n).toBe(2);
    expect(w.perSeed[1].d).toBeCloseTo(0.25, 12);
    expect(w.perSeed[1].se).toBeCloseTo(0.25, 12);
    expect(w.acrossSeeds.t).toBeCloseTo(3, 10);
    expect(w.acrossSeeds.p).toBeCloseTo(1 - (2 / Math.PI) * Math.atan(3), 10);
    expect(r.stdout).toMatch(/## The probes within the greedy CoT's mode/);
    // --seeds keeps only those seeds' jobs.
    const one = join(exp, 'one.json');
    const r1 = spawnSync(process.execPath, [script, exp, '--seeds', '1', '--json', one], {
      encoding: 'utf8',
    });
    expect(r1.status).toBe(0);
    expect(r1.stdout).toMatch(/only seeds 1/);
    expect(JSON.parse(readFileSync(one, 'utf8')).arms['A-outcome']['pass@1']).toEqual({ 1: 0.5 });
  });

  it('refuses a bad --seeds or --min-items with exit 1 and the option named', () => {
    const exp = tempDir('decisive-bad-');
    for (const [flag, value] of [
      ['--seeds', '0,x'],
      ['--seeds', ''],
      ['--min-items', '0'],
    ]) {
      const r = spawnSync(process.execPath, [script, exp, flag as string, value as string], {
        encoding: 'utf8',
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`${flag} must be`);
    }
  });
});
