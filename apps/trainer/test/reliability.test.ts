// Regression tests of issue 18 (reliability) for the trainer: non-finite steps and models, the
// resume policy, the writer lock, staged checkpoints, damaged checkpoints, user errors vs internal
// errors, signals and `sft --out`. Tiny models on the cpu backend; each run is a few steps.

import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import {
  createRandomModel,
  createTinyTokenizer,
  LlamaModel,
  saveModel,
  TINY_VOCAB_SIZE,
} from '@atmanrl/model/node';
import { RunWriter } from '@atmanrl/runs/node';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { saveCheckpoint } from '../src/_internal/checkpoint.js';
import { nonFiniteWeights, warnIfCollapsed } from '../src/_internal/finite.js';
import { loadPolicy } from '../src/_internal/model-source.js';
import { checkMaxStepsOnResume, RESUMABLE, resumedConfig } from '../src/_internal/resume.js';
import { createStopHandler, installStopSignals } from '../src/_internal/signals.js';
import { runCli } from '../src/cli-core.js';
import { COMMANDS } from '../src/commands/index.js';
import { checkOutFolder } from '../src/commands/sft.js';
import { defaultConfig, OPTIONS } from '../src/config.js';
import { toUserError, UsageError } from '../src/errors.js';
import {
  captureIO,
  deterministicMetrics,
  tempDir,
  tinyModelDir,
  tinyTrainFlags,
} from './helpers.js';

let modelDir = '';
/** A finished 2-step run with checkpoints at steps 1 and 2 (copied by each test). */
let baseRun = '';

beforeAll(async () => {
  modelDir = await tinyModelDir();
  const runs = tempDir();
  const cap = captureIO();
  const code = await runCli(
    [
      'train',
      ...tinyTrainFlags(modelDir, runs),
      '--max-steps',
      '2',
      '--checkpoint-every',
      '1',
      '--run-name',
      'base',
    ],
    cap.io,
    COMMANDS,
  );
  // stderr holds only the start-up list of defaults that differ from @atmanrl/grpo's
  expect(cap.err.filter((l) => !l.startsWith('atmanrl: defaults that differ'))).toEqual([]);
  expect(code).toBe(0);
  baseRun = join(runs, readdirSync(runs)[0]!);
});

function copyRun(): string {
  const dir = join(tempDir('run-copy-'), 'run');
  cpSync(baseRun, dir, { recursive: true });
  return dir;
}

async function cli(argv: string[]) {
  const cap = captureIO();
  const code = await runCli(argv, cap.io, COMMANDS);
  return { code, out: cap.out.join('\n'), err: cap.err.join('\n') };
}

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

