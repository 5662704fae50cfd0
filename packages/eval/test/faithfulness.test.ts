// Cross-package test: every faithfulness measure separates a model whose answer depends on its CoT
// from one that ignores it, in the documented direction and by a stated margin.
import { EvalReportSchema } from '@atmanrl/runs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type EvaluateResult, evaluate } from '../src/index.js';
import {
  type Behaviour,
  encodePlainPrompt,
  loadTinyModel,
  setUpBackend,
  tinySamples,
} from './tiny-models.js';

const results = new Map<Behaviour, EvaluateResult>();
let tensorsLeaked = 0;
const stages = new Set<string>();

beforeAll(async () => {
  await setUpBackend();
  for (const behaviour of ['uses-cot', 'ignores-cot'] as const) {
    const model = await loadTinyModel(behaviour);
    const before = tf.memory().numTensors;
    const r = await evaluate(model, tinySamples(behaviour, 16), {
      name: behaviour,
      modelName: behaviour,
      dataset: { name: 'arithmetic', split: 'test' },
      seed: 3,
      limit: 12,
      encodePrompt: encodePlainPrompt(model),
      maxNewTokens: 24,
      temperature: 1,
      onProgress: (e) => stages.add(e.stage),
      saliencyFit: { steps: 100, lr: 0.004 },
    });
    tensorsLeaked += tf.memory().numTensors - before;
    results.set(behaviour, r);
    model.dispose();
  }
});

const s = (b: Behaviour, key: string): number => {
  const v = results.get(b)?.report.summary[key];
  if (typeof v !== 'number') throw new Error(`${b}: summary ${key} is ${v}`);
  return v;
};

/** y at x = 0 minus the curve's AUC: how far p(gold) falls as tokens are deleted. */
const drop = (b: Behaviour, name: string, from: 'first' | 'last'): number => {
  const c = results.get(b)?.report.curves.find((x) => x.name === name);
  if (!c?.area) throw new Error(`${b}: no curve ${name}`);
  const y = from === 'first' ? c.y[0] : c.y[c.y.length - 1];
  return (y as number) - c.area.value;
};

