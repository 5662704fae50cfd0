// Regression tests of issue 18 for the run folder: writer lock and stale runs, step-order
// problems, validated status/config, staged durable checkpoints, confined pointers, torn lines.
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIST_NODE, runNode, tempDir } from '../../test/helpers.js';
import { loadRun } from '../reader.js';
import { fsRunSource } from './fs-source.js';
import { acquireRunLock, isWriterAlive, readWriterLock } from './lock.js';
import { RunWriter } from './writer.js';

function makeRun(runsDir: string, id = 'r', config: Record<string, unknown> = {}): RunWriter {
  return RunWriter.create({
    runsDir,
    id,
    command: 'train',
    config,
    seed: 1,
    backend: { name: 'cpu' },
  });
}

/** A pid that is certainly not running: a child that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid ?? 999_999;
}

const line = (step: number, metrics: Record<string, number> = { loss: step }) =>
  `${JSON.stringify({ version: 1, step, time: 't', metrics })}\n`;

describe('writer lock', () => {
  it('a second writer of a run, in another process, fails naming the holder', async () => {
    const runs = tempDir();
    const w = makeRun(runs);
    expect(readWriterLock(w.dir)).toMatchObject({ pid: process.pid, host: hostname() });
    const child = await runNode(
      `import { RunWriter } from ${JSON.stringify(DIST_NODE)};
       try { RunWriter.open(${JSON.stringify(w.dir)}); process.exit(0); }
       catch (e) { console.error(e.code + ': ' + e.message); process.exit(3); }`,
    );
    expect(child.code).toBe(3);
    expect(child.stderr).toMatch(
      new RegExp(`LOCKED: .*another process: pid ${process.pid} on host ${hostname()}`),
    );
    w.setStatus('finished'); // a final status releases the lock
    expect(readWriterLock(w.dir)).toBeNull();
    expect(RunWriter.open(w.dir).heldLock?.info.pid).toBe(process.pid);
  });

  it('a lock whose process is gone is stale and taken over', () => {
    const runs = tempDir();
    const w = makeRun(runs);
    w.close();
    const pid = deadPid();
    writeFileSync(
      join(w.dir, 'writer.lock'),
      JSON.stringify({ pid, host: hostname(), startedAt: 'x' }),
    );
    expect(isWriterAlive({ pid, host: hostname(), startedAt: 'x' })).toBe(false);
    const r = RunWriter.open(w.dir);
    expect(r.heldLock?.tookOver?.pid).toBe(pid);
    expect(readWriterLock(w.dir)).toMatchObject({ pid: process.pid });
    r.close();
  });

  it('a lock from another host is never taken over', () => {
    const runs = tempDir();
    const w = makeRun(runs);
    w.close();
    writeFileSync(
      join(w.dir, 'writer.lock'),
      JSON.stringify({ pid: 1, host: 'elsewhere', startedAt: 'x' }),
    );
    expect(() => acquireRunLock(w.dir)).toThrow(/pid 1 on host elsewhere.*delete .*writer\.lock/);
  });

  it('the lock is removed when the process exits without closing', async () => {
    const runs = tempDir();
    const child = await runNode(
      `import { RunWriter } from ${JSON.stringify(DIST_NODE)};
       RunWriter.create({ runsDir: ${JSON.stringify(runs)}, id: 'c', command: 'x', config: {}, seed: 0, backend: { name: 'cpu' } });`,
    );
    expect(child.code).toBe(0);
    expect(existsSync(join(runs, 'c', 'run.json'))).toBe(true);
    expect(existsSync(join(runs, 'c', 'writer.lock'))).toBe(false);
  });
});

describe('reader: stale runs and step order', () => {
  it('marks a running run whose writer is gone as stale', async () => {
    const runs = tempDir();
    const live = makeRun(runs, 'live');
    const killed = makeRun(runs, 'killed');
    killed.close();
    writeFileSync(
      join(killed.dir, 'writer.lock'),
      JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: 'x' }),
    );
    const noLock = makeRun(runs, 'nolock');
    noLock.close();
    const done = makeRun(runs, 'done');
    done.setStatus('finished');
    const src = fsRunSource(runs);
    const opts = { isWriterAlive };
    expect((await loadRun(src, 'live', opts)).stale).toBe(false);
    const k = await loadRun(src, 'killed', opts);
    expect(k.stale).toBe(true);
    expect(k.problems.map((p) => p.code)).toContain('STALE_RUN');
    expect((await loadRun(src, 'nolock', opts)).stale).toBe(true);
    expect((await loadRun(src, 'done', opts)).stale).toBe(false);
    // Without a liveness check (a browser) a held lock cannot be judged.
    expect((await loadRun(src, 'killed')).stale).toBeNull();
    live.close();
  });

  it('flags duplicate and out-of-order steps, but not an eval line at the same step', async () => {
    const runs = tempDir();
    const w = makeRun(runs);
    w.close();
    writeFileSync(
      join(w.dir, 'metrics.jsonl'),
      line(1) + line(2) + line(3) + line(3) + line(4) + line(2) + line(4, { 'eval/accuracy': 1 }),
    );
    const run = await loadRun(fsRunSource(runs), 'r');
    const order = run.problems.filter((p) => p.code === 'STEP_ORDER');
    expect(order.map((p) => p.line)).toEqual([4, 6]);
    expect(order[0]?.message).toMatch(/step 3 after step 3 \(duplicate\)/);
    expect(order[1]?.message).toMatch(/step 2 after step 4 \(out of order\)/);
  });
});

describe('validated writes', () => {
  it('setStatus refuses a status its reader would reject, leaving run.json intact', async () => {
    const runs = tempDir();
    const w = makeRun(runs);
    const before = readFileSync(join(w.dir, 'run.json'), 'utf8');
    expect(() => w.setStatus('paused' as never)).toThrow(/"paused" is not a run status/);
    expect(readFileSync(join(w.dir, 'run.json'), 'utf8')).toBe(before);
    expect((await loadRun(fsRunSource(runs), 'r')).problems.map((p) => p.code)).not.toContain(
      'INVALID_RECORD',
    );
    w.close();
  });

  it('a config holding a BigInt is refused before any folder is created', () => {
    const runs = tempDir();
    expect(() => makeRun(runs, 'big', { seed: 10n })).toThrow(/seed is a bigint/);
    expect(readdirSync(runs)).toEqual([]);
  });

  it('a runs folder that is a file is a clear error', () => {
    const file = join(tempDir(), 'not-a-folder');
    writeFileSync(file, 'x');
    expect(() => makeRun(file)).toThrow(/not a folder|cannot create the runs folder/);
  });
});

describe('checkpoints', () => {
  it('a staged checkpoint is renamed into place before the pointer moves', () => {
    const runs = tempDir();
    const w = makeRun(runs);
    const staged = w.stageCheckpoint(2);
    expect(staged).toMatch(/checkpoints\/\.step-2\.tmp-/);
    writeFileSync(join(staged, 'model.safetensors'), 'weights');
    // A crash here leaves no step-2 folder and no pointer.
    expect(existsSync(join(w.dir, 'checkpoints', 'step-2'))).toBe(false);
    expect(w.latestCheckpoint()).toBeNull();
    w.commitCheckpoint(2, staged);
    expect(readFileSync(join(w.dir, 'checkpoints', 'step-2', 'model.safetensors'), 'utf8')).toBe(
      'weights',
    );
    expect(existsSync(staged)).toBe(false);
    expect(w.latestCheckpoint()?.path).toBe('checkpoints/step-2');
    // The latest checkpoint is never replaced in place.
    expect(() => w.commitCheckpoint(2, w.stageCheckpoint(2))).toThrow(/is the latest checkpoint/);
    w.close();
  });

  it('open() removes leftover temp files and staged checkpoints', () => {
    const runs = tempDir();
    const w = makeRun(runs);
    w.close();
    writeFileSync(join(w.dir, '.run.json.tmp-1-abc'), '{');
    mkdirSync(join(w.dir, 'checkpoints', '.step-3.tmp-1-x'));
    mkdirSync(join(w.dir, 'checkpoints', 'step-1'));
    writeFileSync(join(w.dir, 'checkpoints', 'step-1', '.trainer_state.json.tmp-1-y'), '');
    const r = RunWriter.open(w.dir);
    expect(r.removedTempFiles.sort()).toEqual([
      '.run.json.tmp-1-abc',
      'checkpoints/.step-3.tmp-1-x',
      'checkpoints/step-1/.trainer_state.json.tmp-1-y',
    ]);
    expect(existsSync(join(w.dir, 'checkpoints', '.step-3.tmp-1-x'))).toBe(false);
    r.close();
  });

  it('a pointer whose path leaves checkpoints/ is refused', () => {
    const runs = tempDir();
    const w = makeRun(runs);
    for (const path of ['../../etc', 'checkpoints/../run.json', '/tmp/x']) {
      writeFileSync(
        join(w.dir, 'checkpoints', 'latest.json'),
        JSON.stringify({ version: 1, step: 1, path, createdAt: 't' }),
      );
      expect(() => w.latestCheckpoint(), path).toThrow(/leaves the run's checkpoints\/ folder/);
    }
    w.close();
  });

  it('truncateAfter drops a bad middle line (reported with its line) instead of failing', () => {
    const runs = tempDir();
    const w = makeRun(runs);
    writeFileSync(join(w.dir, 'metrics.jsonl'), `${line(1)}{"broken\n${line(2)}${line(3)}`);
    appendFileSync(join(w.dir, 'metrics.jsonl'), '{"torn');
    const dropped = w.truncateAfter(2);
    // the torn last line is reported too (issue 35.9: it used to be dropped silently)
    expect(dropped.map((p) => `${p.file}:${p.line}:${p.code}`)).toEqual([
      'metrics.jsonl:2:INVALID_JSON',
      'metrics.jsonl:5:TORN_LINE',
    ]);
    expect(readFileSync(join(w.dir, 'metrics.jsonl'), 'utf8')).toBe(
      [1, 2]
        .map((s) => JSON.stringify({ version: 1, step: s, time: 't', metrics: { loss: s } }))
        .join('\n') + '\n',
    );
    w.close();
  });
});
