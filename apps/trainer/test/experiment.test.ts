// Smoke version of the experiment (issue 12): every arm for 1 step on a tiny model, evaluated
// before and after, report written; running it again resumes (nothing is redone).
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { EvalReport } from '@atmanrl/runs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { accuracyGains, meanStd } from '../src/_internal/experiment.js';
import { runCli } from '../src/cli-core.js';
import { COMMANDS } from '../src/commands/index.js';
import { captureIO, tempDir, tinyModelDir } from './helpers.js';

describe('atmanrl experiment (smoke)', () => {
  it('runs all four arms for one step, evaluates them, writes the report, and resumes', async () => {
    const dir = tempDir('exp-');
    const model = await tinyModelDir(4);
    const file = join(dir, 'smoke.yaml');
    writeFileSync(
      file,
      stringify({
        name: 'smoke',
        model,
        seeds: [0],
        jobs: 2,
        train: {
          maxSteps: 1,
          promptsPerStep: 2,
          numGenerations: 2,
          maxCompletionLength: 6,
          saliencySteps: 2,
          backend: 'cpu',
        },
        eval: { evalLimit: 2, evalSamples: 2, saliencySteps: 2, maxCompletionLength: 6 },
        arms: {
          'A-outcome': { saliencyReward: false },
          'B-reliance': { saliencyDirection: 'reliance' },
          'C-paper-literal': { saliencyDirection: 'paper-literal' },
          'D-reliance-gated': { saliencyDirection: 'reliance', saliencyGate: 'correct-only' },
        },
      }),
    );
    // --report-only before anything ran: exit 0, no job run, every job listed as not finished.
    const before = captureIO();
    expect(
      await runCli(['experiment', '--config', file, '--report-only'], before.io, COMMANDS),
    ).toBe(0);
    expect(before.out.join('\n')).toMatch(/0 of 9 jobs finished; report only, none run/);
    expect(existsSync(join(dir, 'smoke', 'runs'))).toBe(false);
    const empty = readFileSync(join(dir, 'smoke', 'REPORT.md'), 'utf8');
    expect(empty).toMatch(
      /Interim report: 0 of 9 jobs finished.*Not finished: start-eval, A-outcome-s0/,
    );
    expect(empty).not.toMatch(/\| pass@1 /); // no evaluation: no metric rows
    const first = captureIO();
    expect(await runCli(['experiment', '--config', file], first.io, COMMANDS)).toBe(0);
    expect(first.out.join('\n')).toMatch(/9 jobs, 0 already done/);
    const report = readFileSync(join(dir, 'smoke', 'REPORT.md'), 'utf8');
    expect(report).toMatch(/All 9 jobs finished\./);
    expect(report).not.toMatch(/\(n = \d\)/);
    for (const arm of ['A-outcome', 'B-reliance', 'C-paper-literal', 'D-reliance-gated'])
      expect(report).toContain(arm);
    expect(report).toMatch(/\| pass@1 .*\|/);
    expect(report).toMatch(/## Predictions \(written before the runs\)/);
    expect(report).toMatch(/\| A-outcome \| s0: [+-]?\d\.\d{3} \(.* SE\) \| (yes|no) \|/);
    const results = JSON.parse(readFileSync(join(dir, 'smoke', 'results.json'), 'utf8'));
    expect(Object.keys(results.arms)).toHaveLength(4);
    expect(results.arms['B-reliance']['pass@1'].n).toBe(1);
    expect(existsSync(join(dir, 'smoke', 'curve-accuracy.svg'))).toBe(true);
    // The paper-literal arm logged the saliency reward as H/c, the reliance arm as 1 - H/c.
    const sal = (arm: string) =>
      readFileSync(
        join(
          dir,
          'smoke',
          'runs',
          `${arm}-s0`,
          readdirFirst(join(dir, 'smoke', 'runs', `${arm}-s0`)),
          'metrics.jsonl',
        ),
        'utf8',
      );
    const b = JSON.parse(sal('B-reliance')).metrics['rewards/saliency/mean'];
    const c = JSON.parse(sal('C-paper-literal')).metrics['rewards/saliency/mean'];
    expect(b + c).toBeCloseTo(1, 5);
    const again = captureIO();
    expect(await runCli(['experiment', '--config', file], again.io, COMMANDS)).toBe(0);
    expect(again.out.join('\n')).toMatch(/9 jobs, 9 already done/);
    // An interim report: D's evaluation not finished (its folder gone) leaves D's cells empty and
    // says so; the other arms keep their numbers.
    rmSync(join(dir, 'smoke', 'runs', 'D-reliance-gated-s0-eval'), { recursive: true });
    const partial = captureIO();
    expect(
      await runCli(['experiment', '--config', file, '--report-only'], partial.io, COMMANDS),
    ).toBe(0);
    expect(partial.out.join('\n')).toMatch(/8 of 9 jobs finished.*D-reliance-gated-s0-eval/);
    const interim = readFileSync(join(dir, 'smoke', 'REPORT.md'), 'utf8');
    expect(interim).toMatch(
      /Interim report: 8 of 9 jobs finished\.\*\* Not finished: D-reliance-gated-s0-eval\./,
    );
    expect(interim).toMatch(/\| pass@1 \|[^\n]*\| – \|\n/); // D is the last column
    expect(interim).toMatch(/\| D-reliance-gated \| s0: – \| 0 of 0 finished seeds, 1 to run \|/);
    const res = JSON.parse(readFileSync(join(dir, 'smoke', 'results.json'), 'utf8'));
    expect(res.jobs).toEqual({ total: 9, finished: 8 });
    expect(res.arms['A-outcome']['pass@1'].n).toBe(1);
    // The machine sentence counts the finished jobs per machine recorded in their run.json: one job
    // moved to another machine, one written before run.json recorded it.
    const edit = (job: string, change: (info: Record<string, unknown>) => void) => {
      const folder = join(dir, 'smoke', 'runs', job);
      const path = join(folder, readdirFirst(folder), 'run.json');
      const info = JSON.parse(readFileSync(path, 'utf8'));
      change(info);
      writeFileSync(path, JSON.stringify(info));
    };
    const here = `${cpus().length} × ${cpus()[0]!.model.trim()}`;
    expect(interim).toContain(`Machine: ${here} (8 jobs).`);
    edit('A-outcome-s0', (info) => delete info['machine']);
    edit('B-reliance-s0', (info) => {
      info['machine'] = { cpu: 'Other CPU', cores: 64 };
    });
    expect(
      await runCli(['experiment', '--config', file, '--report-only'], captureIO().io, COMMANDS),
    ).toBe(0);
    expect(readFileSync(join(dir, 'smoke', 'REPORT.md'), 'utf8')).toContain(
      `Machines: ${here} (6 jobs); 64 × Other CPU (1 job); not recorded for 1 job (run.json before it recorded the machine). Wall times compare only between jobs on the same machine.`,
    );
  }, 600_000);

  it('an invalid experiment file lists every problem', async () => {
    const dir = tempDir('exp-');
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      stringify({ name: 'x y', model: 'm', seeds: [], train: { maxStep: 1 }, eval: {}, arms: {} }),
    );
    const { io, err } = captureIO();
    expect(await runCli(['experiment', '--config', file], io, COMMANDS)).toBe(1);
    const text = err.join('\n');
    expect(text).toMatch(/name: letters, digits/);
    expect(text).toMatch(/seeds: Too small/);
    expect(text).toMatch(/train: Unrecognized key.*maxStep/);
  });

  it('meanStd uses the sample standard deviation', () => {
    expect(meanStd([1, 2, 3])).toEqual({ mean: 2, std: 1, n: 3 });
    expect(meanStd([5, Number.NaN])).toEqual({ mean: 5, std: 0, n: 1 });
  });
});

function readdirFirst(dir: string): string {
  return readdirSync(dir)[0]!;
}

describe('accuracyGains', () => {
  it('measures the change of pass@1 in standard errors (hand-computed)', () => {
    const report = (p: number, se: number): EvalReport => ({
      version: 1,
      name: 'eval',
      createdAt: '2026-01-01T00:00:00.000Z',
      model: 'start',
      dataset: { name: 'arith', split: 'test', seed: 0 },
      summary: { 'pass@1': p, 'pass@1_se': se },
      curves: [],
    });
    const g = accuracyGains({ 'pass@1': 0.8, 'pass@1_se': 0.03 }, [report(0.9, 0.04), null]);
    expect(g[0]!.diff).toBeCloseTo(0.1, 12);
    expect(g[0]!.z).toBeCloseTo(0.1 / 0.05, 12); // sqrt(0.03² + 0.04²) = 0.05
    expect(Number.isNaN(g[1]!.diff)).toBe(true);
  });
});
