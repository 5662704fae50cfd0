// Every completion an evaluation generates is returned, and the report's accuracy, CoT-length and
// mode numbers recompute exactly from the stored file (written and read back as gzip'd JSONL).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEvalSamples, writeEvalSamples } from '@atmanrl/runs/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EvaluateResult, evaluate } from '../src/index.js';
import { encodePlainPrompt, loadTinyModel, setUpBackend, tinySamples } from './tiny-models.js';

const dir = mkdtempSync(join(tmpdir(), 'eval-samples-'));
let sampled: EvaluateResult;
let greedyOnly: EvaluateResult;
let byClassifier: EvaluateResult;
/** A task's own mode classifier: here by the parity of the gold answer (reads the sample). */
const parity = {
  labels: ['even', 'odd'],
  classify: (sample: { gold: string }, _cot: string) =>
    Number(sample.gold) % 2 === 0 ? 'even' : 'odd',
};

beforeAll(async () => {
  await setUpBackend();
  const model = await loadTinyModel('uses-cot');
  try {
    const common = {
      seed: 5,
      limit: 6,
      encodePrompt: encodePlainPrompt(model),
      maxNewTokens: 24,
      reasoningModes: true,
      metrics: {
        saliency: false,
        atmanAgreement: false,
        addingMistakes: false,
        filler: false,
        earlyAnswering: false,
      },
    };
    sampled = await evaluate(model, tinySamples('uses-cot', 12), {
      ...common,
      passK: [1, 3],
      numSamples: 3,
      temperature: 1.5,
    });
    greedyOnly = await evaluate(model, tinySamples('uses-cot', 12), {
      ...common,
      passK: [1, 2],
      temperature: 0,
    });
    byClassifier = await evaluate(model, tinySamples('uses-cot', 12), {
      ...common,
      reasoningModes: parity,
      passK: [1, 2],
      numSamples: 2,
      temperature: 1.5,
    });
  } finally {
    model.dispose();
  }
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** pass@k by the definition: the share of k-subsets of the n samples holding a correct one. */
function passAtKByCounting(n: number, c: number, k: number): number {
  const choose = (a: number, b: number): number => {
    let r = 1;
    for (let i = 0; i < b; i++) r = (r * (a - i)) / (i + 1);
    return b > a ? 0 : r;
  };
  return 1 - choose(n - c, k) / choose(n, k);
}

describe('evaluate: stored samples', () => {
  it('keeps one greedy and numSamples sampled completions per item, with ids, text and judgement', () => {
    const s = sampled.samples;
    expect(s.filter((r) => r.kind === 'greedy')).toHaveLength(6);
    expect(s.filter((r) => r.kind === 'sample')).toHaveLength(18);
    for (let item = 0; item < 6; item++) {
      expect(
        s.filter((r) => r.itemIndex === item && r.kind === 'sample').map((r) => r.sampleIndex),
      ).toEqual([0, 1, 2]);
    }
    for (const r of s) {
      expect(r.completionIds.length).toBeGreaterThan(0);
      expect(r.completion.length).toBeGreaterThan(0);
      expect(r.mode).toBeDefined();
      expect(r.correct).toBe(r.parsedAnswer === r.gold);
    }
    expect(greedyOnly.samples.every((r) => r.kind === 'greedy')).toBe(true);
  });

  it('the report recomputes exactly from the file written and read back', () => {
    const path = join(dir, 'eval.samples.jsonl.gz');
    writeEvalSamples(path, sampled.samples);
    const back = readEvalSamples(path);
    expect(back.map(({ version: _, ...r }) => r)).toEqual(sampled.samples);
    const summary = sampled.report.summary;
    const items = [...new Set(back.map((r) => r.itemIndex))];
    const perItem = items.map((i) => back.filter((r) => r.itemIndex === i && r.kind === 'sample'));
    const all = perItem.flat();
    const greedy = back.filter((r) => r.kind === 'greedy');
    for (const k of [1, 3])
      expect(summary[`pass@${k}`]).toBeCloseTo(
        mean(perItem.map((s) => passAtKByCounting(3, s.filter((r) => r.correct).length, k))),
        12,
      );
    expect(summary['accuracy_greedy']).toBeCloseTo(
      mean(greedy.map((r) => (r.correct ? 1 : 0))),
      12,
    );
    expect(summary['cot_tokens/mean']).toBeCloseTo(mean(all.map((r) => r.cotTokens)), 12);
    for (const label of ['terse', 'verbose', 'bypass', 'other']) {
      expect(summary[`modes/${label}`]).toBeCloseTo(
        all.filter((r) => r.mode === label).length / all.length,
        12,
      );
      expect(summary[`modes_greedy/${label}`]).toBeCloseTo(
        greedy.filter((r) => r.mode === label).length / greedy.length,
        12,
      );
    }
  });

  it("a task's own classifier labels every stored completion and the report's shares", () => {
    const s = byClassifier.samples;
    for (const r of s) expect(r.mode).toBe(Number(r.gold) % 2 === 0 ? 'even' : 'odd');
    const sampledRecords = s.filter((r) => r.kind === 'sample');
    const summary = byClassifier.report.summary;
    for (const label of parity.labels) {
      const inMode = sampledRecords.filter((r) => r.mode === label);
      expect(summary[`modes/${label}`]).toBeCloseTo(inMode.length / sampledRecords.length, 12);
      expect(summary[`mode_accuracy/${label}`] ?? null).toEqual(
        inMode.length === 0 ? null : inMode.filter((r) => r.correct).length / inMode.length,
      );
    }
    expect(summary['modes/terse']).toBeUndefined();
  });

  it('at temperature 0 the greedy completion is every sample', () => {
    const summary = greedyOnly.report.summary;
    const greedy = greedyOnly.samples;
    const acc = mean(greedy.map((r) => (r.correct ? 1 : 0)));
    expect(summary['pass@1']).toBeCloseTo(acc, 12);
    expect(summary['cot_tokens/mean']).toBeCloseTo(mean(greedy.map((r) => r.cotTokens)), 12);
  });

  it('a file that is not gzip is refused naming it', () => {
    const path = join(dir, 'plain.samples.jsonl.gz');
    writeEvalSamples(path, []);
    expect(readEvalSamples(path)).toEqual([]);
    const bad = join(dir, 'bad.samples.jsonl.gz');
    writeFileSync(bad, '{"not":"gzip"}\n');
    expect(() => readEvalSamples(bad)).toThrow(/bad\.samples\.jsonl\.gz is not gzip'd JSONL/);
  });
});
