// JS kernels the wasm backend lacks or runs badly. `UnsortedSegmentSum` is what the gradient of
// `gather` (embedding tables) needs; it runs once per step on [N, D] gradients, so JS speed is
// enough. `Slice` is replaced by one whose contiguous path reads the wasm heap in place.
import * as tf from '@tensorflow/tfjs-core';

interface WasmLikeBackend {
  readSync(dataId: object): ArrayLike<number>;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  makeOutput(
    shape: number[],
    dtype: tf.DataType,
    memoryOffset?: number,
    values?: Float32Array | Int32Array,
  ): tf.TensorInfo;
}

/** out[s, ...] = Σ_{i: ids[i] = s} x[i, ...]; ids outside [0, numSegments) are dropped (as in TF). */
export function unsortedSegmentSumValues(
  x: ArrayLike<number>,
  ids: ArrayLike<number>,
  numSegments: number,
  isInt: boolean,
): Float32Array | Int32Array {
  const inner = ids.length === 0 ? 0 : x.length / ids.length;
  const out = isInt ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let t = 0; t < inner; t++) out[dst + t]! += x[src + t]!;
  }
  return out;
}

/** Registers `UnsortedSegmentSum` for 'wasm' unless a kernel is already registered. */
export function registerWasmKernels(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm') !== undefined) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const { numSegments } = attrs as unknown as { numSegments: number };
      const wasm = backend as unknown as WasmLikeBackend;
      const values = unsortedSegmentSumValues(
        wasm.readSync(x.dataId),
        wasm.readSync(segmentIds.dataId),
        numSegments,
        x.dtype === 'int32',
      );
      const shape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
      return wasm.makeOutput(shape, x.dtype, undefined, values);
    },
  });
}

/** Marks our cpu UnsortedSegmentSum kernel so registration stays idempotent. */
const FAST_SEGMENT_SUM = Symbol.for('@atmanrl/attention-mask/fast-segment-sum');

interface CpuLikeBackend {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo(
    shape: number[],
    dtype: tf.DataType,
    values: Float32Array | Int32Array,
  ): tf.TensorInfo;
}

/**
 * Replaces the cpu backend's `UnsortedSegmentSum`: tfjs 4.22 runs one masked sum over all of `x`
 * per segment, O(segments · size) — the gradient of a 128,256-column embedding gather took minutes
 * per step. This is the same single pass as the wasm kernel above.
 */
export function registerFastCpuSegmentSum(): void {
  const original = tf.getKernel('UnsortedSegmentSum', 'cpu');
  if (
    original !== undefined &&
    (original.kernelFunc as { [FAST_SEGMENT_SUM]?: boolean })[FAST_SEGMENT_SUM]
  ) {
    return;
  }
  const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
    const { numSegments } = attrs as unknown as { numSegments: number };
    const cpu = backend as unknown as CpuLikeBackend;
    const values = unsortedSegmentSumValues(
      cpu.readSync(x.dataId),
      cpu.readSync(segmentIds.dataId),
      numSegments,
      x.dtype === 'int32',
    );
    const shape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
    return cpu.makeTensorInfo(shape, x.dtype, values);
  };
  (kernelFunc as { [FAST_SEGMENT_SUM]?: boolean })[FAST_SEGMENT_SUM] = true;
  if (original !== undefined) tf.unregisterKernel('UnsortedSegmentSum', 'cpu');
  tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'cpu', kernelFunc });
}

/** Marks our Slice kernel so registration stays idempotent. */
const FAST_SLICE = Symbol.for('@atmanrl/attention-mask/fast-slice');

/**
 * Replaces wasm's `Slice` kernel: tfjs 4.22 copies the *whole* input to JS (`readSync`) on every
 * slice, so N slices of one tensor cost O(N · size) — unstacking a [64,1024,256] tensor took 8.7 s.
 * A contiguous slice here is one copy of the slice from a heap view; every other case (strided
 * slices, strings) is handed to the original kernel unchanged.
 */
export function registerFastWasmSlice(): void {
  const original = tf.getKernel('Slice', 'wasm');
  if (original === undefined || (original.kernelFunc as { [FAST_SLICE]?: boolean })[FAST_SLICE]) {
    return;
  }
  const kernelFunc: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs as { x: tf.TensorInfo };
    const { begin, size } = attrs as unknown as {
      begin: number | number[];
      size: number | number[];
    };
    const [begin_, size_] = tf.slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
    if (x.dtype === 'string' || !tf.slice_util.isSliceContinous(x.shape, begin_, size_)) {
      return original.kernelFunc(args);
    }
    const wasm = backend as unknown as WasmLikeBackend;
    const offset = tf.slice_util.computeFlatOffset(begin_, tf.util.computeStrides(x.shape));
    const count = tf.util.sizeFromShape(size_);
    const out = wasm.makeOutput(size_, x.dtype);
    // Views are taken after makeOutput: allocating may grow (and detach) the heap buffer.
    const src = wasm.typedArrayFromHeap(x);
    wasm.typedArrayFromHeap(out).set(src.subarray(offset, offset + count));
    return out;
  };
  (kernelFunc as { [FAST_SLICE]?: boolean })[FAST_SLICE] = true;
  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel({ ...original, kernelFunc });
}
