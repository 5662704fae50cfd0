// @atmanrl/attention-mask: public face (named re-exports only), browser-safe: pure tensor code,
// no fs, module, path or child_process. Backend set-up for Node (tensorflow, Dawn webgpu, wasm
// files from disk, cpu) is in `@atmanrl/attention-mask/node` (src/node/index.ts); in a browser,
// import a tfjs backend and call `tf.setBackend` yourself.

export type { DispatchCount } from './_internal/webgpu-dispatch.js';
export { countWebgpuDispatches } from './_internal/webgpu-dispatch.js';
export type { GpuAdapterInfo, WebgpuProbe, WebgpuRouteName } from './adapter.js';
export { isSoftwareAdapter } from './adapter.js';
export type { AttentionOptions, QueryRows } from './attention.js';
export { attention } from './attention.js';
export type { AttentionMaskErrorCode } from './errors.js';
export { AttentionMaskError } from './errors.js';
export type { FusedAttentionOptions } from './fused-attention.js';
export { fusedAttention } from './fused-attention.js';
export type { Logger } from './logger.js';
export type { MatMulFormulation } from './matmul.js';
export { forceMatMulFormulation, matMul, matMulFormulation } from './matmul.js';
export type { SuppressionOptions } from './suppress.js';
export { suppressionFactors } from './suppress.js';
