// A queue worker as a plain process: `node queue-worker.js --queue redis://… [--backend cpu]
// [--concurrency N]`, the same as `atmanrl worker`. Used by the tests and the benchmark (built
// from src) and by the CLI command (commands/worker.ts). Exits 1 on a bad option.
import { parseArgs } from 'node:util';
import type { BackendName } from '@atmanrl/attention-mask/node';
import { initBackend } from '@atmanrl/attention-mask/node';
import { QueueError } from './errors.js';
import { QueueWorker, type QueueWorkerOptions } from './worker.js';

/** Runs a worker until SIGINT/SIGTERM; resolves when it has closed. */
export async function runQueueWorker(
  options: Omit<QueueWorkerOptions, 'backend'> & { backend: BackendName | 'auto' },
  log: (line: string) => void,
): Promise<void> {
  const backend = await initBackend(options.backend === 'auto' ? {} : { prefer: options.backend });
  const worker = new QueueWorker({ ...options, backend: backend.name as BackendName, log });
  await worker.start();
  log(
    `worker ${worker.id}: taking jobs from ${options.url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')} on ${backend.detail}, concurrency ${options.concurrency ?? 1}`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  log(`worker ${worker.id}: stopping after the running jobs`);
  await worker.close();
  worker.printStatus(true);
}

/** Parses the worker's own flags (for the standalone entry). */
export function parseWorkerArgs(argv: string[]): QueueWorkerOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      queue: { type: 'string' },
      backend: { type: 'string', default: 'cpu' },
      concurrency: { type: 'string', default: '1' },
      'queue-name': { type: 'string' },
      'weights-dir': { type: 'string' },
      'cache-versions': { type: 'string' },
      'lock-ms': { type: 'string' },
      'stalled-check-ms': { type: 'string' },
    },
    strict: true,
  });
  if (values.queue === undefined) {
    throw new QueueError(
      'BAD_QUEUE_URL',
      '--queue is required: redis://[user:password@]host:port[/db]',
    );
  }
  const num = (v: string | undefined, flag: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new QueueError('BAD_QUEUE_URL', `${flag} ${v}: expected an integer ≥ 1`);
    return n;
  };
  const o: QueueWorkerOptions = {
    url: values.queue,
    backend: values.backend as BackendName,
    concurrency: num(values.concurrency, '--concurrency') ?? 1,
  };
  const cv = num(values['cache-versions'], '--cache-versions');
  const lock = num(values['lock-ms'], '--lock-ms');
  const stalled = num(values['stalled-check-ms'], '--stalled-check-ms');
  return {
    ...o,
    ...(values['queue-name'] ? { queueName: values['queue-name'] } : {}),
    ...(values['weights-dir'] ? { weightsDir: values['weights-dir'] } : {}),
    ...(cv ? { cacheVersions: cv } : {}),
    ...(lock ? { lockMs: lock } : {}),
    ...(stalled ? { stalledCheckMs: stalled } : {}),
  };
}
