import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers.js';
import { loadRun } from '../reader.js';
import { fsRunSource } from './fs-source.js';
import { RunWriter } from './writer.js';

const fixedNow = () => new Date('2026-11-26T12:00:00.000Z');

function newRun(runsDir: string, name = 'demo') {
  return RunWriter.create({
    runsDir,
    command: 'train',
    name,
    config: { lr: 1e-6 },
    seed: 7,
    backend: { name: 'cpu' },
    now: fixedNow,
  });
}

const sample = (step: number) => ({
  step,
  promptIndex: 0,
  completionIndex: 1,
  sampleId: 'gsm8k-1',
  prompt: 'Q',
  completion: '2+2=4. #### 4',
  gold: '4',
  parsedAnswer: '4',
  correct: true,
  truncated: false,
  cotRange: [0, 6] as [number, number],
  answerRange: [12, 13] as [number, number],
  rewards: { outcome: 0, saliency: 0.4 },
  reward: 0.4,
  advantage: 1.2,
  completionTokens: 5,
  tokens: [{ text: '2', relevance: 0.5, span: 'cot' as const }],
});

describe('RunWriter', () => {
  it('creates a run with a unique id and status running', () => {
    const runs = tempDir();
    const a = newRun(runs);
    const b = newRun(runs);
    expect(a.id).not.toBe(b.id);
    expect(a.id).toMatch(/^20261126-120000-demo-[a-z0-9]+$/);
    const info = JSON.parse(readFileSync(join(a.dir, 'run.json'), 'utf8'));
    expect(info).toMatchObject({ version: 1, status: 'running', seed: 7, config: { lr: 1e-6 } });
    // The machine defaults to this one, as os.cpus() reports it.
    expect(info.machine).toEqual({ cpu: cpus()[0]!.model.trim(), cores: cpus().length });
    const other = RunWriter.create({
      runsDir: runs,
      command: 'train',
      config: {},
      seed: 0,
      backend: { name: 'cpu' },
      machine: { cpu: 'Other CPU', cores: 64 },
    });
    expect(JSON.parse(readFileSync(join(other.dir, 'run.json'), 'utf8')).machine).toEqual({
      cpu: 'Other CPU',
      cores: 64,
    });
  });

  it('refuses an existing id', () => {
    const runs = tempDir();
    const opts = {
      runsDir: runs,
      command: 'x',
      config: {},
      seed: 1,
      backend: { name: 'cpu' },
      id: 'same',
    };
    RunWriter.create(opts);
    expect(() => RunWriter.create(opts)).toThrow(/already exists/);
  });

  it('writes metrics, samples, evals and checkpoint pointers that the reader loads back', async () => {
    const runs = tempDir();
    const w = newRun(runs);
    w.logMetrics(1, { loss: 0.5, reward: Number.NaN });
    w.logSamples([sample(1)]);
    w.checkpointDir(1);
    w.commitCheckpoint(1);
    w.writeEval('final', {
      name: 'final',
      createdAt: fixedNow().toISOString(),
      model: 'tiny',
      dataset: { name: 'synthetic', split: 'test', seed: 0 },
      summary: { 'pass@1': 0.5 },
      curves: [{ name: 'early', xLabel: 'k', yLabel: 'same', x: [0, 1], y: [0.2, 1] }],
    });
    w.setStatus('finished');
    const run = await loadRun(fsRunSource(runs), w.id);
    expect(run.problems).toEqual([]);
    expect(run.info?.status).toBe('finished');
    expect(run.info?.step).toBe(1);
    expect(run.metrics[0]?.metrics).toEqual({ loss: 0.5, reward: null });
    expect(run.samples[0]?.tokens[0]?.relevance).toBe(0.5);
    expect(run.evals[0]?.summary['pass@1']).toBe(0.5);
    expect(run.latestCheckpoint).toMatchObject({ step: 1, path: 'checkpoints/step-1' });
    expect(w.latestCheckpoint()?.step).toBe(1);
  });

  it('rejects an invalid sample before writing anything', () => {
    const w = newRun(tempDir());
    expect(() => w.logSamples([{ ...sample(1), reward: 'high' as unknown as number }])).toThrow(
      /samples\.jsonl: invalid record: reward/,
    );
  });

  it('truncateAfter drops lines past the resumed checkpoint, and open() resumes the run', async () => {
    const runs = tempDir();
    const w = newRun(runs);
    for (let s = 1; s <= 5; s++) {
      w.logMetrics(s, { loss: s });
      w.logSamples([sample(s)]);
    }
    w.commitCheckpoint(3);
    w.setStatus('interrupted');
    const r = RunWriter.open(w.dir);
    expect(r.info.status).toBe('interrupted');
    r.truncateAfter(3);
    r.setStatus('running');
    r.logMetrics(4, { loss: 40 });
    const run = await loadRun(fsRunSource(runs), w.id);
    expect(run.metrics.map((m) => [m.step, m.metrics.loss])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 40],
    ]);
    expect(run.samples.map((s) => s.step)).toEqual([1, 2, 3]);
  });

  it('open() on a folder without run.json names the file', () => {
    expect(() => RunWriter.open(tempDir())).toThrow(/run\.json does not exist/);
  });
});
