// One downloader per blob across processes: an exclusive lock file next to the cache
// (`<cache>/.locks/models--org--name/<etag>.atmanrl.lock`). Node has no flock, so the file's
// existence is the lock; a holder that died is detected by its pid (same host) or by a heartbeat
// that stopped (another host sharing the cache). Correctness does not rest on the lock: every
// blob is hash-checked before it is renamed into place; the lock only avoids fetching it twice.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

/** Options of {@link withFileLock}. */
export interface FileLockOptions {
  /** Called once when the lock is held by a live process and this one starts waiting. */
  onWait?: (holder: string) => void;
  /** A lock whose heartbeat is older than this is taken over (default 60 s). */
  staleMs?: number;
  /** Heartbeat period of the holder (default 5 s). */
  heartbeatMs?: number;
  /** Poll period of a waiter (default 100 ms). */
  pollMs?: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the lock's holder is gone: a dead pid on this host, or no heartbeat for staleMs. */
async function isStale(path: string, staleMs: number): Promise<boolean> {
  let text: string;
  let mtimeMs: number;
  try {
    text = await readFile(path, 'utf8');
    mtimeMs = (await stat(path)).mtimeMs;
  } catch {
    return false; // released meanwhile: the next try creates it
  }
  const [host, pid] = text.split(' ');
  if (host === hostname() && Number.isInteger(Number(pid)) && !isAlive(Number(pid))) return true;
  return Date.now() - mtimeMs > staleMs;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` holding the lock file `path`; waits (polling) while another live process holds it,
 * and takes over a stale one. The lock is released (deleted) when `fn` settles.
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const staleMs = options.staleMs ?? 60_000;
  const token = `${hostname()} ${process.pid} ${randomBytes(6).toString('hex')}`;
  await mkdir(dirname(path), { recursive: true });
  let waited = false;
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(token);
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await isStale(path, staleMs)) {
      await rm(path, { force: true });
      continue;
    }
    if (!waited) {
      waited = true;
      const holder = await readFile(path, 'utf8').catch(() => '?');
      options.onWait?.(holder.split(' ').slice(0, 2).join(' pid '));
    }
    await sleep(options.pollMs ?? 100);
  }
  const beat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => {});
  }, options.heartbeatMs ?? 5000);
  beat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(beat);
    // Delete only our own lock (a waiter may have judged it stale and replaced it).
    const text = await readFile(path, 'utf8').catch(() => '');
    if (text === token) await rm(path, { force: true });
  }
}
