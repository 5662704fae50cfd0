// Where the policy comes from: the embedded default model shipped with the CLI, or any local
// Hugging Face Llama folder. Missing folders/files become one-paragraph user errors.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LlamaModel, loadModel } from '@atmanrl/model/node';
import { UsageError } from '../errors.js';
import { assertFiniteModel } from './finite.js';

/** Folder of the embedded default model (`assets/default-model` in this package). */
export function embeddedModelDir(): string {
  // dist/cli.js and src/*.ts both sit one level below the package root.
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    resolve(here, '..', 'assets', 'default-model'),
    resolve(here, '..', '..', 'assets', 'default-model'),
  ];
  return candidates.find((c) => existsSync(join(c, 'config.json'))) ?? candidates[0]!;
}

/** Resolves `--model` to a folder and checks it looks like a Hugging Face Llama checkpoint. */
export function resolveModelDir(model: string): string {
  const dir = model === 'embedded' ? embeddedModelDir() : resolve(model);
  if (!existsSync(dir)) {
    throw new UsageError(
      'MODEL_NOT_FOUND',
      model === 'embedded'
        ? `the embedded default model is missing at ${dir}. Rebuild it with \`atmanrl sft --out ${dir}\` (see apps/trainer/README.md) or pass --model <folder>.`
        : `--model ${model}: the folder does not exist. Pass a local Hugging Face Llama folder (config.json, model.safetensors or shards, tokenizer.json), e.g. a download of Llama-3.2-3B-Instruct; weights are never downloaded at run time.`,
    );
  }
  for (const f of ['config.json', 'tokenizer.json']) {
    if (!existsSync(join(dir, f))) {
      throw new UsageError(
        'MODEL_NOT_FOUND',
        `--model ${model}: ${join(dir, f)} is missing. A model folder needs config.json, model.safetensors (or model.safetensors.index.json + shards) and tokenizer.json + tokenizer_config.json.`,
      );
    }
  }
  if (
    !existsSync(join(dir, 'model.safetensors')) &&
    !existsSync(join(dir, 'model.safetensors.index.json'))
  ) {
    throw new UsageError(
      'MODEL_NOT_FOUND',
      `--model ${model}: no model.safetensors or model.safetensors.index.json in ${dir}. Only safetensors checkpoints are supported (convert .bin files with the Hugging Face library first).`,
    );
  }
  return dir;
}

/** True when the folder's tokenizer_config.json has a chat template. */
export function hasChatTemplate(dir: string): boolean {
  const p = join(dir, 'tokenizer_config.json');
  if (!existsSync(p)) return false;
  let cfg: { chat_template?: unknown } | null;
  try {
    cfg = JSON.parse(readFileSync(p, 'utf8')) as { chat_template?: unknown } | null;
  } catch (e) {
    throw new UsageError(
      'BAD_MODEL',
      `${p} is not valid JSON (${(e as Error).message}). Fix the file or re-export the model.`,
    );
  }
  return typeof cfg?.chat_template === 'string' || Array.isArray(cfg?.chat_template);
}

/**
 * Model files are the user's input: a `ModelError`, or a parse error (`SyntaxError`, `RangeError`)
 * from reading them, becomes a `BAD_MODEL` user error naming `--model`; anything else is internal.
 */
function asModelInputError(e: unknown, model: string): unknown {
  if (e instanceof UsageError) return e;
  const name = (e as { name?: unknown } | null)?.name;
  if (name === 'ModelError' || e instanceof SyntaxError || e instanceof RangeError) {
    return new UsageError('BAD_MODEL', `--model ${model}: ${(e as Error).message}`, { cause: e });
  }
  return e;
}

/**
 * Loads the policy (trainable) from `--model`, checking the chat template when the task needs one
 * and that every weight is finite (`NON_FINITE` user error naming the tensors otherwise).
 */
export async function loadPolicy(
  model: string,
  options: { needsChatTemplate: boolean; trainable?: boolean },
): Promise<{ model: LlamaModel; dir: string }> {
  const dir = resolveModelDir(model);
  if (options.needsChatTemplate && !hasChatTemplate(dir)) {
    throw new UsageError(
      'NO_CHAT_TEMPLATE',
      `--model ${model}: tokenizer_config.json has no chat_template, but --dataset gsm8k/mmlu prompts are chat messages. Use an instruct model (e.g. Llama-3.2-3B-Instruct) or add a chat_template to tokenizer_config.json.`,
    );
  }
  let loaded: LlamaModel;
  try {
    loaded = await loadModel(dir, { trainable: options.trainable ?? true });
  } catch (e) {
    throw asModelInputError(e, model);
  }
  try {
    if (loaded.tokenizer === undefined) {
      throw new UsageError(
        'MODEL_NOT_FOUND',
        `--model ${model}: no tokenizer could be loaded from ${dir}.`,
      );
    }
    // NaN/Inf weights are refused here, naming the tensor, instead of failing steps later.
    await assertFiniteModel(loaded, model === dir ? dir : `--model ${model} (${dir})`);
  } catch (e) {
    loaded.dispose();
    throw e;
  }
  return { model: loaded, dir };
}
