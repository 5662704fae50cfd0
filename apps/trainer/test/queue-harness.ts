// Test and bench helper for the Redis job queue: builds the queue worker entry and the pool's
// thread worker from src, and starts real `atmanrl worker` processes (stopped by PID).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'tsup';
import { buildPoolWorker } from './pool-worker-build.js';

const root = resolve(import.meta.dirname, '..');

/** Compiled queue worker + pool worker; `cleanup` removes both. */
export interface BuiltWorkers {
  queueWorker: string;
  poolWorker: string;
  cleanup: () => void;
}

/** Builds `src/_internal/queue/worker-entry.ts` (and the pool worker) into node_modules/.cache. */
export async function buildQueueWorker(): Promise<BuiltWorkers> {
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const outDir = mkdtempSync(join(cache, 'atmanrl-queue-worker-'));
  const pool = await buildPoolWorker();
  await build({
    config: false,
    entry: { 'queue-worker': join(root, 'src/_internal/queue/worker-entry.ts') },
    outDir,
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    dts: false,
    sourcemap: false,
    clean: false,
    splitting: false,
    silent: true,
    outExtension: () => ({ js: '.mjs' }),
  });
  return {
    queueWorker: join(outDir, 'queue-worker.mjs'),
    poolWorker: fileURLToPath(pool.url),
    cleanup: () => {
      pool.cleanup();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

/** Builds `src/cli.ts` (the whole `atmanrl` CLI) into node_modules/.cache; returns its path. */
export async function buildCli(): Promise<{ cli: string; cleanup: () => void }> {
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const outDir = mkdtempSync(join(cache, 'atmanrl-cli-'));
  await build({
    config: false,
    entry: { cli: join(root, 'src/cli.ts') },
    outDir,
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    dts: false,
    sourcemap: false,
    clean: false,
    splitting: false,
    silent: true,
    outExtension: () => ({ js: '.mjs' }),
  });
  return {
    cli: join(outDir, 'cli.mjs'),
    cleanup: () => rmSync(outDir, { recursive: true, force: true }),
  };
}

/** A running worker process. */
export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Its stdout and stderr lines so far. */
  lines: string[];
  /** Resolves with the first line matching `re` (rejects if the process exits first). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Its exit code (null when killed by a signal), once it has exited. */
  exit: Promise<number | null>;
  /** SIGKILL (kill -9). */
  kill9(): Promise<void>;
  /** SIGTERM, then waits for the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `node queue-worker.mjs --queue <url> --backend cpu …extra`. */
export function startWorker(built: BuiltWorkers, url: string, extra: string[] = []): WorkerProcess {
  return startProcess(built, [built.queueWorker, '--queue', url, '--backend', 'cpu', ...extra]);
}

/** Starts `node …args` (a worker or a CLI), its lines collected; stopped by its PID. */
export function startProcess(built: BuiltWorkers, args: string[]): WorkerProcess {
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ATMANRL_POOL_WORKER: pathToFileURL(built.poolWorker).href },
  });
  const lines: string[] = [];
  const watchers: { re: RegExp; resolve: (l: string) => void }[] = [];
  const onLine = (l: string) => {
    lines.push(l);
    for (const w of [...watchers]) {
      if (w.re.test(l)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(l);
      }
    }
  };
  for (const s of [child.stdout, child.stderr]) {
    let buf = '';
    s?.on('data', (b: Buffer) => {
      buf += b.toString();
      let i = buf.indexOf('\n');
      while (i >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
      }
    });
  }
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    pid: child.pid!,
    lines,
    exit: exited,
    waitFor(re, timeoutMs = 60_000) {
      const hit = lines.find((l) => re.test(l));
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () =>
            reject(
              new Error(
                `worker ${child.pid}: no line matching ${re} in ${timeoutMs} ms:\n${lines.join('\n')}`,
              ),
            ),
          timeoutMs,
        );
        watchers.push({
          re,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
        void exited.then((code) => {
          clearTimeout(t);
          reject(
            new Error(`worker ${child.pid} exited (${code}) before ${re}:\n${lines.join('\n')}`),
          );
        });
      });
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM');
      return exited;
    },
  };
}
