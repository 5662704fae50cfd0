// @atmanrl/runs/node: the Node-only half (writer, file-system source, atomic primitives),
// plus everything from the browser-safe entry.
export * from '../index.js';
export {
  appendJsonLine,
  type BeforeRenameHook,
  fsyncDir,
  writeFileAtomic,
  writeJsonAtomic,
} from './atomic.js';
export { readEvalSamples, writeEvalSamples } from './eval-samples.js';
export { fsRunSource } from './fs-source.js';
export {
  acquireRunLock,
  isProcessAlive,
  isWriterAlive,
  type LockLiveness,
  type RunLock,
  readWriterLock,
} from './lock.js';
export { thisMachine } from './machine.js';
export { resolveInside } from './paths.js';
export { type CreateRunOptions, type OpenRunOptions, RunWriter } from './writer.js';
