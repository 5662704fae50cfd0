// The Llama model configuration: parse and validate a Hugging Face `config.json` (LlamaForCausalLM),
// count parameters, write it back. Field names follow Hugging Face so users carry their knowledge over.
import { ModelError } from './errors.js';

/** Llama 3 RoPE frequency scaling (`rope_scaling` with `rope_type: "llama3"`). */
export interface Llama3RopeScaling {
  rope_type: 'llama3';
  factor: number;
  low_freq_factor: number;
  high_freq_factor: number;
  original_max_position_embeddings: number;
}

/** A validated LlamaForCausalLM configuration (Hugging Face field names, all defaults filled in). */
export interface LlamaConfig {
  architectures: string[];
  model_type: 'llama';
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  rms_norm_eps: number;
  rope_theta: number;
  rope_scaling: Llama3RopeScaling | null;
  tie_word_embeddings: boolean;
  bos_token_id?: number;
  /** Always a list here (Hugging Face allows a single number or a list). */
  eos_token_id: number[];
  pad_token_id?: number;
  max_position_embeddings: number;
  initializer_range: number;
  hidden_act: 'silu';
  torch_dtype?: string;
}

/**
 * Input for {@link parseLlamaConfig} / `createRandomModel`: the sizes are required, everything else
 * defaults as in Hugging Face's `LlamaConfig` (except `rms_norm_eps` = 1e-5 as in Llama 3).
 */
export type LlamaConfigInput = Pick<
  LlamaConfig,
  'vocab_size' | 'hidden_size' | 'intermediate_size' | 'num_hidden_layers' | 'num_attention_heads'
> &
  Partial<Omit<LlamaConfig, 'eos_token_id'>> & { eos_token_id?: number | number[] };

type Json = Record<string, unknown>;

function fail(source: string, key: string, what: string): never {
  throw new ModelError('BAD_CONFIG', `${source}: key "${key}" ${what}`);
}

function positiveInt(obj: Json, key: string, source: string, fallback?: number): number {
  const v = obj[key] ?? fallback;
  if (v === undefined) fail(source, key, 'is missing; expected a positive integer');
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    fail(source, key, `is ${JSON.stringify(v)}; expected a positive integer`);
  }
  return v;
}

function positiveNumber(obj: Json, key: string, source: string, fallback: number): number {
  const v = obj[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    fail(source, key, `is ${JSON.stringify(v)}; expected a positive number`);
  }
  return v;
}

function optionalTokenId(obj: Json, key: string, source: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    fail(source, key, `is ${JSON.stringify(v)}; expected a token id (non-negative integer)`);
  }
  return v;
}

function parseRopeScaling(v: unknown, source: string): Llama3RopeScaling | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) fail(source, 'rope_scaling', 'must be an object');
  const rs = v as Json;
  const type = rs['rope_type'] ?? rs['type'];
  if (type === 'default') return null;
  if (type !== 'llama3') {
    fail(
      source,
      'rope_scaling.rope_type',
      `is ${JSON.stringify(type)}; only "llama3" (or "default") is supported`,
    );
  }
  const src = `${source} rope_scaling`;
  return {
    rope_type: 'llama3',
    factor: positiveNumber(rs, 'factor', src, Number.NaN),
    low_freq_factor: positiveNumber(rs, 'low_freq_factor', src, Number.NaN),
    high_freq_factor: positiveNumber(rs, 'high_freq_factor', src, Number.NaN),
    original_max_position_embeddings: positiveInt(rs, 'original_max_position_embeddings', src),
  };
}

/**
 * Validate a parsed Hugging Face `config.json` (or a {@link LlamaConfigInput}) and fill defaults.
 * @param json the parsed JSON object
 * @param source file name (or description) used in error messages
 * @throws ModelError `BAD_CONFIG` naming the file and key
 */
