// Test and bench helper: a real `redis-server` of this suite's own, on a free loopback port, no
// persistence, stopped by its PID. No fixed port and no mock: the queue tests run against Redis.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running redis-server started by {@link startRedis}. */
export interface RedisHandle {
  port: number;
  /** `redis://127.0.0.1:<port>` (with the password when one was set). */
  url: string;
  /** Stops the server (SIGTERM to its PID, SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
  /** Stops and starts it again on the same port, empty (no persistence): a Redis restart. */
  restart(): Promise<void>;
}

/** A loopback port nobody listens on right now (the kernel's choice). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr !== null
          ? resolve(addr.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function launch(port: number, dir: string, password?: string): Promise<ChildProcess> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    ...(password ? ['--requirepass', password] : []),
  ];
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      reject(e);
      return;
    }
    let log = '';
    const onData = (b: Buffer) => {
      log += b.toString();
      if (log.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (b: Buffer) => {
      log += b.toString();
    });
    child.once('error', (e) =>
      reject(
        new Error(
          `redis-server could not be started (${e.message}); install it (Debian: apt-get install redis-server)`,
        ),
      ),
    );
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${log}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
  });
}

/** Starts a redis-server on a free loopback port (a few tries if another process takes it first). */
export async function startRedis(options: { password?: string } = {}): Promise<RedisHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'atmanrl-redis-'));
  let child: ChildProcess | undefined;
  let port = 0;
  let last: unknown;
  for (let attempt = 0; attempt < 5 && child === undefined; attempt++) {
    port = await freePort();
    try {
      child = await launch(port, dir, options.password);
    } catch (e) {
      last = e;
    }
  }
  if (child === undefined) throw last;
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const handle: RedisHandle = {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    async stop() {
      if (child) await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      if (child) await stopChild(child);
      child = await launch(port, dir, options.password);
    },
  };
  return handle;
}
