// Hugging Face tokenizer folders from disk (Node); the tokenizer itself (built from JSON objects)
// is in ../tokenizer.ts.
import { join } from 'node:path';
import { ModelError } from '../errors.js';
import { eosTokenIdsOf, HfTokenizer, type HfTokenizerOptions } from '../tokenizer.js';
import { readModelText } from './config.js';

async function readJson(
  path: string,
  required: boolean,
): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readModelText(path);
  } catch (cause) {
    if (cause instanceof ModelError) throw cause; // not a regular file, even if optional
    if (!required) return undefined;
    throw new ModelError('IO', `cannot read ${path} (${(cause as Error).message})`, { cause });
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw new ModelError('BAD_TOKENIZER', `${path}: not valid JSON`, { cause });
  }
}

/**
 * Load `tokenizer.json` + `tokenizer_config.json` from a Hugging Face folder. EOS ids from
 * `generation_config.json` / `config.json` (when present) are added to `eosTokenIds`.
 */
export async function loadTokenizer(
  dir: string,
  options: HfTokenizerOptions = {},
): Promise<HfTokenizer> {
  const tokenizerJson = await readJson(join(dir, 'tokenizer.json'), true);
  const tokenizerConfig = (await readJson(join(dir, 'tokenizer_config.json'), false)) ?? {};
  const eos: number[] = [...(options.eosTokenIds ?? [])];
  for (const file of ['generation_config.json', 'config.json']) {
    const j = await readJson(join(dir, file), false).catch(() => undefined);
    eos.push(...eosTokenIdsOf(j));
  }
  return new HfTokenizer(tokenizerJson, tokenizerConfig, { ...options, eosTokenIds: eos });
}