export function parseLlamaConfig(json: unknown, source = 'config.json'): LlamaConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelError('BAD_CONFIG', `${source}: expected a JSON object`);
  }
  const c = json as Json;
  const archs = c['architectures'] ?? ['LlamaForCausalLM'];
  if (!Array.isArray(archs) || !archs.includes('LlamaForCausalLM')) {
    fail(source, 'architectures', `is ${JSON.stringify(archs)}; expected ["LlamaForCausalLM"]`);
  }
  const modelType = c['model_type'] ?? 'llama';
  if (modelType !== 'llama')
    fail(source, 'model_type', `is ${JSON.stringify(modelType)}; expected "llama"`);
  const act = c['hidden_act'] ?? 'silu';
  if (act !== 'silu')
    fail(source, 'hidden_act', `is ${JSON.stringify(act)}; only "silu" is supported`);
  for (const key of ['attention_bias', 'mlp_bias']) {
    if (c[key] === true) fail(source, key, 'is true; biased projections are not supported');
  }
  const hidden = positiveInt(c, 'hidden_size', source);
  const heads = positiveInt(c, 'num_attention_heads', source);
  const kvHeads = positiveInt(c, 'num_key_value_heads', source, heads);
  if (heads % kvHeads !== 0) {
    fail(source, 'num_key_value_heads', `(${kvHeads}) must divide num_attention_heads (${heads})`);
  }
  if (c['head_dim'] === undefined && hidden % heads !== 0) {
    fail(source, 'head_dim', `is missing and hidden_size (${hidden}) is not divisible by heads`);
  }
  const headDim = positiveInt(c, 'head_dim', source, hidden / heads);
  if (headDim % 2 !== 0) fail(source, 'head_dim', `is ${headDim}; RoPE needs an even head_dim`);
  const eosRaw = c['eos_token_id'];
  const eosList: unknown[] = Array.isArray(eosRaw) ? eosRaw : eosRaw == null ? [] : [eosRaw];
  const eos = eosList.map((v, i) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      const key = Array.isArray(eosRaw) ? `eos_token_id[${i}]` : 'eos_token_id';
      fail(source, key, `is ${JSON.stringify(v)}; expected a token id (non-negative integer)`);
    }
    return v;
  });
  const vocab = positiveInt(c, 'vocab_size', source);
  const tie = c['tie_word_embeddings'] ?? false;
  if (typeof tie !== 'boolean') fail(source, 'tie_word_embeddings', 'must be a boolean');
  const config: LlamaConfig = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: vocab,
    hidden_size: hidden,
    intermediate_size: positiveInt(c, 'intermediate_size', source),
    num_hidden_layers: positiveInt(c, 'num_hidden_layers', source),
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: headDim,
    rms_norm_eps: positiveNumber(c, 'rms_norm_eps', source, 1e-5),
    rope_theta: positiveNumber(c, 'rope_theta', source, 10000),
    rope_scaling: parseRopeScaling(c['rope_scaling'], source),
    tie_word_embeddings: tie,
    eos_token_id: eos,
    max_position_embeddings: positiveInt(c, 'max_position_embeddings', source, 2048),
    initializer_range: positiveNumber(c, 'initializer_range', source, 0.02),
    hidden_act: 'silu',
  };
  const bos = optionalTokenId(c, 'bos_token_id', source);
  if (bos !== undefined) config.bos_token_id = bos;
  const pad = optionalTokenId(c, 'pad_token_id', source);
  if (pad !== undefined) config.pad_token_id = pad;
  if (typeof c['torch_dtype'] === 'string') config.torch_dtype = c['torch_dtype'];
  for (const [key, id] of [
    ['bos_token_id', bos],
    ['pad_token_id', pad],
    ...eos.map((e) => ['eos_token_id', e] as const),
  ] as const) {
    if (id !== undefined && id >= vocab)
      fail(source, key, `(${id}) is outside the vocabulary (vocab_size ${vocab})`);
  }
  return config;
}

/** The config as a Hugging Face `config.json` object (eos as a number when there is exactly one). */
export function toHfConfigJson(config: LlamaConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config, attention_bias: false, mlp_bias: false };
  out['eos_token_id'] =
    config.eos_token_id.length === 1 ? config.eos_token_id[0] : config.eos_token_id;
  out['torch_dtype'] = config.torch_dtype ?? 'float32';
  return out;
}

/** Number of parameters (tied embeddings counted once). Llama-3.2-1B: 1,235,814,400. */
export function countParameters(config: LlamaConfig): number {
  const d = config.hidden_size;
  const qDim = config.num_attention_heads * config.head_dim;
  const kvDim = config.num_key_value_heads * config.head_dim;
  const perLayer = d * qDim + 2 * d * kvDim + qDim * d + 3 * d * config.intermediate_size + 2 * d;
  const embed = config.vocab_size * d;
  return embed + config.num_hidden_layers * perLayer + d + (config.tie_word_embeddings ? 0 : embed);
}
