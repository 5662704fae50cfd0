// Experiment (issue 16 item 2): can tfjs-backend-wasm's threaded-SIMD build run in Node?
// tfjs turns it off in Node (flag WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE, tfjs issue
// 3830) because its Emscripten glue starts pthreads from blob: URLs, which Node's worker_threads
// cannot load. This shim replaces worker_threads.Worker for blob: URLs (the script is read from
// the Blob, the main-script Blob is written to a temp file for importScripts), overrides the flag,
// and times the mask fit of the default model against the plain SIMD build.
// Run: node bench/wasm-threads.mjs [threads|simd] [nThreads]

import { resolveObjectURL } from 'node:buffer';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as wt from 'node:worker_threads';

// The backend package is a dependency of @atmanrl/attention-mask; import that very copy.
const fromMask = createRequire(createRequire(import.meta.url).resolve('@atmanrl/attention-mask'));
const mode = process.argv[2] ?? 'threads';
const nThreads = Number(process.argv[3] ?? 2);

if (mode === 'threads') {
  // tfjs's C side uses at most half the logical cores for XNNPACK (one thread on 2 cores), so
  // WASM_THREADS_FAKE_CORES lets Emscripten's os.cpus() report more.
  const fake = Number(process.env.WASM_THREADS_FAKE_CORES ?? 0);
  if (fake > 0) {
    const os = createRequire(import.meta.url)('node:os');
    const real = os.cpus;
    os.cpus = () => Array.from({ length: fake }, (_, i) => real()[i % real().length]);
  }
  const RealWorker = wt.Worker;
  let mainScriptPath;
  const bootstrap = `
    const { workerData } = require('node:worker_threads');
    globalThis.require = require;
    globalThis.__filename = 'tfjs-backend-wasm-threaded-simd.worker.js';
    workerData.__script.text().then((src) => (0, eval)(src));
  `;
  class ShimWorker extends RealWorker {
    constructor(url, options = {}) {
      const href = String(url);
      if (!href.startsWith('blob:')) {
        super(url, options);
        return;
      }
      const blob = resolveObjectURL(href);
      super(bootstrap, { ...options, eval: true, workerData: { __script: blob } });
      this.chain = Promise.resolve();
      this.queued = 0;
      this.first = true; // Emscripten's 'load' (holds a Blob) goes through the async chain
    }
    postMessage(msg, transfer) {
      // Synchronous once the (async) load is through: Emscripten blocks the main thread right
      // after posting 'run' and waits for the thread to start.
      if (!this.chain || (this.queued === 0 && !this.first))
        return super.postMessage(msg, transfer);
      this.first = false;
      this.queued++;
      this.chain = this.chain.then(async () => {
        if (msg && msg.cmd === 'load' && msg.urlOrBlob && typeof msg.urlOrBlob !== 'string') {
          if (!mainScriptPath) {
            mainScriptPath = join(mkdtempSync(join(tmpdir(), 'tfjs-wasm-main-')), 'main.js');
            // factory.toString() lost the bundle's scope: re-create the free variables it uses
            // (rollup's require$$N, commonjsGlobal, tslib helpers, _scriptDir).
            const bundle = readFileSync(fromMask.resolve('@tensorflow/tfjs-backend-wasm'), 'utf8');
            const lines = bundle.split('\n');
            const start = lines.findIndex((l) => l.startsWith('var extendStatics'));
            const end = lines.findIndex(
              (l, i) => i > start && l.startsWith('function __spreadArray'),
            );
            const tslib = lines.slice(start, end + 11).join('\n');
            const prelude = [
              "var require$$0 = require('fs'), require$$1 = require('path'), require$$3 = require('perf_hooks'), require$$4 = require('os');",
              'var commonjsGlobal = globalThis; var _scriptDir = __filename;',
              tslib,
            ].join('\n');
            writeFileSync(mainScriptPath, `${prelude}\n${await msg.urlOrBlob.text()}`);
          }
          msg = { ...msg, urlOrBlob: mainScriptPath };
        }
        super.postMessage(msg, transfer);
        this.queued--;
      });
    }
  }
  // The glue reads require('worker_threads').Worker when its factory runs.
  const cjs = createRequire(import.meta.url)('node:worker_threads');
  cjs.Worker = ShimWorker;
}

const tf = await import('@tensorflow/tfjs-core');
const wasm = await import(fromMask.resolve('@tensorflow/tfjs-backend-wasm'));
if (mode === 'threads') {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(nThreads);
}
const { initBackend } = await import('@atmanrl/attention-mask/node');
const info = await initBackend({ prefer: 'wasm' });
console.log(`backend: ${info.detail}, threads ${wasm.getThreadsCount()}`);

const { loadModel, createRandomModel } = await import('@atmanrl/model/node');
const { fitSaliencyMasks } = await import('@atmanrl/saliency');
const which = process.env.WASM_THREADS_MODEL ?? 'default';
const model =
  which === '10m'
    ? createRandomModel(
        {
          vocab_size: 2048,
          hidden_size: 384,
          intermediate_size: 1024,
          num_hidden_layers: 6,
          num_attention_heads: 6,
          num_key_value_heads: 2,
          tie_word_embeddings: true,
        },
        0,
      )
    : await loadModel(new URL('../assets/default-model', import.meta.url).pathname);
const V = model.config.vocab_size;
const ids = (n, salt) => Array.from({ length: n }, (_, i) => (i * 7919 + salt * 104729) % (V - 10));
const B = Number(process.env.WASM_THREADS_B ?? 16);
const C = Number(process.env.WASM_THREADS_COT ?? 20);
const items = Array.from({ length: B }, (_, b) => ({
  promptIds: ids(which === '10m' ? 128 : 30, b),
  cotIds: ids(C, b + 100),
  delimiterIds: [7],
  goldAnswerIds: ids(2, b + 200),
}));
// Correctness: compare to a plain run's numbers printed by the other mode.
const steps = Number(process.env.WASM_THREADS_STEPS ?? 10);
await fitSaliencyMasks(model, items, { steps: 2 }); // warm-up
const t0 = performance.now();
const u0 = process.cpuUsage();
const res = await fitSaliencyMasks(model, items, { steps });
const ms = performance.now() - t0;
const u1 = process.cpuUsage(u0);
const cpuMs = (u1.user + u1.system) / 1000;
console.log(
  `${mode}${mode === 'threads' ? ` x${nThreads}` : ''}: ${B} items × CoT ${C}, ${steps} steps: ${(ms / steps).toFixed(1)} ms/step (process CPU ${(cpuMs / steps).toFixed(1)} ms/step, load ${(await import('node:os')).loadavg()[0].toFixed(1)}); theta[0][0..2] = ${res[0].theta
    .slice(0, 3)
    .map((x) => x.toFixed(6))
    .join(', ')}`,
);
model.dispose();
process.exit(0);
