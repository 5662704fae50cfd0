// Hugging Face `config.json` from disk (Node); parsing and validation are in ../config.ts.
import { readFile } from 'node:fs/promises';
import { type LlamaConfig, parseLlamaConfig } from '../config.js';
import { ModelError } from '../errors.js';

/**
 * Read and validate a Hugging Face `config.json`.
 * @throws ModelError `BAD_CONFIG` (naming the file and key) or `IO`
 */
export async function loadLlamaConfig(path: string): Promise<LlamaConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ModelError('IO', `cannot read model config ${path}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ModelError('BAD_CONFIG', `${path}: not valid JSON (${String(cause)})`, { cause });
  }
  return parseLlamaConfig(json, path);
}
