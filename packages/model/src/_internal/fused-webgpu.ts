// Fused WebGPU kernels for the Llama block's elementwise/row-wise parts: RMSNorm (forward 1
// dispatch, backward 3) and SwiGLU (forward 1, backward 2), each with an exact custom gradient.
// Registered for the `webgpu` backend only (as tfjs kernels, so the engine tracks their memory);
// on every other backend callers keep the unfused tfjs ops. Leaves out float16 storage and
// vectorised (vec4) loads.
import * as tf from '@tensorflow/tfjs-core';
import { ModelError } from '../errors.js';

/** The part of tfjs' TensorInfo these kernels use. */
export interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: string;
}

/** The part of tfjs-backend-webgpu's `WebGPUProgram` these kernels fill in. */
export interface FusedProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  variableNames: string[];
  size?: boolean;
  uniforms?: string;
  getUserCode: () => string;
}

export interface WebgpuBackendLike {
  runWebGPUProgram(
    program: FusedProgram,
    inputs: TensorInfoLike[],
    dtype: 'float32',
    uniforms?: { type: 'float32' | 'int32'; data: number[] }[],
  ): TensorInfoLike;
}

/** Threads per workgroup for the row kernels (one workgroup per row). */
const ROW_THREADS = 64;
/** Threads per workgroup for the elementwise / per-column kernels. */
const FLAT_THREADS = 64;

/** Env switch: `ATMANRL_WEBGPU_FUSED=0` keeps the unfused tfjs ops on webgpu (A/B comparisons). */
const DISABLE_ENV = 'ATMANRL_WEBGPU_FUSED';

/**
 * True when the fused kernels run: the current backend is `webgpu` and `ATMANRL_WEBGPU_FUSED` is
 * not `0` (read on every call, so a bench can compare both paths in one process).
 */
export function useFusedKernels(): boolean {
  if (tf.getBackend() !== 'webgpu') return false;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env?.[DISABLE_ENV];
  return env === undefined || env.trim() !== '0';
}

/** One workgroup per row of a `[rows, cols]` tensor; `row` / `tid` / `cols` are in scope. */
function rowHeader(): string {
  return `
    var<workgroup> partial : array<f32, ${ROW_THREADS}>;
    fn reducePartial(tid : i32) -> f32 {
      for (var stride = ${ROW_THREADS / 2}; stride > 0; stride = stride / 2) {
        if (tid < stride) { partial[tid] = partial[tid] + partial[tid + stride]; }
        workgroupBarrier();
      }
      let total = partial[0];
      workgroupBarrier();
      return total;
    }`;
}

function rowProgram(
  key: string,
  variableNames: string[],
  outputShape: number[],
  rows: number,
  body: string,
  uniforms?: string,
): FusedProgram {
  return {
    outputShape,
    shaderKey: key,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [rows, 1, 1],
    workgroupSize: [ROW_THREADS, 1, 1],
    variableNames,
    ...(uniforms !== undefined ? { uniforms } : {}),
    getUserCode: () => `${rowHeader()}
    fn main(index : i32) {
      let row = index / ${ROW_THREADS};
      let tid = i32(localId.x);
      ${body}
    }`,
  };
}

/** One thread per element of `outputShape`, flat `index`; the body writes `result[index]`. */
export function flatProgram(
  key: string,
  variableNames: string[],
  outputShape: number[],
  body: string,
): FusedProgram {
  const n = outputShape.reduce((a, s) => a * s, 1);
  return {
    outputShape,
    shaderKey: key,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(n / FLAT_THREADS), 1, 1],
    workgroupSize: [FLAT_THREADS, 1, 1],
    variableNames,
    size: true,
    getUserCode: () => `
    fn main(index : i32) {
      if (index < uniforms.size) {
        ${body}
      }
    }`,
  };
}

// --- RMSNorm ------------------------------------------------------------------------------------

/** y[r,c] = x[r,c] · rsqrt(mean_c x[r,c]² + eps) · w[c]; x `[R,C]`, w `[C]`. */
function rmsNormForwardProgram(rows: number, cols: number): FusedProgram {
  return rowProgram(
    'atmanrlRmsNorm',
    ['xIn', 'wIn'],
    [rows, cols],
    rows,
    `let cols = uniforms.xInShape[1];
      let live = row < uniforms.xInShape[0];
      let base = row * cols;
      var s = 0.0;
      if (live) {
        for (var c = tid; c < cols; c = c + ${ROW_THREADS}) { let v = xIn[base + c]; s = s + v * v; }
      }
      partial[tid] = s;
      workgroupBarrier();
      let r = 1.0 / sqrt(reducePartial(tid) / f32(cols) + uniforms.eps);
      if (live) {
        for (var c = tid; c < cols; c = c + ${ROW_THREADS}) { result[base + c] = xIn[base + c] * r * wIn[c]; }
      }`,
    'eps : f32,',
  );
}

