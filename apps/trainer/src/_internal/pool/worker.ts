// Entry of one pool worker thread: its own tfjs backend and model (architecture and tokenizer
// from the model folder), weights assigned per version, the jobs of each batch claimed one at a
// time from a counter shared with the other workers, batches in arrival order.
// Leaves out scheduling and crash handling (the pool's side, pool.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '@atmanrl/attention-mask/node';
import { type LlamaModel, loadModel } from '@atmanrl/model/node';
import * as tf from '@tensorflow/tfjs-core';
import { type Job, runJob } from './jobs.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { assignWeights } from './weights.js';

const port = parentPort;
if (port === null) throw new Error('pool worker: started outside a worker thread');
const init = workerData as WorkerInit;
const post = (msg: FromWorker): void => port.postMessage(msg);

let model: LlamaModel | undefined;
let version: number | null = null;

/** Test hook: dies while the job is still running (the throw escapes every handler). */
async function crash(mode: 'exit' | 'throw' | 'oom' | 'backend-oom'): Promise<never> {
  if (mode === 'exit') process.exit(3);
  if (mode === 'backend-oom') {
    throw Object.assign(
      new Error(
        'wasm kernel BatchMatMul: the wasm heap is exhausted (heap 4086 MiB; test crash hook)',
      ),
      { name: 'AttentionMaskError', code: 'BACKEND_OUT_OF_MEMORY' },
    );
  }
  if (mode === 'throw') {
    setImmediate(() => {
      throw new Error('pool worker: test crash hook');
    });
    return new Promise<never>(() => {});
  }
  const hog: number[][] = [];
  for (;;) hog.push(Array.from({ length: 1 << 20 }, (_, i) => i + hog.length));
}

async function handle(msg: ToWorker): Promise<void> {
  if (msg.type === 'memory') {
    post({ type: 'memory', numTensors: tf.memory().numTensors });
    return;
  }
  if (msg.type === 'weights') {
    try {
      assignWeights(model!, msg.weights);
      version = msg.weights.version;
      post({ type: 'weights-done', version });
    } catch (e) {
      version = null;
      post({ type: 'weights-error', version: msg.weights.version, message: (e as Error).message });
    }
    return;
  }
  // A batch: claim its jobs one at a time until none is left (other workers claim from the same
  // counter), marking the running one so the pool can name it if this thread dies.
  const claims = new Int32Array(msg.claims);
  const slot = 1 + init.index;
  for (;;) {
    const index = Atomics.add(claims, 0, 1);
    if (index >= msg.jobs.length) break;
    Atomics.store(claims, slot, index + 1);
    await runClaimed(msg.batch, index, msg.jobs[index]!);
    Atomics.store(claims, slot, 0);
  }
  post({ type: 'batch-done', batch: msg.batch });
}

async function runClaimed(batch: number, index: number, job: Job): Promise<void> {
  try {
    if (init.crash?.jobId === job.id) await crash(init.crash.mode);
    if (version !== job.weightsVersion) {
      throw Object.assign(
        new Error(
          `the worker holds weights version ${version ?? 'none'}, the job needs ${job.weightsVersion}; call pool.setWeights before submitting jobs`,
        ),
        { code: 'NO_WEIGHTS' },
      );
    }
    post({ type: 'result', batch, index, result: await runJob(model!, job) });
  } catch (e) {
    const err = e as Error & { code?: unknown };
    post({
      type: 'job-error',
      batch,
      index,
      id: job.id,
      name: err.name,
      ...(typeof err.code === 'string' ? { code: err.code } : {}),
      message: err.message,
    });
  }
}

const started = (async () => {
  const backend = await initBackend({ prefer: init.backend });
  model = await loadModel(init.modelDir, { trainable: true });
  model.recompute = init.recompute ?? false;
  return backend.detail;
})();

let chain: Promise<unknown> = started.then(
  // what the worker's model really runs with, so the pool can report it
  (detail) => post({ type: 'ready', backend: detail, recompute: model!.recompute }),
  (e: unknown) => post({ type: 'start-error', message: (e as Error).message }),
);
port.on('message', (msg: ToWorker) => {
  chain = chain.then(() => (model === undefined ? undefined : handle(msg)));
});
