// @atmanrl/model/node: the Node-only half (Hugging Face folders: config.json, safetensors files
// and shards read one tensor at a time, tokenizer folders, saving), plus everything from the
// browser-safe entry.
export * from '../index.js';
export {
  type LoadModelOptions,
  loadModel,
  type SaveModelOptions,
  saveModel,
} from './checkpoint.js';
export { loadLlamaConfig } from './config.js';
export {
  type CachedSnapshot,
  findCachedSnapshot,
  type HubModelId,
  type HubSettings,
  hubSettings,
  parseHubModelId,
} from './hub-cache.js';
export type { DownloadProgress } from './hub-download.js';
export { HubError, type HubErrorCode } from './hub-errors.js';
export {
  type ModelSource,
  type ResolvedModel,
  type ResolvePretrainedOptions,
  resolvePretrained,
} from './resolve-model.js';
export {
  SafetensorsCheckpoint,
  SafetensorsFile,
  type TensorToWrite,
  writeSafetensors,
} from './safetensors-files.js';
export { loadTokenizer } from './tokenizer.js';
