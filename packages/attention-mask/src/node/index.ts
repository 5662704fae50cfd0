// @atmanrl/attention-mask/node: the Node-only half (backend selection and set-up: native
// tfjs-node addons, Dawn webgpu with its out-of-process probe, wasm binaries from disk), plus
// everything from the browser-safe entry.
export * from '../index.js';
export type { BackendInfo, BackendName, InitBackendOptions } from './backend.js';
export { initBackend } from './backend.js';
export { probeWebgpu } from './webgpu.js';