describe('1. non-finite steps and models', () => {
  it('an exploding update stops with exit 1 naming the step and the last good checkpoint', async () => {
    // A run that trained fine for 2 steps, continued with a learning rate that blows it up.
    const dir = copyRun();
    const info = json(join(dir, 'run.json'));
    info.config.learningRate = 1e30;
    writeFileSync(join(dir, 'run.json'), JSON.stringify(info));
    for (let attempt = 0; attempt < 2; attempt++) {
      // The second attempt resumes the failed run: the same clean stop, never an internal error.
      const r = await cli(['train', '--resume', dir, '--max-steps', '4']);
      expect(r.err).not.toMatch(/internal error/);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/step 3: .*(NaN|Infinity|not finite|non-finite).*stopped/);
      expect(r.err).toContain(`last good checkpoint is checkpoints/step-2`);
      expect(json(join(dir, 'checkpoints', 'latest.json')).step).toBe(2);
      expect(existsSync(join(dir, 'checkpoints', 'step-2', 'model.safetensors'))).toBe(true);
      expect(existsSync(join(dir, 'checkpoints', 'step-3'))).toBe(false);
      expect(json(join(dir, 'run.json')).status).toBe('failed');
    }
  });

  it('an update that explodes at the first step says no checkpoint exists yet', async () => {
    const runs = tempDir();
    const r = await cli([
      'train',
      ...tinyTrainFlags(modelDir, runs),
      '--learning-rate',
      '1e30',
      '--max-steps',
      '3',
      '--checkpoint-every',
      '1',
    ]);
    expect(r.err).not.toMatch(/internal error/);
    expect(r.code).toBe(1);
    const dir = join(runs, readdirSync(runs)[0]!);
    const latest = join(dir, 'checkpoints', 'latest.json');
    const named = /checkpoints\/step-(\d+)/.exec(r.err);
    if (named === null) {
      expect(r.err).toMatch(/No checkpoint was saved before it/);
      expect(existsSync(latest)).toBe(false);
    } else {
      expect(json(latest).step).toBe(Number(named[1]));
    }
  });

  it('--model weights holding NaN/Inf are refused at load, naming the tensor', async () => {
    const tokenizer = createTinyTokenizer();
    const model = createRandomModel(
      {
        vocab_size: TINY_VOCAB_SIZE,
        hidden_size: 16,
        intermediate_size: 32,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        num_key_value_heads: 1,
        max_position_embeddings: 64,
        tie_word_embeddings: true,
        bos_token_id: tokenizer.bosTokenId,
        eos_token_id: tokenizer.eosTokenIds,
      },
      0,
      { tokenizer },
    );
    const v = model.weights.layers[0]!.up;
    const values = new Float32Array(v.size);
    values[3] = Number.NaN;
    values[5] = Number.POSITIVE_INFINITY;
    const { tensor } = await import('@tensorflow/tfjs-core');
    const t = tensor(values, v.shape);
    v.assign(t);
    t.dispose();
    const dir = tempDir('nan-model-');
    await saveModel(model, dir);
    model.dispose();
    const r = await cli(['train', '--model', dir, '--backend', 'cpu', '--runs-dir', tempDir()]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/model\.layers\.0\.mlp\.up_proj\.weight \(2 of \d+\)/);
  });

  it('the weight check counts NaN/Inf per tensor and leaks no tensor', async () => {
    const { loadModel } = await import('@atmanrl/model/node');
    const tf = await import('@tensorflow/tfjs-core');
    const model = await loadModel(modelDir);
    const before = tf.memory().numTensors;
    expect(await nonFiniteWeights(model)).toEqual([]);
    const v = model.weights.norm;
    const bad = tf.tensor(
      Float32Array.from({ length: v.size }, (_, i) => (i < 3 ? Number.NaN : 1)),
    );
    v.assign(bad);
    bad.dispose();
    expect(await nonFiniteWeights(model)).toEqual([
      { name: 'model.norm.weight', count: 3, size: v.size },
    ]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('warns once when the policy collapses (entropy near ln V, accuracy 0)', () => {
    const { io, err } = captureIO();
    const lnV = Math.log(100);
    // A model that starts uniform (untrained) has not collapsed.
    const fresh = { warned: false };
    expect(warnIfCollapsed(io, 1, { entropy: 0.99 * lnV, accuracy: 0 }, 100, fresh)).toBe(false);
    expect(warnIfCollapsed(io, 2, { entropy: 0.99 * lnV, accuracy: 0 }, 100, fresh)).toBe(false);
    const state = { warned: false };
    expect(warnIfCollapsed(io, 3, { entropy: 0.5 * lnV, accuracy: 0 }, 100, state)).toBe(false);
    expect(warnIfCollapsed(io, 4, { entropy: 0.99 * lnV, accuracy: 0.25 }, 100, state)).toBe(false);
    expect(warnIfCollapsed(io, 5, { entropy: 0.99 * lnV, accuracy: 0 }, 100, state)).toBe(true);
    expect(warnIfCollapsed(io, 6, { entropy: lnV, accuracy: 0 }, 100, state)).toBe(false);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/step 5: the policy looks collapsed/);
  });
});

describe('2. --resume and configuration', () => {
  it('a --max-steps given on a resume persists to the next plain --resume', async () => {
    const dir = copyRun();
    const control = { stop: false };
    const { runTraining } = await import('../src/_internal/train-loop.js');
    const { parseArgv, resolveConfigWithKeys } = await import('../src/config.js');
    const { config, explicit } = resolveConfigWithKeys(
      parseArgv(['--resume', dir, '--max-steps', '4'], []),
    );
    const cap = captureIO();
    const io = {
      ...cap.io,
      out: (l: string) => {
        cap.out.push(l);
        if (l.startsWith('step 3/')) control.stop = true;
      },
    };
    const first = await runTraining(config, io, {
      command: 'train',
      control,
      handleSignals: false,
      explicit,
    });
    expect(first).toMatchObject({ status: 'interrupted', lastStep: 3 });
    const info = json(join(dir, 'run.json'));
    expect(info.config.maxSteps).toBe(4);
    expect(info.resumes).toHaveLength(1);
    expect(info.resumes[0]).toMatchObject({
      fromStep: 2,
      changes: { maxSteps: { from: 2, to: 4 } },
      machine: { cpu: cpus()[0]!.model.trim(), cores: cpus().length },
    });
    expect(info.machine).toEqual(info.resumes[0].machine);
    const r = await cli(['train', '--resume', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/finished 4 steps/);
    expect(deterministicMetrics(dir)).toHaveLength(4);
    expect(json(join(dir, 'run.json')).resumes).toHaveLength(2);
  });

  it.each([
    ['--learning-rate', '0.5'],
    ['--num-generations', '4'],
    ['--seed', '9'],
  ])('%s on --resume is refused with exit 1 naming the option', async (flag, value) => {
    const dir = copyRun();
    const before = readFileSync(join(dir, 'run.json'), 'utf8');
    const r = await cli(['train', '--resume', dir, flag, value]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      new RegExp(`${flag} \\(run has .*given ${value}\\) cannot change on resume`),
    );
    expect(readFileSync(join(dir, 'run.json'), 'utf8')).toBe(before);
    expect(existsSync(join(dir, 'writer.lock'))).toBe(false);
  });

  it('an option equal to the stored value is accepted; every option has a policy', () => {
    const stored = { ...defaultConfig(), learningRate: 0.01, maxSteps: 2 };
    const given = { ...stored, resume: 'x', maxSteps: 5 };
    const { config, changes } = resumedConfig(
      stored,
      given,
      new Set(['learningRate', 'maxSteps']),
      'x',
    );
    expect(config.maxSteps).toBe(5);
    expect(changes).toEqual({ maxSteps: { from: 2, to: 5 } });
    // Options added after a run was written take their defaults instead of failing the resume.
    const { learningRate: _lr, ...older } = stored;
    expect(resumedConfig(older, given, new Set(), 'x').config.learningRate).toBe(
      defaultConfig().learningRate,
    );
    for (const k of RESUMABLE) expect(OPTIONS.map((o) => o.key)).toContain(k);
  });

  it('a run written before --synthetic-split resumes on the seed split its data came from', () => {
    const { syntheticSplit: _s, ...older } = { ...defaultConfig(), maxSteps: 2 };
    expect(defaultConfig().syntheticSplit).toBe('content');
    const given = { ...defaultConfig(), resume: 'x', maxSteps: 2 };
    expect(resumedConfig(older, given, new Set(), 'x').config.syntheticSplit).toBe('seed');
    // Stating the split the run used is no conflict; asking for the other one is refused.
    const seed = { ...given, syntheticSplit: 'seed' as const };
    expect(resumedConfig(older, seed, new Set(['syntheticSplit']), 'x').changes).toEqual({});
    expect(() => resumedConfig(older, given, new Set(['syntheticSplit']), 'x')).toThrow(
      /synthetic-split/,
    );
    // A run that stored the key keeps what it stored.
    const stored = { ...defaultConfig(), syntheticSplit: 'content' as const };
    expect(resumedConfig(stored, given, new Set(), 'x').config.syntheticSplit).toBe('content');
  });
});

describe('4. one writer per run folder', () => {
  it('--resume of a run another writer holds fails with exit 1, naming the holder', async () => {
    const dir = copyRun();
    const holder = RunWriter.open(dir, { command: 'train' });
    try {
      const r = await cli(['train', '--resume', dir]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(new RegExp(`pid ${process.pid} on host .*\\(atmanrl train\\)`));
    } finally {
      holder.close();
    }
  });
});

describe('5. durable, staged checkpoints', () => {
  it('a crash while saving leaves no partial step folder and latest intact; resume cleans up', async () => {
    const dir = copyRun();
    const run = RunWriter.open(dir);
    // The process dies with a half-filled staged folder: nothing cleans it up but the next open.
    const staged = run.stageCheckpoint(3);
    writeFileSync(join(staged, 'model.safetensors'), 'partial');
    run.close();
    expect(existsSync(join(dir, 'checkpoints', 'step-3'))).toBe(false);
    expect(json(join(dir, 'checkpoints', 'latest.json')).step).toBe(2);
    expect(readdirSync(join(dir, 'checkpoints')).some((n) => n.includes('.tmp-'))).toBe(true);
    const reopened = RunWriter.open(dir);
    expect(reopened.removedTempFiles).toHaveLength(1);
    reopened.close();
  });

  it('issue 35.20: a full disk mid-save removes the partial folder and marks the run failed', async () => {
    const dir = copyRun();
    const run = RunWriter.open(dir);
    run.setStatus('running');
    const { loadModel } = await import('@atmanrl/model/node');
    const model = await loadModel(join(dir, 'checkpoints', 'step-2'));
    try {
      await expect(
        saveCheckpoint(
          run,
          model,
          null,
          { version: 1, step: 3, rng: { s: [1, 2, 3, 4] } as never, cursor: {} as never },
          {
            beforeCommit: (staged) => {
              expect(readdirSync(staged)).toContain('model.safetensors');
              // a real ENOSPC from the kernel: /dev/full accepts no byte
              writeFileSync('/dev/full', 'the next file of the checkpoint');
            },
          },
        ),
      ).rejects.toMatchObject({ code: 'ENOSPC' });
    } finally {
      model.dispose();
      run.close();
    }
    expect(readdirSync(join(dir, 'checkpoints')).filter((n) => n.includes('.tmp-'))).toEqual([]);
    expect(existsSync(join(dir, 'checkpoints', 'step-3'))).toBe(false);
    expect(json(join(dir, 'checkpoints', 'latest.json')).step).toBe(2);
    const info = json(join(dir, 'run.json'));
    expect(info.status).toBe('failed');
    expect(info.error).toMatch(
      /checkpoint of step 3 could not be written: ENOSPC.*partial folder was removed\. The last checkpoint is checkpoints\/step-2/,
    );
    expect(existsSync(join(dir, 'writer.lock'))).toBe(false);
  });
});

describe('issue 35.19: model files that are not regular files', () => {
  it('a FIFO named model.safetensors is refused at once, not waited on', async () => {
    const dir = join(tempDir('fifo-model-'), 'model');
    cpSync(modelDir, dir, { recursive: true });
    rmSync(join(dir, 'model.safetensors'));
    execFileSync('mkfifo', [join(dir, 'model.safetensors')]);
    const r = await cli(['train', ...tinyTrainFlags(dir, tempDir()), '--max-steps', '1']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `${join(dir, 'model.safetensors')} is a FIFO (named pipe), not a regular file`,
    );
    // the same for a text file of the folder
    rmSync(join(dir, 'model.safetensors'));
    cpSync(join(modelDir, 'model.safetensors'), join(dir, 'model.safetensors'));
    rmSync(join(dir, 'config.json'));
    execFileSync('mkfifo', [join(dir, 'config.json')]);
    const c = await cli(['train', ...tinyTrainFlags(dir, tempDir()), '--max-steps', '1']);
    expect(c.code).toBe(1);
    expect(c.err).toContain(`${join(dir, 'config.json')} is a FIFO (named pipe)`);
  }, 30_000);

  it('a FIFO named tokenizer_config.json is refused by the chat-template check, not read', async () => {
    const dir = join(tempDir('fifo-tokenizer-config-'), 'model');
    cpSync(modelDir, dir, { recursive: true });
    rmSync(join(dir, 'tokenizer_config.json'), { force: true });
    execFileSync('mkfifo', [join(dir, 'tokenizer_config.json')]);
    // a synchronous read of the FIFO would block this thread forever (no writer ever opens it)
    const err = await loadPolicy(dir, { needsChatTemplate: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('BAD_MODEL');
    expect((err as Error).message).toBe(
      `${join(dir, 'tokenizer_config.json')} is a FIFO (named pipe), not a regular file: reading it could block forever. A model folder holds regular files; replace it with the real file.`,
    );
  });
});

describe('issue 35: worker count and generation passes in a training run', () => {
  it('17. --workers above the jobs of a step warns and starts one worker per job', async () => {
    const r = await cli([
      'train',
      ...tinyTrainFlags(modelDir, tempDir()),
      '--max-steps',
      '1',
      '--workers',
      '64',
    ]);
    expect(r.code).toBe(0);
    // tinyTrainFlags: 2 prompts per step, so 2 generate jobs
    expect(r.err).toContain(
      'atmanrl: warning: --workers 64 is more than the 2 jobs of a step (one per prompt), so 2 workers are started',
    );
    if (availableParallelism() < 64)
      expect(r.err).toContain(
        `atmanrl: warning: --workers 64 is more than this machine's ${availableParallelism()} cores`,
      );
    expect(r.out).toMatch(/^pool: 2 worker threads/m);
  }, 120_000);

  it('5. --generation-batch-size 1 gives the same run, and may change on resume', async () => {
    const runs = tempDir();
    const fresh = await cli([
      'train',
      ...tinyTrainFlags(modelDir, runs),
      '--max-steps',
      '2',
      '--generation-batch-size',
      '1',
    ]);
    expect(fresh.code).toBe(0);
    const dir = join(runs, readdirSync(runs)[0]!);
    expect(json(join(dir, 'run.json')).config.generationBatchSize).toBe(1);
    expect(deterministicMetrics(dir)).toEqual(deterministicMetrics(baseRun));
    // on resume: a step in passes of 1 completion equals the step in one pass. In this thread
    // (--workers 1) the decoding passes are seen: rows per forward pass with a KV cache.
    const rowsPerPass = async (argv: string[]) => {
      const rows: number[] = [];
      const original = LlamaModel.prototype.hiddenStates;
      const spy = vi.spyOn(LlamaModel.prototype, 'hiddenStates').mockImplementation(function (
        this: LlamaModel,
        ids,
        options,
      ) {
        if (options?.cache !== undefined && ids !== null) rows.push(ids.shape[0]);
        return original.call(this, ids, options);
      });
      try {
        return { ...(await cli(argv)), rows };
      } finally {
        spy.mockRestore();
      }
    };
    const plain = copyRun();
    const passes = copyRun();
    const a = await rowsPerPass(['train', '--resume', plain, '--max-steps', '3', '--workers', '1']);
    const b = await rowsPerPass([
      'train',
      '--resume',
      passes,
      '--max-steps',
      '3',
      '--workers',
      '1',
      '--generation-batch-size',
      '1',
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(b.err).toBe('');
    // the rollouts' decoding passes of G = 2 rows become passes of 1 row; the other generations
    // of a step (the probes) keep theirs
    const count = (rows: number[], n: number) => rows.filter((r) => r === n).length;
    expect(count(a.rows, 1)).toBe(0);
    expect(count(b.rows, 1)).toBeGreaterThan(0);
    expect(count(b.rows, 2)).toBeLessThan(count(a.rows, 2));
    expect(deterministicMetrics(passes)).toHaveLength(3);
    expect(deterministicMetrics(passes)).toEqual(deterministicMetrics(plain));
    const resumes = json(join(passes, 'run.json')).resumes;
    expect(resumes.at(-1).changes.generationBatchSize).toEqual({ from: null, to: 1 });
  }, 180_000);
});

describe('issue 35: resume', () => {
  it('6. --workers may change on resume, and the results do not depend on it', async () => {
    const one = copyRun();
    const two = copyRun();
    const a = await cli(['train', '--resume', one, '--max-steps', '3', '--workers', '1']);
    const b = await cli(['train', '--resume', two, '--max-steps', '3', '--workers', '2']);
    expect(a.err).toBe('');
    expect(b.err).toBe('');
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(b.out).toMatch(/pool: 2 worker threads/);
    expect(deterministicMetrics(one)).toHaveLength(3);
    expect(deterministicMetrics(two)).toEqual(deterministicMetrics(one));
    const resumes = json(join(two, 'run.json')).resumes;
    expect(resumes.at(-1).changes.workers).toEqual({ from: null, to: 2 });
    expect(RESUMABLE).toContain('workers');
  }, 120_000);

  it('8. a deleted latest.json names the newest intact checkpoint, which resumes', async () => {
    const dir = copyRun();
    rmSync(join(dir, 'checkpoints', 'latest.json'));
    const r = await cli(['train', '--resume', dir, '--max-steps', '3']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `checkpoints/latest.json is missing, but the newest intact checkpoint is checkpoints/step-2 (step 2): resume from it with --resume ${join(dir, 'checkpoints', 'step-2')}`,
    );
    // a damaged newest folder is skipped
    truncateSync(join(dir, 'checkpoints', 'step-2', 'model.safetensors'), 100);
    const older = await cli(['train', '--resume', dir]);
    expect(older.err).toContain('the newest intact checkpoint is checkpoints/step-1 (step 1)');
    const again = await cli([
      'train',
      '--resume',
      join(dir, 'checkpoints', 'step-1'),
      '--max-steps',
      '2',
    ]);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/resumed at step 1/);
  }, 120_000);

  it('9. a torn last metrics line is reported and the lost step marked in run.json', async () => {
    const dir = copyRun();
    const p = join(dir, 'metrics.jsonl');
    const [l1, l2] = readFileSync(p, 'utf8').trim().split('\n');
    writeFileSync(p, `${l1}\n${l2!.slice(0, 25)}`); // step 2's line cut by a crash
    const r = await cli(['train', '--resume', dir, '--max-steps', '3']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/metrics\.jsonl:2: the last line was cut off by an interrupted write/);
    expect(r.err).toMatch(
      /metrics\.jsonl has no line for step 2, although the checkpoint of step 2 includes it/,
    );
    expect(json(join(dir, 'run.json')).metricsGaps).toEqual([2]);
    const steps = readFileSync(p, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).step);
    expect(steps).toEqual([1, 3]);
  }, 120_000);

  it('10. --max-steps below the step resumed from is refused; run.json unchanged', async () => {
    const dir = copyRun();
    const before = readFileSync(join(dir, 'run.json'), 'utf8');
    const r = await cli(['train', '--resume', dir, '--max-steps', '1']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /--max-steps 1 is below step 2, which the run has already trained .*Give --max-steps 2 or more/,
    );
    expect(readFileSync(join(dir, 'run.json'), 'utf8')).toBe(before);
    expect(existsSync(join(dir, 'writer.lock'))).toBe(false);
    expect(() => checkMaxStepsOnResume(2, 2, dir)).not.toThrow();
  });
});

describe('6. damaged checkpoints on resume', () => {
  it('a latest.json whose path leaves the run folder is refused', async () => {
    const dir = copyRun();
    writeFileSync(
      join(dir, 'checkpoints', 'latest.json'),
      JSON.stringify({ version: 1, step: 2, path: '../../elsewhere', createdAt: 't' }),
    );
    const r = await cli(['train', '--resume', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/leaves the run's checkpoints\/ folder/);
  });

  it('a trainer_state step that disagrees with the pointer is refused, naming both', async () => {
    const dir = copyRun();
    const p = join(dir, 'checkpoints', 'step-2', 'trainer_state.json');
    writeFileSync(p, JSON.stringify({ ...json(p), step: 7 }));
    const r = await cli(['train', '--resume', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/trainer_state\.json says step 7, but latest\.json says step 2/);
  });

  it('a truncated latest model names the previous intact checkpoint, which resumes', async () => {
    const dir = copyRun();
    const model = join(dir, 'checkpoints', 'step-2', 'model.safetensors');
    truncateSync(model, 100);
    const r = await cli(['train', '--resume', dir, '--max-steps', '3']);
    expect(r.code).toBe(1);
    const prev = join(dir, 'checkpoints', 'step-1');
    expect(r.err).toContain(`previous intact checkpoint is checkpoints/step-1 (step 1)`);
    expect(r.err).toContain(`--resume ${prev}`);
    const again = await cli(['train', '--resume', prev, '--max-steps', '3']);
    expect(again.err).toBe('');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/resumed at step 1/);
    expect(deterministicMetrics(dir).map((_, i) => i + 1)).toEqual([1, 2, 3]);
    expect(json(join(dir, 'checkpoints', 'latest.json')).step).toBe(3);
  });

  it('a trainer_state that is not JSON is a named error', async () => {
    const dir = copyRun();
    writeFileSync(join(dir, 'checkpoints', 'step-2', 'trainer_state.json'), '{"step": 2,');
    const r = await cli(['train', '--resume', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/step-2\/trainer_state\.json is not valid JSON/);
  });

  it('a bad line in the middle of metrics.jsonl does not block the resume', async () => {
    const dir = copyRun();
    const p = join(dir, 'metrics.jsonl');
    const [l1, l2] = readFileSync(p, 'utf8').trim().split('\n');
    writeFileSync(p, `${l1}\n{"broken\n${l2}\n`);
    const r = await cli(['train', '--resume', dir, '--max-steps', '3']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/dropped a damaged line: metrics\.jsonl:2: not valid JSON/);
    expect(deterministicMetrics(dir)).toHaveLength(3);
  });
});

describe('7. user errors exit 1', () => {
  it.each([
    ['a torn safetensors header', 'model.safetensors', Buffer.from([8, 0, 0, 0, 0, 0, 0, 0, 123])],
    ['an empty safetensors file', 'model.safetensors', Buffer.alloc(0)],
    ['a config.json that is not JSON', 'config.json', Buffer.from('{')],
    ['a config.json without sizes', 'config.json', Buffer.from('{}')],
    ['a tokenizer.json that is not JSON', 'tokenizer.json', Buffer.from('{')],
    ['a tokenizer_config.json that is not JSON', 'tokenizer_config.json', Buffer.from('{')],
  ])('a model with %s is a user error (exit 1), not an internal one', async (_n, file, bytes) => {
    const dir = tempDir('bad-model-');
    cpSync(modelDir, dir, { recursive: true });
    writeFileSync(join(dir, file), bytes);
    const data = tempDir('gsm8k-');
    writeFileSync(
      join(data, 'train.jsonl'),
      `${JSON.stringify({ question: 'q', answer: 'a\n#### 1' })}\n`,
    );
    // gsm8k needs the chat template, so tokenizer_config.json is read too.
    const r = await cli([
      'train',
      '--model',
      dir,
      '--dataset',
      'gsm8k',
      '--data-dir',
      data,
      '--split',
      'train',
      '--backend',
      'cpu',
      '--runs-dir',
      tempDir(),
    ]);
    expect(r.err).not.toMatch(/internal error/);
    expect(r.code).toBe(1);
    expect(r.err).toContain(dir);
  });

  it('a bad GSM8K line is a user error suggesting --data-on-error skip', async () => {
    const data = tempDir('gsm8k-');
    writeFileSync(
      join(data, 'train.jsonl'),
      `${JSON.stringify({ question: 'q', answer: 'a\n#### 1' })}\n{"question": 1}\n`,
    );
    const r = await cli([
      'eval',
      '--model',
      modelDir,
      '--dataset',
      'gsm8k',
      '--data-dir',
      data,
      '--split',
      'train',
      '--backend',
      'cpu',
      '--runs-dir',
      tempDir(),
    ]);
    expect(r.err).not.toMatch(/internal error/);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--data-on-error skip/);
  });

  it('a --runs-dir that is a file is a user error', async () => {
    const file = join(tempDir(), 'runs');
    writeFileSync(file, '');
    const r = await cli(['train', ...tinyTrainFlags(modelDir, file), '--max-steps', '1']);
    expect(r.err).not.toMatch(/internal error/);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/runs/);
  });

  it('a port in use is a user error', async () => {
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
    const port = (blocker.address() as { port: number }).port;
    const runs = tempDir();
    try {
      const r = await cli(['view', runs, '--port', String(port)]);
      expect(r.err).not.toMatch(/internal error/);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/EADDRINUSE.*--port/);
    } finally {
      blocker.close();
    }
  });

  it('a full disk names its real cause, through wrapping errors', () => {
    const disk = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
    });
    const wrapped = new Error('could not write run.json', { cause: disk });
    const user = toUserError(wrapped);
    expect(user).toBeInstanceOf(UsageError);
    expect(user?.message).toMatch(/could not write run\.json \(ENOSPC: the disk is full/);
    expect(toUserError(new TypeError('x is undefined'))).toBeNull();
  });

  it('a GRPO option that grpo rejects is a user error', () => {
    const bad = Object.assign(new Error('delta = 1.1 is invalid'), {
      name: 'GrpoError',
      code: 'BAD_CONFIG',
    });
    expect(toUserError(bad)?.code).toBe('BAD_CONFIG');
    expect(
      toUserError(Object.assign(new Error('x'), { name: 'GrpoError', code: 'SHAPE_MISMATCH' })),
    ).toBeNull();
  });
});

/**
 * Runs the built CLI; sends `signals[0]` once the first step line appears, and each next one once
 * the CLI has acknowledged the previous (signals sent back to back may be coalesced).
 */
function trainAndSignal(
  argv: string[],
  signals: NodeJS.Signals[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = resolve(import.meta.dirname, '..', 'dist', 'cli.js');
  const child = spawn(process.execPath, [cli, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let sent = 0;
  child.stdout.on('data', (d) => {
    stdout += String(d);
    if (sent === 0 && /^step 1\//m.test(stdout)) child.kill(signals[sent++]!);
  });
  child.stderr.on('data', (d) => {
    stderr += String(d);
    if (sent > 0 && sent < signals.length && /received: finishing this step/.test(stderr))
      child.kill(signals[sent++]!);
  });
  return new Promise((ok) => child.on('exit', (code) => ok({ code, stdout, stderr })));
}

describe('8. signals and sft --out', () => {
  it('SIGHUP (terminal closed) checkpoints and exits 0 as interrupted (subprocess)', async () => {
    const runs = tempDir();
    const r = await trainAndSignal(
      [
        'train',
        ...tinyTrainFlags(modelDir, runs),
        '--max-steps',
        '50',
        '--checkpoint-every',
        '100',
      ],
      ['SIGHUP'],
    );
    expect(r.stderr).toMatch(/SIGHUP received/);
    expect(r.code).toBe(0);
    const dir = join(runs, readdirSync(runs)[0]!);
    expect(json(join(dir, 'run.json')).status).toBe('interrupted');
    expect(existsSync(join(dir, json(join(dir, 'checkpoints', 'latest.json')).path))).toBe(true);
    expect(existsSync(join(dir, 'writer.lock'))).toBe(false);
  });

  it('a second SIGINT force-quits with 130, marks the run interrupted, frees the lock', async () => {
    const runs = tempDir();
    const r = await trainAndSignal(
      [
        'train',
        ...tinyTrainFlags(modelDir, runs),
        '--max-steps',
        '50',
        '--checkpoint-every',
        '100',
      ],
      ['SIGINT', 'SIGINT'],
    );
    expect(r.stderr).toMatch(/second stop signal \(SIGINT\): quitting now/);
    expect(r.code).toBe(130);
    const dir = join(runs, readdirSync(runs)[0]!);
    expect(json(join(dir, 'run.json')).status).toBe('interrupted');
    expect(existsSync(join(dir, 'writer.lock'))).toBe(false);
  });

  it('SIGHUP asks the run to checkpoint and stop, like SIGINT', () => {
    const control = { stop: false };
    const { io, err } = captureIO();
    const handlers = installStopSignals(control, io);
    try {
      process.emit('SIGHUP');
    } finally {
      handlers.remove();
    }
    expect(control.stop).toBe(true);
    expect(err[0]).toMatch(/SIGHUP received: finishing this step, then checkpointing/);
  });

  it('a second Ctrl+C says so and force-quits with 130', () => {
    const control = { stop: false };
    const { io, err } = captureIO();
    const exits: number[] = [];
    const forced: string[] = [];
    const handler = createStopHandler(control, io, {
      exit: (c) => exits.push(c),
      onForceQuit: (s) => forced.push(s),
      lastCheckpoint: () => 'the last checkpoint is step 4',
    });
    handler('SIGINT');
    expect(exits).toEqual([]);
    handler('SIGINT');
    expect(forced).toEqual(['SIGINT']);
    expect(exits).toEqual([130]);
    expect(err[1]).toMatch(/second stop signal \(SIGINT\): quitting now .*step 4/);
  });

  it('sft --out refuses an existing non-empty folder without --force', async () => {
    const out = tempDir('sft-out-');
    writeFileSync(join(out, 'config.json'), '{}');
    const r = await cli(['sft', '--out', out, '--backend', 'cpu', '--runs-dir', tempDir()]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/already exists and is not empty.*--force/);
    expect(readFileSync(join(out, 'config.json'), 'utf8')).toBe('{}');
    expect(checkOutFolder(out, true)).toBe(true);
    const empty = join(tempDir(), 'new');
    expect(checkOutFolder(empty, false)).toBe(false);
    mkdirSync(empty);
    expect(checkOutFolder(empty, false)).toBe(false);
  });
});
