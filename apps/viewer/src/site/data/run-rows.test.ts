import { describe, expect, it } from 'vitest';
import type { SiteSource } from '../source.js';
import {
  EVAL_HEAD_BYTES,
  evalLabel,
  lastMetrics,
  parseEvaluatedModel,
  readEvalSummary,
} from './run-rows.js';

describe('run rows', () => {
  const ids = ['A-outcome-s0/20261126-193829-a-outcome-s0-pic8', 'start-eval/2026-e', 'x/s0'];
  it('links an eval run to the run and checkpoint it evaluated', () => {
    const ev = parseEvaluatedModel(
      '/work/exp/runs/A-outcome-s0/20261126-193829-a-outcome-s0-pic8/checkpoints/step-24',
      ids,
    );
    expect(ev).toMatchObject({
      runId: 'A-outcome-s0/20261126-193829-a-outcome-s0-pic8',
      checkpoint: 'step-24',
      step: 24,
    });
    expect(evalLabel(ev, 'A-outcome-s0')).toBe('eval of A-outcome-s0 @ step-24');
    const sft = parseEvaluatedModel('/work/exp/sft-model/', ids);
    expect(sft).toMatchObject({ runId: null, checkpoint: null, step: null });
    expect(evalLabel(sft, null)).toBe('eval of sft-model');
    // a run outside this folder: labelled by its folder name
    const other = parseEvaluatedModel('C:\\runs\\r9\\checkpoints\\step-3', ids);
    expect(other.runId).toBeNull();
    expect(evalLabel(other, null)).toBe('eval of r9 @ step-3');
  });
  it('takes the last finite value of every metric', () => {
    const text = [
      { version: 1, step: 1, time: 't', metrics: { a: 1, b: 2 } },
      { version: 1, step: 2, time: 't', metrics: { a: null, b: 3 } },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n');
    expect(lastMetrics(`${text}\n`, 'm')).toEqual({
      last: { a: 1, b: 3 },
      lastStep: 2,
      problems: [],
    });
  });
  it('reads an eval summary from the head of the file only', async () => {
    const report = {
      version: 1,
      name: 'eval',
      createdAt: 't',
      model: 'm',
      dataset: { name: 'd', split: 's', seed: 0 },
      summary: { 'pass@1': 0.25, items: 60 },
      curves: [{ name: 'c', x: new Array(5000).fill(0.5), y: new Array(5000).fill(0.5) }],
    };
    const text = JSON.stringify(report);
    expect(text.length).toBeGreaterThan(EVAL_HEAD_BYTES);
    const reads: string[] = [];
    const site = {
      readHead: async (_p: string, n: number) => {
        reads.push(`head ${n}`);
        return text.slice(0, n);
      },
      source: {
        readText: async () => {
          reads.push('full');
          return text;
        },
      },
    } as unknown as SiteSource;
    const s = await readEvalSummary(site, 'r/eval/eval.json');
    expect(s).toEqual({ file: 'eval.json', name: 'eval', model: 'm', summary: report.summary });
    expect(reads).toEqual([`head ${EVAL_HEAD_BYTES}`]);
  });
});
