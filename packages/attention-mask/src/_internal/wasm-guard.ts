// Turns the wasm backend's silent failures into errors. tfjs-backend-wasm 4.22 handles a failed
// XNNPACK call by printing `XNN status for <fn> is not successful. Got status <n>` and returning
// an output tensor of uninitialised heap memory; a failed heap allocation (`_malloc` returning 0)
// leaves a tensor at address 0. Both used to flow on into the loss and the gradient. Here:
// - the emscripten module's print hooks (captured from `console.log`/`console.warn` when the
//   module is created) are wrapped during the backend's first initialisation, so XNN status lines
//   are recorded (and not printed);
// - every wasm kernel is wrapped: after it returns, a recorded XNN failure disposes its outputs and
//   throws `BACKEND_OUT_OF_MEMORY` (status 6) or `BACKEND_KERNEL_FAILED`, naming the kernel and the
//   input shapes; an emscripten `abort()` inside a kernel (a failed C++ allocation kills the module)
//   becomes `BACKEND_KERNEL_FAILED` naming the kernel;
// - the backend's `move` (every tensor allocation) throws `BACKEND_OUT_OF_MEMORY` when `_malloc`
//   returns 0 for a non-empty tensor.
// Leaves out the threaded wasm build (its print hook writes to the file descriptor directly; Node
// never runs it) and the few bytes a kernel that failed half-way may leak.
import * as tf from '@tensorflow/tfjs-core';
import { AttentionMaskError } from '../errors.js';

/** The parts of tfjs-backend-wasm's BackendWasm this file uses. */
interface WasmBackendInternals {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number | null } | undefined };
  move(
    dataId: object,
    values: unknown,
    shape: number[],
    dtype: tf.DataType,
    refCount: number,
  ): void;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** XNNPACK's `xnn_status` values (xnnpack.h). */
const XNN_STATUS: Record<number, string> = {
  1: 'uninitialized',
  2: 'invalid parameter',
  3: 'invalid state',
  4: 'unsupported parameter',
  5: 'unsupported hardware',
  6: 'out of memory',
  7: 'reallocation required',
};

const XNN_LINE = /XNN status for (\S+) is not successful\. Got status (\d+)/;
const GUARDED = Symbol.for('@atmanrl/attention-mask/wasm-guard');

interface XnnFailure {
  fn: string;
  status: number;
}

/** The XNN failure printed since the last kernel check (null when none). */
let pending: XnnFailure | null = null;

/** Records an XNN status line; true when `text` was one (and must not be printed). */
export function noteWasmPrint(text: string): boolean {
  const m = XNN_LINE.exec(text);
  if (m === null) return false;
  pending ??= { fn: m[1]!, status: Number(m[2]) };
  return true;
}

/** Takes (and clears) the recorded XNN failure. */
export function takeXnnFailure(): XnnFailure | null {
  const f = pending;
  pending = null;
  return f;
}

type PrintFn = (...args: unknown[]) => void;

/**
 * Runs `init` (the wasm backend's first initialisation) with `console.log` / `console.warn`
 * wrapped, so the emscripten module binds the wrappers as its print hooks; restores them after.
 */
export async function withWasmPrintHooks<T>(init: () => Promise<T>): Promise<T> {
  const c = globalThis['console'] as unknown as Record<'log' | 'warn', PrintFn>;
  const saved = { log: c.log, warn: c.warn };
  const wrap =
    (original: PrintFn): PrintFn =>
    (...args: unknown[]) => {
      if (args.length === 1 && typeof args[0] === 'string' && noteWasmPrint(args[0])) return;
      original.apply(globalThis['console'], args);
    };
  c.log = wrap(saved.log);
  c.warn = wrap(saved.warn);
  try {
    return await init();
  } finally {
    c.log = saved.log;
    c.warn = saved.warn;
  }
}

function describeInputs(inputs: tf.NamedTensorInfoMap): string {
  return Object.entries(inputs)
    .filter(([, t]) => t !== undefined)
    .map(([name, t]) => `${name} [${t!.shape.join(',')}] ${t!.dtype}`)
    .join(', ');
}

function heapMiB(backend: WasmBackendInternals): string {
  return `${(backend.wasm.HEAPU8.length / 2 ** 20).toFixed(0)} MiB`;
}

