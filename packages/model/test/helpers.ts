// Shared test helpers: backend set-up and a tiny config.
import { initBackend, probeWebgpu } from '@atmanrl/attention-mask/node';
import { webgpuSuiteGate } from '@atmanrl/tooling/webgpu-suite';
import type { LlamaConfigInput } from '../src/config.js';
import { TINY_VOCAB_SIZE } from '../src/tiny-tokenizer.js';

/** Initialise the cpu backend (the reference backend in tests) unless ATMANRL_BACKEND says otherwise. */
export async function setUpBackend(): Promise<void> {
  await initBackend({
    prefer: (process.env['ATMANRL_BACKEND'] as 'cpu' | 'wasm' | undefined) ?? 'cpu',
  });
}

/**
 * Whether a webgpu suite runs: the adapter probe, whether CI requires webgpu (`CI=true` and
 * `ATMANRL_REQUIRE_WEBGPU=1`: then a missing adapter fails instead of skipping), and the label
 * that names the adapter or the reason for the skip; `conformant` is false on an OpenGL ES
 * compatibility adapter (see @atmanrl/tooling/webgpu-suite).
 */
export async function webgpuSuite(): Promise<{
  probe: Awaited<ReturnType<typeof probeWebgpu>>;
  run: boolean;
  label: string;
  conformant: boolean;
}> {
  const probe = await probeWebgpu();
  return { probe, ...webgpuSuiteGate(probe) };
}

/** 2 layers, GQA (4 heads, 2 kv heads), llama3 rope scaling, tiny-tokenizer vocabulary. */
export const TINY_CONFIG: LlamaConfigInput = {
  vocab_size: TINY_VOCAB_SIZE,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rope_theta: 10000,
  rope_scaling: {
    rope_type: 'llama3',
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 16,
  },
  tie_word_embeddings: true,
  bos_token_id: 256,
  eos_token_id: [260, 257],
  pad_token_id: 261,
  initializer_range: 0.2,
};
