// Chooses and initialises the TensorFlow.js backend (tensorflow > wasm > cpu, or an explicit
// choice, incl. webgpu through Dawn). Leaves out webgl (browser only) and multi-backend setups.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../_internal/gradients.js';
import { guardWasmBackend, withWasmPrintHooks } from '../_internal/wasm-guard.js';
import {
  registerFastCpuSegmentSum,
  registerFastWasmSlice,
  registerWasmKernels,
} from '../_internal/wasm-kernels.js';
import { describeAdapter, type GpuAdapterInfo, readEnv, splitFlags } from '../adapter.js';
import { AttentionMaskError } from '../errors.js';
import type { Logger } from '../logger.js';
import { noteWebgpuAdapter } from '../matmul.js';
import { probeWebgpu, setUpWebgpu } from './webgpu.js';

/** Backends this project knows, fastest first. */
export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/** What {@link initBackend} set up. */
export interface BackendInfo {
  /** tfjs backend name now active. */
  name: BackendName;
  /** Human-readable detail, e.g. `'wasm (simd, 1 thread)'` or the GPU adapter. */
  detail: string;
  /** The GPU adapter (webgpu only): vendor, architecture, software or not, Dawn route. */
  adapter?: GpuAdapterInfo;
}

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Use exactly this backend (an unavailable one is an error). `ATMANRL_BACKEND` overrides it. */
  prefer?: BackendName;
  /** Receives the chosen backend (info) and skipped candidates. */
  logger?: Logger;
  /**
   * Dawn toggles for webgpu, e.g. `['backend=vulkan']`; default from `ATMANRL_WEBGPU_FLAGS`
   * (comma-separated) or none.
   */
  webgpuFlags?: string[];
}

const BACKENDS: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];
/** Automatic order; webgpu only on a hardware adapter (a software one is slower than wasm). */
const AUTO_ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

interface SetUp {
  detail: string;
  adapter?: GpuAdapterInfo;
}

/** One set-up per backend per process (a failure is remembered too). */
const setups = new Map<BackendName, Promise<SetUp>>();

