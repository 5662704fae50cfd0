// Test helpers: a tiny model folder in the Hugging Face layout, captured CLI output, run folders.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@atmanrl/attention-mask/node';
import {
  createRandomModel,
  createTinyTokenizer,
  saveModel,
  TINY_VOCAB_SIZE,
} from '@atmanrl/model/node';
import type { CliIO } from '../src/cli-core.js';

export function tempDir(prefix = 'trainer-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Saves a tiny random Llama (byte tokenizer) and returns its folder. */
export async function tinyModelDir(seed = 0): Promise<string> {
  await initBackend({ prefer: 'cpu' });
  const tokenizer = createTinyTokenizer();
  const model = createRandomModel(
    {
      vocab_size: TINY_VOCAB_SIZE,
      hidden_size: 16,
      intermediate_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      max_position_embeddings: 128,
      tie_word_embeddings: true,
      bos_token_id: tokenizer.bosTokenId,
      eos_token_id: tokenizer.eosTokenIds,
    },
    seed,
    { tokenizer },
  );
  const dir = tempDir('tiny-model-');
  await saveModel(model, dir);
  model.dispose();
  return dir;
}

/** Captures what a command prints. */
export function captureIO(): { io: CliIO; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false }, out, err };
}

/** metrics.jsonl of a run without wall-clock fields. */
export function deterministicMetrics(runDir: string): Record<string, number | null>[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const m = (JSON.parse(l) as { metrics: Record<string, number | null> }).metrics;
      const out: Record<string, number | null> = {};
      for (const [k, v] of Object.entries(m)) {
        if (k.startsWith('time/') || k === 'step_time' || k === 'tokens_per_second') continue;
        out[k] = v;
      }
      return out;
    });
}

/** Flags of a tiny but complete AtManRL training run on the cpu backend. */
export function tinyTrainFlags(modelDir: string, runsDir: string): string[] {
  return [
    '--model',
    modelDir,
    '--runs-dir',
    runsDir,
    '--backend',
    'cpu',
    '--prompts-per-step',
    '2',
    '--num-generations',
    '2',
    '--max-completion-length',
    '6',
    '--saliency-steps',
    '3',
    '--learning-rate',
    '0.01',
    '--num-iterations',
    '2',
    '--seed',
    '3',
  ];
}