const HOW_TO_FIX =
  'The result would have been garbage, so the computation was stopped. Use smaller micro-batches ' +
  '(fewer rows or tokens per forward pass, e.g. gradient accumulation or the mask fit maxBatchSize), ' +
  'a shorter sequence or a smaller model; the wasm heap is limited to 4 GiB.';

function xnnError(f: XnnFailure, kernel: string, inputs: string, heap: string): AttentionMaskError {
  const what = XNN_STATUS[f.status] ?? `status ${f.status}`;
  return new AttentionMaskError(
    f.status === 6 ? 'BACKEND_OUT_OF_MEMORY' : 'BACKEND_KERNEL_FAILED',
    `wasm kernel ${kernel} (${inputs}) failed: XNNPACK ${f.fn} returned status ${f.status} ` +
      `(${what}); wasm heap ${heap}. ${HOW_TO_FIX}`,
  );
}

function outputsOf(result: tf.TensorInfo | tf.TensorInfo[]): tf.TensorInfo[] {
  return Array.isArray(result) ? result : [result];
}

/**
 * Wraps every kernel registered for 'wasm' (idempotent: a wrapped kernel is left alone) so that an
 * XNN failure printed during the kernel becomes an error naming the kernel and its input shapes,
 * and patches the active wasm backend's allocator check. Call with the wasm backend active.
 */
export function guardWasmBackend(): void {
  for (const config of tf.getKernelsForBackend('wasm')) {
    const original = config.kernelFunc as tf.KernelFunc & { [GUARDED]?: boolean };
    if (original[GUARDED]) continue;
    const kernelFunc: tf.KernelFunc & { [GUARDED]?: boolean } = (args) => {
      pending = null;
      let result: tf.TensorInfo | tf.TensorInfo[];
      try {
        result = original(args);
      } catch (cause) {
        if (cause instanceof AttentionMaskError && cause.code === 'BACKEND_OUT_OF_MEMORY') {
          throw new AttentionMaskError(
            'BACKEND_OUT_OF_MEMORY',
            `wasm kernel ${config.kernelName} (${describeInputs(args.inputs)}): ${cause.message}`,
            { cause },
          );
        }
        if (cause instanceof Error && cause.message.startsWith('Aborted(')) {
          throw new AttentionMaskError(
            'BACKEND_KERNEL_FAILED',
            `wasm kernel ${config.kernelName} (${describeInputs(args.inputs)}) aborted the wasm ` +
              `module (${cause.message.split('.')[0]}), most likely an allocation inside the kernel ` +
              `failed (wasm heap ${heapMiB(args.backend as unknown as WasmBackendInternals)}). The wasm ` +
              `backend cannot be used again in this process. ${HOW_TO_FIX}`,
            { cause },
          );
        }
        throw cause;
      }
      const failure = takeXnnFailure();
      if (failure !== null) {
        const backend = args.backend as unknown as WasmBackendInternals;
        const outs = outputsOf(result as tf.TensorInfo | tf.TensorInfo[]);
        for (const out of outs) backend.disposeData(out.dataId, true);
        throw xnnError(failure, config.kernelName, describeInputs(args.inputs), heapMiB(backend));
      }
      return result;
    };
    // Keep markers other registrations use for idempotency (e.g. the fast Slice kernel's).
    for (const key of Object.getOwnPropertySymbols(original)) {
      (kernelFunc as unknown as Record<symbol, unknown>)[key] = (
        original as unknown as Record<symbol, unknown>
      )[key];
    }
    kernelFunc[GUARDED] = true;
    tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel({ ...config, kernelFunc });
  }
  const backend = tf.findBackend('wasm') as unknown as
    | (WasmBackendInternals & { [GUARDED]?: boolean })
    | null;
  if (backend === null || backend[GUARDED]) return;
  const move = backend.move.bind(backend);
  backend.move = (dataId, values, shape, dtype, refCount) => {
    move(dataId, values, shape, dtype, refCount);
    if (dtype === 'string') return;
    const bytes = tf.util.sizeFromShape(shape) * tf.util.bytesPerElement(dtype);
    if (bytes > 0 && backend.dataIdMap.get(dataId)?.memoryOffset === 0) {
      backend.disposeData(dataId, true);
      throw new AttentionMaskError(
        'BACKEND_OUT_OF_MEMORY',
        `the wasm heap could not allocate ${bytes} bytes for a [${shape.join(',')}] ${dtype} ` +
          `tensor (heap ${heapMiB(backend)}). ${HOW_TO_FIX}`,
      );
    }
  };
  backend[GUARDED] = true;
}
