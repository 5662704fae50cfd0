// The webgpu kernels of the fused biased attention (fused-attention.ts): the forward in one WGSL
// program (online softmax, flash-style: one pass over the keys with a running max and sum) and an
// exact backward in 5 (row statistics, dq, dk, dv, dbias; no [Tq,Tk] matrix is ever stored). One
// thread per query row (forward, dq) or key row (dk, dv, dbias). Registered as tfjs kernels for the
// `webgpu` backend only. Leaves out workgroup tiling in shared memory and float16.
import * as tf from '@tensorflow/tfjs-core';
import type { Dims } from '../attention.js';

interface Program {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  variableNames: string[];
  uniforms: string;
  getUserCode: () => string;
}
type Uniform = { type: 'float32' | 'int32'; data: number[] };
/** The part of tfjs' TensorInfo the kernels read. */
interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: string;
}
interface WebgpuBackendLike {
  runWebGPUProgram(
    program: Program,
    inputs: TensorInfoLike[],
    dtype: 'float32',
    uniforms: Uniform[],
  ): TensorInfoLike;
  disposeData(dataId: object): void;
}

const THREADS = 64;
const UNIFORMS =
  'nB : i32, nH : i32, nHkv : i32, groups : i32, tq : i32, tk : i32, posOffset : i32, scale : f32,';

function uniformsOf(s: Dims): Uniform[] {
  const i = (x: number): Uniform => ({ type: 'int32', data: [x] });
  return [
    i(s.b),
    i(s.h),
    i(s.hkv),
    i(s.h / s.hkv),
    i(s.tq),
    i(s.tk),
    i(s.offset),
    { type: 'float32', data: [1 / Math.sqrt(s.d)] },
  ];
}

/** Helpers shared by every kernel: indexing, visibility and the biased, scaled score. */
function common(s: Dims, grad: boolean): string {
  return `
    const NEG : f32 = -3.0e38;
    const DEAD : f32 = -1.0e29;
    const DH : i32 = ${s.d};
    const DVH : i32 = ${s.dv};
    fn qOff(b : i32, h : i32, i : i32) -> i32 { return ((b * uniforms.nH + h) * uniforms.tq + i) * DH; }
    fn kOff(b : i32, hk : i32, j : i32) -> i32 { return ((b * uniforms.nHkv + hk) * uniforms.tk + j) * DH; }
    fn vOff(b : i32, hk : i32, j : i32) -> i32 { return ((b * uniforms.nHkv + hk) * uniforms.tk + j) * DVH; }
    fn keyEnd(i : i32) -> i32 { return min(uniforms.tk, uniforms.posOffset + i + 1); }
    fn realKey(b : i32, j : i32) -> bool { return masksIn[b * (uniforms.tk + uniforms.tq) + j] > 0.5; }
    fn biasRow(b : i32, i : i32) -> bool { return masksIn[b * (uniforms.tk + uniforms.tq) + uniforms.tk + i] > 0.5; }
    fn score(b : i32, h : i32, i : i32, j : i32) -> f32 {
      let qo = qOff(b, h, i);
      let ko = kOff(b, h / uniforms.groups, j);
      var s = 0.0;
      for (var c = 0; c < DH; c = c + 1) { s = s + qIn[qo + c] * kIn[ko + c]; }
      s = s * uniforms.scale;
      if (biasRow(b, i)) { s = s + max(biasIn[b * uniforms.tk + j], -1.0e30); }
      return s;
    }${
      grad
        ? `
    fn dOdotV(row : i32, vo : i32) -> f32 {
      var s = 0.0;
      for (var c = 0; c < DVH; c = c + 1) { s = s + dOIn[row * DVH + c] * vIn[vo + c]; }
      return s;
    }`
        : ''
    }`;
}

function program(
  key: string,
  s: Dims,
  variableNames: string[],
  outputShape: number[],
  threads: number,
  body: string,
): Program {
  return {
    outputShape,
    shaderKey: `${key}_${s.d}_${s.dv}`,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(threads / THREADS), 1, 1],
    workgroupSize: [THREADS, 1, 1],
    variableNames,
    uniforms: UNIFORMS,
    getUserCode: () => `${common(s, variableNames.includes('dOIn'))}
    fn main(index : i32) {
      // Never true: a static use of every input, so layout 'auto' keeps all bindings.
      if (index < -1) { result[0] = ${variableNames.map((n) => `${n}[0]`).join(' + ')}; }
      ${body}
    }`,
  };
}

/** At most 7 inputs + the output: WebGPU's default limit is 8 storage buffers per stage. */
const BASE = ['qIn', 'kIn', 'vIn', 'biasIn', 'masksIn'];

