// @atmanrl/model: public face (named re-exports only), browser-safe: no fs or path. Models from
// memory (random weights, safetensors bytes + a config object), tokenizers from JSON objects.
// Loading and saving Hugging Face folders is in `@atmanrl/model/node` (src/node/index.ts).
export type { AdamWConfig, AdamWState } from './adamw.js';
export { adamWStep, initAdamW } from './adamw.js';
export type { LoadModelFromSafetensorsOptions, Logger } from './checkpoint.js';
export { createRandomModel, loadModelFromSafetensors } from './checkpoint.js';
export type { Llama3RopeScaling, LlamaConfig, LlamaConfigInput } from './config.js';
export { countParameters, parseLlamaConfig, toHfConfigJson } from './config.js';
export { deviceBindingLimitBytes, MAX_BINDING_BYTES_ENV } from './device-limits.js';
export type { ModelErrorCode } from './errors.js';
export { ModelError } from './errors.js';
export type { HeadLogProbs, HeadLogProbsOptions } from './head-log-probs.js';
export { defaultChunkRows, HEAD_CHUNK_BYTES, headLogProbs } from './head-log-probs.js';
export type { KVCache } from './kv-cache.js';
export { LlamaKVCache } from './kv-cache.js';
export { LlamaModel } from './llama-model.js';
export type { MaskFitRowShape, TrainMemoryOptions } from './memory.js';
export {
  headChunkBytes,
  maskFitRowBytes,
  modelStateBytes,
  trainTokenBytes,
  WASM_HEAP_LIMIT_BYTES,
} from './memory.js';
export type { PeakMemory } from './peak-memory.js';
export { measurePeakMemory } from './peak-memory.js';
export type { HfLlamaConfig, LlamaReduction } from './reduced-config.js';
export { reduceLlamaConfig } from './reduced-config.js';
export type { Rng, RngState } from './rng.js';
export { createRng } from './rng.js';
export { applyRope, ropeInverseFrequencies, ropeTables } from './rope.js';
export type {
  HostTensor,
  SafetensorsDtype,
  SafetensorsEntry,
  SafetensorsHeader,
} from './safetensors.js';
export {
  decodeSafetensors,
  encodeSafetensors,
  MAX_HEADER_BYTES,
  parseSafetensorsHeader,
} from './safetensors.js';
export type { SamplingOptions } from './sampling.js';
export { sampleToken } from './sampling.js';
export {
  createTinyTokenizer,
  createTinyTokenizerFiles,
  TINY_CHAT_TEMPLATE,
  TINY_SPECIAL_TOKENS,
  TINY_VOCAB_SIZE,
} from './tiny-tokenizer.js';
export type { PackRow } from './token-budget.js';
export { packByTokens, paddedTokens } from './token-budget.js';
export type { ChatMessage, HfTokenizerOptions, Tokenizer } from './tokenizer.js';
export { charSpanToTokenRange, eosTokenIdsOf, HfTokenizer } from './tokenizer.js';
export type { CausalLM, ForwardOptions, GenerateOptions, GenerationResult } from './types.js';
export { VocabMatrix } from './vocab-matrix.js';
export type { LlamaLayerWeights, LlamaWeights, WeightSpec } from './weights.js';
export { buildWeights, memoryShape, weightSpecs } from './weights.js';