/**
 * Chooses and initialises a TensorFlow.js backend, makes it current and returns it.
 *
 * Order: `ATMANRL_BACKEND` (tensorflow|webgpu|wasm|cpu) if set, else `prefer` if given — both
 * strict: an unavailable choice throws `BACKEND_UNAVAILABLE`, never falls back. Otherwise the
 * first that works of: `tensorflow` (`@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node`,
 * optional peers), `webgpu` only when Dawn offers a hardware adapter (probed once, quietly, in a
 * child process, and only when the optional peers `webgpu` and `@tensorflow/tfjs-backend-webgpu`
 * are installed; a software adapter such as lavapipe is skipped: slower than wasm), `wasm` (its
 * `.wasm` files loaded from the installed package, no network), `cpu`. For webgpu the result
 * carries the adapter (vendor, architecture, software or not); a software adapter that was asked
 * for is used, with a warning. Idempotent; safe to call again to switch.
 * Also registers all tfjs gradients and the wasm `UnsortedSegmentSum` kernel.
 *
 * On wasm, a failed XNNPACK call or heap allocation (which tfjs-backend-wasm 4.22 only prints, going
 * on with an uninitialised output) throws `BACKEND_OUT_OF_MEMORY` / `BACKEND_KERNEL_FAILED` from
 * the op, naming the kernel and its input shapes, so no garbage reaches a loss or a gradient.
 *
 * @throws AttentionMaskError `UNKNOWN_BACKEND` for a bad name, `BACKEND_UNAVAILABLE` when the
 *   requested backend cannot start (message says why and how to fix it)
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const fromEnv = readEnv('ATMANRL_BACKEND');
  const requested = fromEnv ?? options.prefer;
  const log = options.logger;
  let info: BackendInfo | undefined;
  if (requested !== undefined) {
    if (!(BACKENDS as readonly string[]).includes(requested)) {
      throw new AttentionMaskError(
        'UNKNOWN_BACKEND',
        `${fromEnv !== undefined ? 'ATMANRL_BACKEND' : 'prefer'} is '${requested}', expected one of ${BACKENDS.join(', ')}`,
      );
    }
    info = await activate(requested as BackendName, options);
  } else {
    for (const name of AUTO_ORDER) {
      try {
        if (name === 'webgpu') {
          // Probed in a child process (quiet, once, only with the optional peers installed).
          const probe = await probeWebgpu(webgpuFlags(options));
          if (!probe.available) throw new Error(probe.reason);
          if (probe.adapter.software) {
            throw new Error(
              `only a software adapter (${describeAdapter(probe.adapter)}), slower than wasm; ` +
                'ask for it with ATMANRL_BACKEND=webgpu',
            );
          }
        }
        info = await activate(name, options);
        break;
      } catch (error) {
        log?.info(`backend ${name} unavailable: ${(error as Error).message.split('\n')[0]}`);
      }
    }
  }
  if (info === undefined) {
    throw new AttentionMaskError('BACKEND_UNAVAILABLE', 'no TensorFlow.js backend could start');
  }
  log?.info(`tfjs backend: ${info.detail}`);
  if (info.adapter?.software) {
    log?.warn('webgpu runs on a software (CPU) adapter: exact, but slower than the wasm backend');
  }
  return info;
}

async function activate(name: BackendName, options: InitBackendOptions): Promise<BackendInfo> {
  let setup = setups.get(name);
  if (setup === undefined) {
    setup = setUp(name, options);
    setups.set(name, setup);
  }
  let done: SetUp;
  try {
    done = await setup;
    if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
    await tf.ready();
  } catch (cause) {
    if (cause instanceof AttentionMaskError) throw cause;
    throw new AttentionMaskError(
      'BACKEND_UNAVAILABLE',
      `backend ${name} could not start: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (name === 'wasm') return { name, detail: await wasmDetail() };
  return done.adapter === undefined
    ? { name, detail: done.detail }
    : { name, detail: done.detail, adapter: done.adapter };
}

function webgpuFlags(options: InitBackendOptions): string[] {
  return options.webgpuFlags ?? splitFlags(readEnv('ATMANRL_WEBGPU_FLAGS'));
}

async function setUp(name: BackendName, options: InitBackendOptions): Promise<SetUp> {
  switch (name) {
    case 'cpu':
      registerFastCpuSegmentSum();
      return { detail: 'cpu (pure JavaScript)' };
    case 'wasm':
      return { detail: await setUpWasm() };
    case 'tensorflow':
      return { detail: await setUpTensorflow() };
    case 'webgpu': {
      const adapter = await setUpWebgpu(webgpuFlags(options));
      noteWebgpuAdapter(!adapter.software);
      return { detail: describeAdapter(adapter), adapter };
    }
  }
}

async function setUpWasm(): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // The .wasm binaries sit next to the package's main file (dist/); load them from disk.
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  wasm.setWasmPaths(dir + sep);
  registerWasmKernels();
  registerFastWasmSlice();
  // The emscripten module binds its print hooks when it is created (the backend's first
  // initialisation); wrapped then, XNNPACK's status lines become errors (wasm-guard.ts).
  const current = tf.getBackend();
  await withWasmPrintHooks(async () => {
    if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') returned false");
  });
  guardWasmBackend();
  if (current !== undefined && current !== 'wasm') await tf.setBackend(current);
  return 'wasm';
}

async function wasmDetail(): Promise<string> {
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  return `wasm (${simd ? 'simd' : 'no simd'}, ${threads ? 'threads' : '1 thread'})`;
}

async function setUpTensorflow(): Promise<string> {
  const reasons: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      // Importing a package whose native addon is missing half-registers its kernels (and warns
      // on every retry), so look for the addon first.
      const addon = findTfjsNodeAddon(pkg);
      if (addon !== null) {
        reasons.push(addon);
        continue;
      }
      // A variable specifier: optional peers must not be resolved at build time.
      const specifier: string = pkg;
      await import(specifier);
      if (tf.findBackendFactory('tensorflow') === null) {
        throw new Error(`${pkg} loaded but registered no 'tensorflow' backend with this tfjs-core`);
      }
      return `tensorflow (${pkg})`;
    } catch (error) {
      reasons.push(`${pkg}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new AttentionMaskError(
    'BACKEND_UNAVAILABLE',
    `backend tensorflow needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node with its native ` +
      `addon (install one; their install downloads libtensorflow). ${reasons.join('; ')}`,
  );
}

/** null when `pkg` has a built native addon, else why not. */
function findTfjsNodeAddon(pkg: string): string | null {
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    return `${pkg}: not installed`;
  }
  const lib = join(root, 'lib');
  const found =
    existsSync(lib) &&
    readdirSync(lib).some(
      (name) => /^napi-v\d+$/.test(name) && existsSync(join(lib, name, 'tfjs_binding.node')),
    );
  return found
    ? null
    : `${pkg}: installed without its native addon (lib/napi-v*/tfjs_binding.node)`;
}