/** rstd[r] = rsqrt(mean_c x[r,c]² + eps); x `[R,C]` -> `[R]`. */
function rstdProgram(rows: number): FusedProgram {
  return rowProgram(
    'atmanrlRmsNormRstd',
    ['xIn'],
    [rows],
    rows,
    `let cols = uniforms.xInShape[1];
      let live = row < uniforms.xInShape[0];
      let base = row * cols;
      var s = 0.0;
      if (live) {
        for (var c = tid; c < cols; c = c + ${ROW_THREADS}) { let v = xIn[base + c]; s = s + v * v; }
      }
      partial[tid] = s;
      workgroupBarrier();
      let total = reducePartial(tid);
      if (live && tid == 0) { result[row] = 1.0 / sqrt(total / f32(cols) + uniforms.eps); }`,
    'eps : f32,',
  );
}

/** dx = r·w·dy − x·r³/C·Σ_c(dy·w·x), per row; x, dy `[R,C]`, w `[C]`, rstd `[R]`. */
function rmsNormGradXProgram(rows: number, cols: number): FusedProgram {
  return rowProgram(
    'atmanrlRmsNormGradX',
    ['xIn', 'wIn', 'dyIn', 'rstdIn'],
    [rows, cols],
    rows,
    `let cols = uniforms.xInShape[1];
      let live = row < uniforms.xInShape[0];
      let base = row * cols;
      var s = 0.0;
      if (live) {
        for (var c = tid; c < cols; c = c + ${ROW_THREADS}) { s = s + dyIn[base + c] * wIn[c] * xIn[base + c]; }
      }
      partial[tid] = s;
      workgroupBarrier();
      let dot = reducePartial(tid);
      if (live) {
        let r = rstdIn[row];
        let k = r * r * r * dot / f32(cols);
        for (var c = tid; c < cols; c = c + ${ROW_THREADS}) {
          result[base + c] = r * wIn[c] * dyIn[base + c] - xIn[base + c] * k;
        }
      }`,
  );
}

/** dw[c] = Σ_r dy[r,c]·x[r,c]·rstd[r]; one thread per column. */
function rmsNormGradWProgram(cols: number): FusedProgram {
  return flatProgram(
    'atmanrlRmsNormGradW',
    ['xIn', 'dyIn', 'rstdIn'],
    [cols],
    `let rows = uniforms.xInShape[0];
        let cols = uniforms.xInShape[1];
        var s = 0.0;
        for (var r = 0; r < rows; r = r + 1) {
          s = s + dyIn[r * cols + index] * xIn[r * cols + index] * rstdIn[r];
        }
        result[index] = s;`,
  );
}

// --- SwiGLU -------------------------------------------------------------------------------------

const SIGMOID = 'let sg = 1.0 / (1.0 + exp(-g));';

function swigluForwardProgram(shape: number[]): FusedProgram {
  return flatProgram(
    'atmanrlSwiglu',
    ['gIn', 'uIn'],
    shape,
    `let g = gIn[index]; ${SIGMOID} result[index] = g * sg * uIn[index];`,
  );
}

/** d/dg [g·σ(g)·u] = u·σ(g)·(1 + g·(1 − σ(g))). */
function swigluGradGProgram(shape: number[]): FusedProgram {
  return flatProgram(
    'atmanrlSwigluGradG',
    ['gIn', 'uIn', 'dyIn'],
    shape,
    `let g = gIn[index]; ${SIGMOID}
        result[index] = dyIn[index] * uIn[index] * sg * (1.0 + g * (1.0 - sg));`,
  );
}

/** d/du [g·σ(g)·u] = g·σ(g). */
function swigluGradUProgram(shape: number[]): FusedProgram {
  return flatProgram(
    'atmanrlSwigluGradU',
    ['gIn', 'dyIn'],
    shape,
    `let g = gIn[index]; ${SIGMOID} result[index] = dyIn[index] * g * sg;`,
  );
}

// --- Kernel registration ------------------------------------------------------------------------

const K = {
  rmsNorm: 'AtmanrlRmsNorm',
  rmsNormGrad: 'AtmanrlRmsNormGrad',
  swiglu: 'AtmanrlSwiglu',
  swigluGrad: 'AtmanrlSwigluGrad',
} as const;

/** What tfjs passes a kernel function (the part the fused kernels read). */
export type KernelArgs = {
  inputs: Record<string, TensorInfoLike>;
  backend: unknown;
  attrs?: Record<string, unknown>;
};

/** Registers `kernelFunc` as tfjs kernel `kernelName` for `webgpu` only, once (idempotent). */
export function registerWebgpuKernel(
  kernelName: string,
  kernelFunc: (a: KernelArgs) => unknown,
): void {
  if (tf.getKernel(kernelName, 'webgpu') !== undefined) return;
  tf.registerKernel({
    kernelName,
    backendName: 'webgpu',
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
  });
}

let registered = false;

