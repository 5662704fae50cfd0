// @atmanrl/runs/node: the Node-only half (writer, file-system source, atomic primitives),
// plus everything from the browser-safe entry.
export * from '../index.js';
export {
  appendJsonLine,
  type BeforeRenameHook,
  writeFileAtomic,
  writeJsonAtomic,
} from './atomic.js';
export { fsRunSource } from './fs-source.js';
export { resolveInside } from './paths.js';
export { type CreateRunOptions, RunWriter } from './writer.js';
