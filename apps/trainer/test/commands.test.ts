// The `saliency`, `eval` and `view --export` commands on a tiny model (in-process, cpu backend),
// and what `train` reports of its worker threads.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { loadRun } from '@atmanrl/runs';
import { fsRunSource, readEvalSamples } from '@atmanrl/runs/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli-core.js';
import { COMMANDS } from '../src/commands/index.js';
import { captureIO, tempDir, tinyModelDir, tinyTrainFlags } from './helpers.js';

let modelDir = '';
beforeAll(async () => {
  modelDir = await tinyModelDir(2);
});

describe('atmanrl saliency', () => {
  it('fits masks for JSONL traces and saves per-token relevance for every CoT token', async () => {
    const dir = tempDir();
    const traces = join(dir, 'traces.jsonl');
    writeFileSync(
      traces,
      `${JSON.stringify({ prompt: 'Q: 2+3=? A:', completion: ' 2+3=5. #### 5', gold: '5' })}\n${JSON.stringify({ prompt: 'Q: 4*2=? A:', completion: ' 4*2=8. #### 8', gold: '8' })}\n`,
    );
    const out = join(dir, 'relevance.json');
    const { io, out: lines } = captureIO();
    const code = await runCli(
      [
        'saliency',
        '--model',
        modelDir,
        '--traces',
        traces,
        '--saliency-steps',
        '4',
        '--backend',
        'cpu',
        '--out',
        out,
      ],
      io,
      COMMANDS,
    );
    expect(code).toBe(0);
    expect(lines.join('\n')).toMatch(/H -0\.\d+ \| reward reliance/);
    const saved = JSON.parse(readFileSync(out, 'utf8'));
    expect(saved.items).toHaveLength(2);
    const cot = saved.items[0].tokens.filter((t: { span: string }) => t.span === 'cot');
    // ' 2+3=5.' is 7 bytes = 7 tokens of the byte tokenizer, each with a relevance and an AtMan score.
    expect(cot.map((t: { text: string }) => t.text).join('')).toBe(' 2+3=5.');
    expect(
      cot.every(
        (t: { relevance: number; atman: number }) =>
          Number.isFinite(t.relevance) && Number.isFinite(t.atman),
      ),
    ).toBe(true);
    expect(saved.items[0].tokens.find((t: { span: string }) => t.span === 'answer').text).toBe('5');
  });

  it('names the file and line of a bad trace', async () => {
    const dir = tempDir();
    const traces = join(dir, 't.jsonl');
    writeFileSync(
      traces,
      `${JSON.stringify({ prompt: 'Q', completion: 'x', gold: '1' })}\n{"prompt": 3}\n`,
    );
    const { io, err } = captureIO();
    expect(
      await runCli(
        ['saliency', '--model', modelDir, '--traces', traces, '--backend', 'cpu'],
        io,
        COMMANDS,
      ),
    ).toBe(1);
    expect(err.join('\n')).toMatch(/t\.jsonl:2: needs string fields/);
  });
});

