// @atmanrl/attention-mask: public face (named re-exports only).

export type { AttentionOptions, QueryRows } from './attention.js';
export { attention } from './attention.js';
export type { BackendInfo, BackendName, InitBackendOptions } from './backend.js';
export { initBackend } from './backend.js';
export type { AttentionMaskErrorCode } from './errors.js';
export { AttentionMaskError } from './errors.js';
export type { Logger } from './logger.js';
export { matMul } from './matmul.js';
export type { SuppressionOptions } from './suppress.js';
export { suppressionFactors } from './suppress.js';
export type { GpuAdapterInfo, WebgpuProbe } from './webgpu.js';
export { isSoftwareAdapter, probeWebgpu } from './webgpu.js';
