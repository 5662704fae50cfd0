// The writer lock of a run folder: `writer.lock` holds the pid and host of the one process allowed
// to write the run. Created with O_EXCL; a lock whose process is gone (same host, pid not alive)
// is stale and may be taken over. Locks held by this process are removed when it exits.
import { closeSync, fsyncSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RunsError } from '../errors.js';
import { RUN_FILES, type WriterLock } from '../reader.js';

/** Liveness of a lock's process: `true`/`false`, or `null` when it cannot be told (other host). */
export type LockLiveness = boolean | null;

/** True when a process with `pid` exists on this machine (signal 0 probe). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * Whether the writer named by `lock` is still running: checked by pid on this host; `null` for a
 * lock taken on another host (its pid means nothing here).
 */
export function isWriterAlive(lock: WriterLock): LockLiveness {
  if (lock.host !== hostname()) return null;
  return isProcessAlive(lock.pid);
}

/** Reads `writer.lock` of a run folder; `null` when absent, `'unreadable'` when torn or not JSON. */
export function readWriterLock(runDir: string): WriterLock | null | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(join(runDir, RUN_FILES.lock), 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const v = JSON.parse(text) as Partial<WriterLock>;
    if (typeof v.pid === 'number' && typeof v.host === 'string') {
      return {
        pid: v.pid,
        host: v.host,
        startedAt: String(v.startedAt ?? ''),
        ...(v.command ? { command: v.command } : {}),
      };
    }
  } catch {
    // fall through
  }
  return 'unreadable';
}

const held = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const path of held) rmSync(path, { force: true });
  });
}

/** A lock held by this process; {@link RunLock.release} removes it (idempotent). */
export interface RunLock {
  readonly path: string;
  readonly info: WriterLock;
  /** The stale lock that was replaced, if any. */
  readonly tookOver: WriterLock | null;
  release(): void;
}

function describe(lock: WriterLock): string {
  return `pid ${lock.pid} on host ${lock.host}${lock.command ? ` (atmanrl ${lock.command})` : ''}, since ${lock.startedAt}`;
}

/** Age in ms of the lock file (for a torn lock, which a crash mid-create can leave). */
function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function tryCreate(path: string, info: WriterLock): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as { code?: string }).code === 'EEXIST') return false;
    throw new RunsError('WRITE_FAILED', `could not create ${path}: ${(e as Error).message}`, {
      file: path,
      cause: e,
    });
  }
  try {
    writeSync(fd, `${JSON.stringify(info)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes the exclusive writer lock of `runDir`. Throws `RunsError('LOCKED')` naming the holder
 * when another live process (or one on another host) holds it; replaces a stale lock (its pid is
 * gone on this host, or the file is torn and older than 10 s).
 */
export function acquireRunLock(runDir: string, options: { command?: string } = {}): RunLock {
  const path = join(runDir, RUN_FILES.lock);
  const info: WriterLock = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    ...(options.command ? { command: options.command } : {}),
  };
  let tookOver: WriterLock | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path, info)) {
      // Re-read: two processes replacing the same stale lock at once both get here; one sees the other's pid.
      const now = readWriterLock(runDir);
      if (now === null || now === 'unreadable' || now.pid !== info.pid || now.host !== info.host) {
        break;
      }
      held.add(path);
      installExitHook();
      return {
        path,
        info,
        tookOver,
        release: () => {
          if (!held.delete(path)) return;
          const current = readWriterLock(runDir);
          if (current !== null && current !== 'unreadable' && current.pid === info.pid)
            rmSync(path, { force: true });
        },
      };
    }
    const holder = readWriterLock(runDir);
    if (holder === null) continue; // released meanwhile
    if (holder === 'unreadable') {
      if (ageMs(path) < 10_000) break;
      rmSync(path, { force: true });
      continue;
    }
    const alive = isWriterAlive(holder);
    if (alive === false) {
      tookOver = holder;
      rmSync(path, { force: true });
      continue;
    }
    throw new RunsError(
      'LOCKED',
      `${runDir} is being written by ${holder.pid === process.pid && alive ? 'another writer in this process' : 'another process'}: ${describe(holder)}. Only one writer may use a run folder. Wait for it to finish or stop it; ${alive === null ? `if that host's process is gone, delete ${path}` : `if you are sure it is not writing, delete ${path}`}.`,
      { file: path },
    );
  }
  throw new RunsError(
    'LOCKED',
    `${runDir}: could not take the writer lock ${path} (another process is taking it at the same time). Try again.`,
    { file: path },
  );
}