describe('faithfulness separates a CoT-using model (A) from a CoT-ignoring one (B)', () => {
  it('both models answer the task (so differences are not accuracy artefacts)', () => {
    expect(s('uses-cot', 'accuracy_greedy')).toBeGreaterThanOrEqual(0.9);
    expect(s('ignores-cot', 'accuracy_greedy')).toBeGreaterThanOrEqual(0.9);
    expect(s('uses-cot', 'items_with_cot')).toBe(12);
    expect(s('ignores-cot', 'items_with_cot')).toBe(12);
  });
  it('early answering: AOC(A) > AOC(B) + 0.3', () => {
    expect(s('uses-cot', 'early_answering/aoc')).toBeGreaterThan(
      s('ignores-cot', 'early_answering/aoc') + 0.3,
    );
  });
  it('adding mistakes: AOC(A) > AOC(B) + 0.5, and above its no-mistake control', () => {
    expect(s('uses-cot', 'adding_mistakes/aoc')).toBeGreaterThan(
      s('ignores-cot', 'adding_mistakes/aoc') + 0.5,
    );
    expect(s('uses-cot', 'adding_mistakes/aoc')).toBeGreaterThan(
      s('uses-cot', 'adding_mistakes/aoc_baseline') + 0.5,
    );
  });
  it('filler tokens: accuracy drop A > B + 0.2; A falls to near its no-CoT level', () => {
    expect(s('uses-cot', 'filler/accuracy_drop')).toBeGreaterThan(
      s('ignores-cot', 'filler/accuracy_drop') + 0.2,
    );
    expect(s('uses-cot', 'filler/same_answer')).toBeLessThan(
      s('ignores-cot', 'filler/same_answer') - 0.2,
    );
    expect(
      s('uses-cot', 'filler/filler_accuracy') - s('uses-cot', 'filler/no_cot_accuracy'),
    ).toBeLessThan(0.4);
  });
  it('comprehensiveness and sufficiency: A > B by 0.05 and 0.5 (mask order and random order)', () => {
    expect(s('uses-cot', 'saliency/comprehensiveness')).toBeGreaterThan(
      s('ignores-cot', 'saliency/comprehensiveness') + 0.05,
    );
    expect(s('uses-cot', 'saliency/comprehensiveness_random')).toBeGreaterThan(
      s('ignores-cot', 'saliency/comprehensiveness_random') + 0.05,
    );
    expect(s('uses-cot', 'saliency/sufficiency')).toBeGreaterThan(
      s('ignores-cot', 'saliency/sufficiency') + 0.5,
    );
    expect(s('uses-cot', 'saliency/sufficiency_random')).toBeGreaterThan(
      s('ignores-cot', 'saliency/sufficiency_random') + 0.5,
    );
  });
  it('deletion / insertion: p(gold) moves with the CoT for A (by > 0.2), not for B (< 0.05)', () => {
    expect(drop('uses-cot', 'deletion', 'first')).toBeGreaterThan(0.2);
    expect(Math.abs(drop('ignores-cot', 'deletion', 'first'))).toBeLessThan(0.05);
    expect(drop('uses-cot', 'insertion', 'last')).toBeGreaterThan(0.2);
    expect(Math.abs(drop('ignores-cot', 'insertion', 'last'))).toBeLessThan(0.05);
  });
  it('AtMan agreement is a finite correlation with a near-zero random baseline', () => {
    for (const b of ['uses-cot', 'ignores-cot'] as const) {
      expect(Math.abs(s(b, 'atman_agreement/spearman'))).toBeLessThanOrEqual(1);
      expect(Math.abs(s(b, 'atman_agreement/spearman_random'))).toBeLessThan(0.4);
    }
  });
  it('reports validate, hold every curve point, and leak no tensors', () => {
    expect(tensorsLeaked).toBe(0);
    expect([...stages]).toEqual([
      'generate',
      'early_answering',
      'adding_mistakes',
      'filler',
      'saliency',
      'atman_agreement',
      'done',
    ]);
    for (const b of ['uses-cot', 'ignores-cot'] as const) {
      const r = results.get(b)!.report;
      expect(EvalReportSchema.parse(r)).toEqual(r);
      const names = r.curves.map((c) => c.name);
      expect(names).toEqual(['early_answering', 'adding_mistakes', 'deletion', 'insertion']);
      for (const c of r.curves) {
        expect(c.x).toHaveLength(11);
        expect(c.baseline?.x).toHaveLength(11);
      }
      expect(results.get(b)!.markdown).toContain('| early_answering/aoc |');
    }
  });
  it('is reproducible: the same seed gives the same report', async () => {
    const model = await loadTinyModel('uses-cot');
    try {
      const again = await evaluate(model, tinySamples('uses-cot', 12), {
        name: 'uses-cot',
        modelName: 'uses-cot',
        dataset: { name: 'arithmetic', split: 'test' },
        seed: 3,
        limit: 4,
        encodePrompt: encodePlainPrompt(model),
        maxNewTokens: 24,
        metrics: { saliency: false, atmanAgreement: false, addingMistakes: false },
      });
      const once = await evaluate(model, tinySamples('uses-cot', 12), {
        seed: 3,
        limit: 4,
        encodePrompt: encodePlainPrompt(model),
        maxNewTokens: 24,
        metrics: { saliency: false, atmanAgreement: false, addingMistakes: false },
      });
      expect(again.report.summary).toEqual(once.report.summary);
      const modes = await evaluate(model, tinySamples('uses-cot', 12), {
        seed: 3,
        limit: 4,
        encodePrompt: encodePlainPrompt(model),
        maxNewTokens: 24,
        metrics: {
          saliency: false,
          atmanAgreement: false,
          addingMistakes: false,
          filler: false,
          earlyAnswering: false,
        },
        reasoningModes: true,
      });
      const sm = modes.report.summary;
      const shares = ['terse', 'verbose', 'bypass', 'other'].map((k) => sm[`modes/${k}`] as number);
      expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(sm['pass@1_se']).toBeGreaterThanOrEqual(0);
      expect(sm['pass@1_se']).toBeLessThanOrEqual(0.5);
      expect(once.report.summary['modes/terse']).toBeUndefined();
      expect(again.report.curves).toEqual(once.report.curves);
    } finally {
      model.dispose();
    }
  });
});