/** Row (b,h,i) of the query side, from a flat thread index; returns early past the last row. */
const QUERY_ROW = `
      if (index >= uniforms.nB * uniforms.nH * uniforms.tq) { return; }
      let row = index;
      let i = row % uniforms.tq;
      let h = (row / uniforms.tq) % uniforms.nH;
      let b = row / (uniforms.tq * uniforms.nH);
      let hk = h / uniforms.groups;`;

/** Key row (b,hk,j) from a flat thread index. */
const KEY_ROW = `
      if (index >= uniforms.nB * uniforms.nHkv * uniforms.tk) { return; }
      let j = index % uniforms.tk;
      let hk = (index / uniforms.tk) % uniforms.nHkv;
      let b = index / (uniforms.tk * uniforms.nHkv);
      let first = max(0, j - uniforms.posOffset); // query rows that see key j`;

function forwardProgram(s: Dims): Program {
  return program(
    'atmanrlAttention',
    s,
    BASE,
    [s.b, s.h, s.tq, s.dv],
    s.b * s.h * s.tq,
    `${QUERY_ROW}
      var acc : array<f32, DVH>;
      var m = NEG;
      var l = 0.0;
      for (var j = 0; j < keyEnd(i); j = j + 1) {
        if (!realKey(b, j)) { continue; }
        let sc = score(b, h, i, j);
        let mNew = max(m, sc);
        let corr = exp(m - mNew);
        let p = exp(sc - mNew);
        l = l * corr + p;
        let vo = vOff(b, hk, j);
        for (var c = 0; c < DVH; c = c + 1) { acc[c] = acc[c] * corr + p * vIn[vo + c]; }
        m = mNew;
      }
      let alive = m > DEAD && l > 0.0;
      for (var c = 0; c < DVH; c = c + 1) { result[row * DVH + c] = select(0.0, acc[c] / l, alive); }`,
  );
}

/** [rows,2]: log-sum-exp of the row's scores (+3e38 for a dead row, so p = 0) and Σ dO·O. */
function statsProgram(s: Dims): Program {
  return program(
    'atmanrlAttentionStats',
    s,
    [...BASE, 'oIn', 'dOIn'],
    [s.b * s.h * s.tq, 2],
    s.b * s.h * s.tq,
    `${QUERY_ROW}
      var m = NEG;
      for (var j = 0; j < keyEnd(i); j = j + 1) {
        if (realKey(b, j)) { m = max(m, score(b, h, i, j)); }
      }
      var l = 0.0;
      for (var j = 0; j < keyEnd(i); j = j + 1) {
        if (realKey(b, j)) { l = l + exp(score(b, h, i, j) - m); }
      }
      var dsum = 0.0;
      for (var c = 0; c < DVH; c = c + 1) { dsum = dsum + dOIn[row * DVH + c] * oIn[row * DVH + c]; }
      result[row * 2] = select(3.0e38, m + log(l), m > DEAD && l > 0.0);
      result[row * 2 + 1] = dsum;`,
  );
}

const GRAD_INPUTS = [...BASE, 'dOIn', 'statsIn'];

function dqProgram(s: Dims): Program {
  return program(
    'atmanrlAttentionDq',
    s,
    GRAD_INPUTS,
    [s.b, s.h, s.tq, s.d],
    s.b * s.h * s.tq,
    `${QUERY_ROW}
      let lse = statsIn[row * 2];
      let di = statsIn[row * 2 + 1];
      var acc : array<f32, DH>;
      for (var j = 0; j < keyEnd(i); j = j + 1) {
        if (!realKey(b, j)) { continue; }
        let p = exp(score(b, h, i, j) - lse);
        let ds = p * (dOdotV(row, vOff(b, hk, j)) - di);
        let ko = kOff(b, hk, j);
        for (var c = 0; c < DH; c = c + 1) { acc[c] = acc[c] + ds * kIn[ko + c]; }
      }
      for (var c = 0; c < DH; c = c + 1) { result[row * DH + c] = acc[c] * uniforms.scale; }`,
  );
}

