// @atmanrl/datasets/node: the Node-only half (file loaders for GSM8K and MMLU, the resumable,
// hash-checked downloader), plus everything from the browser-safe entry.
export * from '../index.js';
export {
  type DownloadedFile,
  type DownloadOptions,
  type DownloadResult,
  downloadDataset,
} from './download.js';
export { type LoadGsm8kOptions, loadGsm8k } from './gsm8k.js';
export { type LoadMmluOptions, loadMmlu } from './mmlu.js';
export { loadTask } from './task.js';
