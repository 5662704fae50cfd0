import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countParameters, parseLlamaConfig, toHfConfigJson } from './config.js';
import { ModelError } from './errors.js';
import { loadLlamaConfig } from './node/config.js';

const fixtures = join(import.meta.dirname, '..', 'test', 'fixtures');

describe('config', () => {
  it('parses the real Llama-3.2 configs and counts their parameters', async () => {
    const c1 = await loadLlamaConfig(join(fixtures, 'llama-3.2-1b-instruct.config.json'));
    const c3 = await loadLlamaConfig(join(fixtures, 'llama-3.2-3b-instruct.config.json'));
    expect(countParameters(c1)).toBe(1_235_814_400);
    expect(countParameters(c3)).toBe(3_212_749_824);
    expect(c3.eos_token_id).toEqual([128001, 128008, 128009]);
    expect(c3.head_dim).toBe(128);
    expect(c3.num_key_value_heads).toBe(8);
    expect(c3.rope_scaling).toEqual({
      rope_type: 'llama3',
      factor: 32,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 8192,
    });
    expect(c3.tie_word_embeddings).toBe(true);
  });

  it('fills Hugging Face defaults and round-trips through toHfConfigJson', () => {
    const c = parseLlamaConfig({
      vocab_size: 10,
      hidden_size: 8,
      intermediate_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      eos_token_id: 3,
    });
    expect(c.num_key_value_heads).toBe(2);
    expect(c.head_dim).toBe(4);
    expect(c.eos_token_id).toEqual([3]);
    expect(c.rope_scaling).toBeNull();
    expect(c.tie_word_embeddings).toBe(false);
    const back = toHfConfigJson(c);
    expect(back['eos_token_id']).toBe(3);
    expect(parseLlamaConfig(back)).toEqual({ ...c, torch_dtype: 'float32' });
  });

  it('names the file and key of a bad config', async () => {
    const raw = JSON.parse(
      await readFile(join(fixtures, 'llama-3.2-1b-instruct.config.json'), 'utf8'),
    );
    const bad = (patch: Record<string, unknown>) => () =>
      parseLlamaConfig({ ...raw, ...patch }, 'my/config.json');
    expect(bad({ hidden_size: -1 })).toThrow(/my\/config\.json: key "hidden_size" is -1/);
    expect(bad({ num_key_value_heads: 5 })).toThrow(/"num_key_value_heads" \(5\) must divide/);
    expect(bad({ rope_scaling: { rope_type: 'yarn', factor: 2 } })).toThrow(
      /rope_scaling\.rope_type/,
    );
    expect(bad({ eos_token_id: [1, 'x'] })).toThrow(/eos_token_id\[1\]/);
    expect(bad({ bos_token_id: 999999 })).toThrow(/outside the vocabulary/);
    expect(bad({ architectures: ['GPT2LMHeadModel'] })).toThrow(/architectures/);
    expect(bad({ intermediate_size: undefined })).toThrow(/"intermediate_size" is missing/);
    try {
      bad({ mlp_bias: true })();
    } catch (e) {
      expect(e).toBeInstanceOf(ModelError);
      expect((e as ModelError).code).toBe('BAD_CONFIG');
    }
  });

  it('reports unreadable and non-JSON files', async () => {
    await expect(loadLlamaConfig('/nonexistent/config.json')).rejects.toMatchObject({ code: 'IO' });
    await expect(loadLlamaConfig(join(fixtures, '..', 'helpers.ts'))).rejects.toThrow(
      /helpers\.ts: not valid JSON/,
    );
  });
});