/** Registers the fused kernels for `webgpu` (idempotent; no other backend is touched). */
export function registerFusedKernels(): void {
  if (registered) return;
  registered = true;
  registerWebgpuKernel(K.rmsNorm, ({ inputs, backend, attrs }) => {
    const { x, w } = inputs as { x: TensorInfoLike; w: TensorInfoLike };
    const [rows, cols] = x.shape as [number, number];
    return (backend as WebgpuBackendLike).runWebGPUProgram(
      rmsNormForwardProgram(rows, cols),
      [x, w],
      'float32',
      [{ type: 'float32', data: [attrs!['eps'] as number] }],
    );
  });
  registerWebgpuKernel(K.rmsNormGrad, ({ inputs, backend, attrs }) => {
    const { x, w, dy } = inputs as Record<'x' | 'w' | 'dy', TensorInfoLike>;
    const [rows, cols] = x.shape as [number, number];
    const b = backend as WebgpuBackendLike & { disposeData(id: object): void };
    const eps = [{ type: 'float32' as const, data: [attrs!['eps'] as number] }];
    const rstd = b.runWebGPUProgram(rstdProgram(rows), [x], 'float32', eps); // [R]
    const dx = b.runWebGPUProgram(rmsNormGradXProgram(rows, cols), [x, w, dy, rstd], 'float32');
    const dw = b.runWebGPUProgram(rmsNormGradWProgram(cols), [x, dy, rstd], 'float32');
    b.disposeData(rstd.dataId);
    return [dx, dw];
  });
  registerWebgpuKernel(K.swiglu, ({ inputs, backend }) => {
    const { g, u } = inputs as { g: TensorInfoLike; u: TensorInfoLike };
    return (backend as WebgpuBackendLike).runWebGPUProgram(
      swigluForwardProgram(g.shape),
      [g, u],
      'float32',
    );
  });
  registerWebgpuKernel(K.swigluGrad, ({ inputs, backend }) => {
    const { g, u, dy } = inputs as Record<'g' | 'u' | 'dy', TensorInfoLike>;
    const b = backend as WebgpuBackendLike;
    return [
      b.runWebGPUProgram(swigluGradGProgram(g.shape), [g, u, dy], 'float32'),
      b.runWebGPUProgram(swigluGradUProgram(g.shape), [g, dy], 'float32'),
    ];
  });
}

function run(name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): tf.Tensor[] {
  const out = tf.engine().runKernel(name, inputs, attrs) as tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? out : [out];
}

function expectFloat32(op: string, name: string, t: tf.Tensor): void {
  if (t.dtype !== 'float32') {
    throw new ModelError(
      'BAD_ARGUMENT',
      `${op}: ${name} has dtype ${t.dtype}, expected float32 (cast it first)`,
    );
  }
}

/**
 * RMSNorm over the last axis on webgpu in one dispatch: `x · rsqrt(mean(x²) + eps) · w`, with an
 * exact gradient for x and w (3 dispatches). x `[..., D]` float32, w `[D]`.
 * Call only when {@link useFusedKernels} is true.
 */
export function fusedRmsNorm(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  registerFusedKernels();
  expectFloat32('fusedRmsNorm', 'x', x);
  expectFloat32('fusedRmsNorm', 'w', w);
  const shape = x.shape;
  const d = shape[shape.length - 1]!;
  if (w.rank !== 1 || w.shape[0] !== d) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `fusedRmsNorm: w has shape [${w.shape}], expected [${d}] (x's last axis)`,
    );
  }
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x2, w1, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    save([x2, w1]);
    const [y] = run(K.rmsNorm, { x: x2, w: w1 }, { eps });
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor, tf.Tensor];
        return run(K.rmsNormGrad, { x: sx, w: sw, dy }, { eps });
      },
    };
  });
  return tf.tidy(() => {
    const x2 = tf.reshape(x, [-1, d]); // [N,D]
    return tf.reshape(op(x2, w), shape); // [..., D]
  });
}

/**
 * SwiGLU's gate on webgpu in one dispatch: `silu(g) · u = g · σ(g) · u`, with an exact gradient for
 * g and u (2 dispatches). g, u: same shape, float32. Call only when {@link useFusedKernels} is true.
 */
export function fusedSwiglu(g: tf.Tensor, u: tf.Tensor): tf.Tensor {
  registerFusedKernels();
  expectFloat32('fusedSwiglu', 'g', g);
  expectFloat32('fusedSwiglu', 'u', u);
  if (!tf.util.arraysEqual(g.shape, u.shape)) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `fusedSwiglu: g has shape [${g.shape}] and u [${u.shape}]; expected equal`,
    );
  }
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [g1, u1, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([g1, u1]);
    const [y] = run(K.swiglu, { g: g1, u: u1 });
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sg, su] = saved as [tf.Tensor, tf.Tensor];
        return run(K.swigluGrad, { g: sg, u: su, dy });
      },
    };
  });
  return op(g, u);
}