describe('atmanrl eval', () => {
  it('writes an eval report the run reader validates, with curves and baselines', async () => {
    const runs = tempDir();
    const { io, out } = captureIO();
    const code = await runCli(
      [
        'eval',
        '--model',
        modelDir,
        '--runs-dir',
        runs,
        '--eval-limit',
        '2',
        '--eval-samples',
        '2',
        '--saliency-steps',
        '2',
        '--max-completion-length',
        '8',
        '--backend',
        'cpu',
      ],
      io,
      COMMANDS,
    );
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/\| curve \| area \| value \| baseline \|/);
    const [id] = readdirSync(runs);
    const run = await loadRun(fsRunSource(runs), id!);
    expect(run.problems.filter((p) => p.code !== 'NOT_FOUND')).toEqual([]);
    expect(run.evals).toHaveLength(1);
    expect(run.evals[0]!.summary).toHaveProperty('pass@1');
    expect(run.evals[0]!.curves.map((c) => c.name)).toEqual(
      expect.arrayContaining(['deletion', 'insertion']),
    );
    // Every completion is stored beside the report, and a plain-Node script recomputes the
    // report's accuracy and CoT length from that file alone.
    const stored = readEvalSamples(join(runs, id!, 'eval', 'eval.samples.jsonl.gz'));
    expect(stored.filter((r) => r.kind === 'greedy')).toHaveLength(2);
    expect(stored.filter((r) => r.kind === 'sample')).toHaveLength(4);
    const script = fileURLToPath(
      new URL('../../../experiments/scripts/recompute-eval.mjs', import.meta.url),
    );
    const r = spawnSync(process.execPath, [script, join(runs, id!, 'eval', 'eval.json')], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const recomputed = JSON.parse(r.stdout);
    expect(recomputed.mismatches).toEqual([]);
    expect(Object.keys(recomputed.recomputed)).toEqual(
      expect.arrayContaining(['pass@1', 'pass@2', 'cot_tokens/mean', 'accuracy_greedy']),
    );
    expect(recomputed.recomputed['pass@1']).toBeCloseTo(
      run.evals[0]!.summary['pass@1'] as number,
      12,
    );
  });

  it('the recompute script reports a report that its samples contradict (exit 1)', async () => {
    const dir = tempDir();
    const samples = [0, 1].map((itemIndex) => ({
      version: 1,
      itemId: `i${itemIndex}`,
      itemIndex,
      kind: 'greedy',
      sampleIndex: 0,
      gold: '1',
      completionIds: [5],
      completion: '1',
      parsedAnswer: '1',
      correct: itemIndex === 0,
      isStrict: false,
      truncated: false,
      cotTokens: 2 + itemIndex,
    }));
    writeFileSync(
      join(dir, 'e.samples.jsonl.gz'),
      gzipSync(samples.map((x) => `${JSON.stringify(x)}\n`).join('')),
    );
    const summary = { 'pass@1': 0.5, accuracy_greedy: 0.5, 'cot_tokens/mean': 2.5, items: 2 };
    writeFileSync(join(dir, 'e.json'), JSON.stringify({ summary }));
    const script = fileURLToPath(
      new URL('../../../experiments/scripts/recompute-eval.mjs', import.meta.url),
    );
    const ok = spawnSync(process.execPath, [script, join(dir, 'e.json')], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).recomputed).toEqual(summary);
    writeFileSync(join(dir, 'e.json'), JSON.stringify({ summary: { ...summary, 'pass@1': 0.6 } }));
    const bad = spawnSync(process.execPath, [script, join(dir, 'e.json')], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout).mismatches).toEqual(['pass@1']);
  });
});

describe('atmanrl view --export', () => {
  it('exports the newest run as a static bundle', async () => {
    const runs = tempDir();
    const a = captureIO();
    expect(
      await runCli(
        ['train', ...tinyTrainFlags(modelDir, runs), '--max-steps', '1'],
        a.io,
        COMMANDS,
      ),
    ).toBe(0);
    const outDir = join(tempDir(), 'bundle');
    const b = captureIO();
    expect(await runCli(['view', runs, '--export', outDir], b.io, COMMANDS)).toBe(0);
    expect(b.out.join('\n')).toMatch(/exported run .* open .*index\.html/);
    expect(existsSync(join(outDir, 'index.html'))).toBe(true);
  });

  it('a runs folder that does not exist is a user error', async () => {
    const { io, err } = captureIO();
    expect(
      await runCli(['view', '/nope/runs', '--export', join(tempDir(), 'x')], io, COMMANDS),
    ).toBe(1);
    expect(err.join('\n')).toMatch(/\/nope\/runs/);
  });
});

describe('atmanrl train on worker threads', () => {
  it('prints what its workers report they run with, --recompute included', async () => {
    const cases = [
      {
        flags: ['--workers', '2', '--recompute'],
        line: /^pool: 2 worker threads on .*cpu.*, recomputing activations$/,
      },
      { flags: ['--workers', '2'], line: /^pool: 2 worker threads on [^,]*$/ },
    ];
    for (const { flags, line } of cases) {
      const { io, out } = captureIO();
      const argv = ['train', ...tinyTrainFlags(modelDir, tempDir()), '--max-steps', '1', ...flags];
      expect(await runCli(argv, io, COMMANDS)).toBe(0);
      expect(out.filter((l) => l.startsWith('pool:'))).toEqual([expect.stringMatching(line)]);
    }
    const inThread = captureIO();
    const argv = [
      'train',
      ...tinyTrainFlags(modelDir, tempDir()),
      '--max-steps',
      '1',
      '--workers',
      '0',
    ];
    expect(await runCli(argv, inThread.io, COMMANDS)).toBe(0);
    expect(inThread.out.some((l) => l.startsWith('pool:'))).toBe(false);
  }, 120_000);
});