/** dk (what = 'k') or dv (what = 'v') for one key row: a sum over the query rows that see it. */
function dkvProgram(s: Dims, what: 'k' | 'v'): Program {
  const width = what === 'k' ? 'DH' : 'DVH';
  const update =
    what === 'k'
      ? `let ds = p * (dOdotV(row, vo) - statsIn[row * 2 + 1]);
          let qo = qOff(b, h, i);
          for (var c = 0; c < DH; c = c + 1) { acc[c] = acc[c] + ds * qIn[qo + c]; }`
      : 'for (var c = 0; c < DVH; c = c + 1) { acc[c] = acc[c] + p * dOIn[row * DVH + c]; }';
  return program(
    what === 'k' ? 'atmanrlAttentionDk' : 'atmanrlAttentionDv',
    s,
    GRAD_INPUTS,
    [s.b, s.hkv, s.tk, what === 'k' ? s.d : s.dv],
    s.b * s.hkv * s.tk,
    `${KEY_ROW}
      var acc : array<f32, ${width}>;
      let vo = vOff(b, hk, j);
      if (realKey(b, j)) {
        for (var g = 0; g < uniforms.groups; g = g + 1) {
          let h = hk * uniforms.groups + g;
          for (var i = first; i < uniforms.tq; i = i + 1) {
            let row = (b * uniforms.nH + h) * uniforms.tq + i;
            let p = exp(score(b, h, i, j) - statsIn[row * 2]);
            ${update}
          }
        }
      }
      for (var c = 0; c < ${width}; c = c + 1) {
        result[index * ${width} + c] = acc[c]${what === 'k' ? ' * uniforms.scale' : ''};
      }`,
  );
}

/** dbias[b,j] = Σ over heads and the selected rows that see key j of dL/dscore. */
function dbiasProgram(s: Dims): Program {
  return program(
    'atmanrlAttentionDbias',
    s,
    GRAD_INPUTS,
    [s.b, s.tk],
    s.b * s.tk,
    `if (index >= uniforms.nB * uniforms.tk) { return; }
      let j = index % uniforms.tk;
      let b = index / uniforms.tk;
      let first = max(0, j - uniforms.posOffset);
      var acc = 0.0;
      if (realKey(b, j)) {
        for (var h = 0; h < uniforms.nH; h = h + 1) {
          let vo = vOff(b, h / uniforms.groups, j);
          for (var i = first; i < uniforms.tq; i = i + 1) {
            if (!biasRow(b, i)) { continue; }
            let row = (b * uniforms.nH + h) * uniforms.tq + i;
            let p = exp(score(b, h, i, j) - statsIn[row * 2]);
            acc = acc + p * (dOdotV(row, vo) - statsIn[row * 2 + 1]);
          }
        }
      }
      result[index] = acc;`,
  );
}

export const K = { forward: 'AtmanrlAttention', grad: 'AtmanrlAttentionGrad' } as const;

function dimsOf(q: TensorInfoLike, k: TensorInfoLike, v: TensorInfoLike, offset: number): Dims {
  const [b, h, tq, d] = q.shape as [number, number, number, number];
  const [, hkv, tk] = k.shape as [number, number, number, number];
  return { b, h, hkv, tq, tk, d, dv: v.shape[3]!, offset };
}

type KernelArgs = {
  inputs: Record<string, TensorInfoLike>;
  backend: unknown;
  attrs?: Record<string, unknown>;
};

/** Registers `kernelFunc` as tfjs kernel `kernelName` for `webgpu` only, once. */
function reg(kernelName: string, kernelFunc: (a: KernelArgs) => unknown): void {
  if (tf.getKernel(kernelName, 'webgpu') !== undefined) return;
  tf.registerKernel({
    kernelName,
    backendName: 'webgpu',
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
  });
}

let registered = false;
/** Registers the forward and backward kernels for `webgpu` (idempotent; no other backend). */
export function registerAttentionKernels(): void {
  if (registered) return;
  registered = true;
  reg(K.forward, ({ inputs, backend, attrs }) => {
    const { q, k, v, bias, masks } = inputs as Record<string, TensorInfoLike>;
    const s = dimsOf(q!, k!, v!, attrs!['offset'] as number);
    return (backend as WebgpuBackendLike).runWebGPUProgram(
      forwardProgram(s),
      [q!, k!, v!, bias!, masks!],
      'float32',
      uniformsOf(s),
    );
  });
  reg(K.grad, ({ inputs, backend, attrs }) => {
    const { q, k, v, bias, masks, o, dy } = inputs as Record<string, TensorInfoLike>;
    const s = dimsOf(q!, k!, v!, attrs!['offset'] as number);
    const be = backend as WebgpuBackendLike;
    const u = uniformsOf(s);
    const base = [q!, k!, v!, bias!, masks!];
    const stats = be.runWebGPUProgram(statsProgram(s), [...base, o!, dy!], 'float32', u); // [rows,2]
    const g = [...base, dy!, stats];
    const out = [
      be.runWebGPUProgram(dqProgram(s), g, 'float32', u),
      be.runWebGPUProgram(dkvProgram(s, 'k'), g, 'float32', u),
      be.runWebGPUProgram(dkvProgram(s, 'v'), g, 'float32', u),
    ];
    if (attrs!['withBias'] === true)
      out.push(be.runWebGPUProgram(dbiasProgram(s), g, 'float32', u));
    be.disposeData(stats.dataId);
    return out;
  });
}
