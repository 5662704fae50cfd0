// Where the policy comes from: the embedded default model shipped with the CLI, a local Hugging
// Face Llama folder, or a Hub id (`meta-llama/Llama-3.2-1B-Instruct[@revision]`) resolved as
// `from_pretrained` does (the Hugging Face cache, else a download into it: @atmanrl/model's
// resolvePretrained). Missing folders/files become one-paragraph user errors.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type DownloadProgress,
  findCachedSnapshot,
  HubError,
  type LlamaModel,
  loadModel,
  type ModelSource,
  parseHubModelId,
  resolvePretrained,
} from '@atmanrl/model/node';
import type { CliIO } from '../cli-core.js';
import { UsageError } from '../errors.js';
import { assertFiniteModel } from './finite.js';
import { bar, formatSeconds } from './progress.js';

export type { ModelSource };

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

/** Checks a folder looks like a Hugging Face Llama checkpoint; returns it. */
function checkModelDir(model: string, dir: string): string {
  if (!existsSync(dir)) {
    throw new UsageError(
      'MODEL_NOT_FOUND',
      model === 'embedded'
        ? `the embedded default model is missing at ${dir}. Rebuild it with \`atmanrl sft --out ${dir}\` (see apps/trainer/README.md) or pass --model <folder>.`
        : `--model ${model}: the folder does not exist. Pass a local Hugging Face Llama folder (config.json, model.safetensors or shards, tokenizer.json) or a Hugging Face model id such as meta-llama/Llama-3.2-1B-Instruct (found in the Hugging Face cache or downloaded into it).`,
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

/** True when `--model` is to be looked up on the Hub: not an existing path, but `org/name[@rev]`. */
function isHubId(model: string): boolean {
  return model !== 'embedded' && !existsSync(model) && parseHubModelId(model) !== null;
}

/**
 * Resolves `--model` to a folder without the network: 'embedded', a local folder, or a Hub id
 * whose revision is complete in the Hugging Face cache (e.g. once {@link resolveModel} or
 * {@link loadPolicy} downloaded it). A Hub id not cached yet is a `MODEL_NOT_FOUND` user error.
 */
export function resolveModelDir(model: string, options: { revision?: string | null } = {}): string {
  if (!isHubId(model)) {
    return checkModelDir(model, model === 'embedded' ? embeddedModelDir() : resolve(model));
  }
  const id = parseHubModelId(model)!;
  const revision = options.revision ?? id.revision ?? 'main';
  const cached = findCachedSnapshot(id.repo, { revision });
  if (cached === null || cached.missing.length > 0) {
    throw new UsageError(
      'MODEL_NOT_FOUND',
      `--model ${model}: ${id.repo}@${revision} is not (completely) in the Hugging Face cache yet; it is downloaded when a command loads it (train, eval, saliency, sft).`,
    );
  }
  return checkModelDir(model, cached.dir);
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];
/** `3.1 MB` (powers of 1000, as the Hub shows sizes). */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${UNITS[u]}`;
}

/**
 * Progress of a model download: on a TTY a bar with bytes, rate and ETA (`io.status`); otherwise
 * plain lines on stderr: one when a file starts, every 10% of files over 100 MB, one when done.
 */
export function downloadReporter(
  io: CliIO,
  label: string,
  now: () => number = () => performance.now(),
): (p: DownloadProgress) => void {
  let started = 0;
  let lastDecile = 0;
  let lastDraw = Number.NEGATIVE_INFINITY;
  return (p) => {
    const name = `${p.file} (${p.fileIndex + 1}/${p.fileCount})`;
    if (p.phase === 'start') {
      started = now();
      lastDecile = Math.floor((10 * p.bytes) / Math.max(1, p.total));
      if (!io.status || !io.isTTY) {
        const resumed = p.resumedFrom > 0 ? `, resuming at ${formatBytes(p.resumedFrom)}` : '';
        io.err(`downloading ${label}: ${name}, ${formatBytes(p.total)}${resumed}`);
      }
      return;
    }
    const seconds = Math.max(1e-3, (now() - started) / 1000);
    const rate = (p.bytes - p.resumedFrom) / seconds;
    if (p.phase === 'done') {
      io.status?.('');
      if (!io.status || !io.isTTY) {
        io.err(
          `downloaded ${name}: ${formatBytes(p.total)} in ${formatSeconds(seconds)} (${formatBytes(rate)}/s)`,
        );
      }
      return;
    }
    if (io.status && io.isTTY) {
      // Chunks arrive every few kB: redraw the bar at most 10 times a second.
      if (now() - lastDraw < 100) return;
      lastDraw = now();
      const eta = rate > 0 ? formatSeconds((p.total - p.bytes) / rate) : '?';
      io.status(
        `downloading ${name} ${bar(p.bytes, p.total)} ${formatBytes(p.bytes)}/${formatBytes(p.total)} ${formatBytes(rate)}/s ETA ${eta}`,
      );
      return;
    }
    const decile = Math.floor((10 * p.bytes) / Math.max(1, p.total));
    if (p.total >= 100e6 && decile > lastDecile && p.bytes < p.total) {
      lastDecile = decile;
      io.err(
        `downloading ${name}: ${formatBytes(p.bytes)} of ${formatBytes(p.total)} (${formatBytes(rate)}/s)`,
      );
    }
  };
}

/** CLI output for library callers that pass no io: stderr, a status line on a TTY. */
function stderrIO(): CliIO {
  const tty = Boolean(process.stderr.isTTY);
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${line}\n`),
    isTTY: tty,
    ...(tty ? { status: (text: string) => process.stderr.write(`\r\x1b[2K${text}`) } : {}),
  };
}

const HUB_TO_USAGE = {
  BAD_MODEL_ID: 'MODEL_NOT_FOUND',
  BAD_TOKEN: 'BAD_CONFIG',
  NOT_FOUND: 'MODEL_NOT_FOUND',
  GATED: 'MODEL_NOT_FOUND',
  NOT_CACHED: 'MODEL_NOT_FOUND',
  NO_WEIGHTS: 'BAD_MODEL',
  DOWNLOAD_FAILED: 'IO_ERROR',
  HASH_MISMATCH: 'IO_ERROR',
} as const;

/** A resolved `--model`: its folder, and the Hub record for run.json (null for a local folder). */
export interface ResolvedModelSource {
  dir: string;
  source: ModelSource | null;
}

/**
 * Resolves `--model` as `from_pretrained` does: 'embedded', an existing local folder, else a
 * Hugging Face id `org/name[@revision]` from the cache (`HF_HUB_CACHE`, `HF_HOME/hub`,
 * `~/.cache/huggingface/hub`) or downloaded into it (honouring `HF_TOKEN`, `HF_HUB_OFFLINE`,
 * `HF_ENDPOINT`), with progress on `io` (stderr when omitted). Hub errors become user errors
 * (exit 1) whose message says how to fix them; the `HubError` is the cause.
 */
export async function resolveModel(
  model: string,
  options: { revision?: string | null; io?: CliIO } = {},
): Promise<ResolvedModelSource> {
  if (!isHubId(model)) return { dir: resolveModelDir(model), source: null };
  const io = options.io ?? stderrIO();
  const id = parseHubModelId(model)!;
  try {
    const r = await resolvePretrained(model, {
      ...(options.revision == null ? {} : { revision: options.revision }),
      onProgress: downloadReporter(io, id.repo),
      logger: {
        info: (m) => io.err(`atmanrl: ${m}`),
        warn: (m) => io.err(`atmanrl: warning: ${m}`),
      },
    });
    if (r.downloaded.length > 0) {
      io.err(`atmanrl: ${id.repo} at commit ${r.source!.revision} is in ${r.dir}`);
    }
    return { dir: checkModelDir(model, r.dir), source: r.source };
  } catch (e) {
    if (e instanceof HubError) {
      throw new UsageError(HUB_TO_USAGE[e.code], `--model ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/**
 * The `--model` argument for an experiment's jobs: a path relative to the experiment file, or
 * a Hub id passed on as it is when no such folder exists.
 */
export function experimentModelArg(base: string, model: string): string {
  const local = resolve(base, model);
  return existsSync(local) || parseHubModelId(model) === null ? local : model;
}

/**
 * True when the folder's tokenizer_config.json has a chat template. A tokenizer_config.json that
 * is not a regular file (a FIFO would block the read forever) is a `BAD_MODEL` user error.
 */
export function hasChatTemplate(dir: string): boolean {
  const p = join(dir, 'tokenizer_config.json');
  if (!existsSync(p)) return false;
  const st = statSync(p);
  if (!st.isFile()) {
    const kind = st.isFIFO()
      ? 'a FIFO (named pipe)'
      : st.isDirectory()
        ? 'a folder'
        : 'a special file';
    throw new UsageError(
      'BAD_MODEL',
      `${p} is ${kind}, not a regular file: reading it could block forever. A model folder holds regular files; replace it with the real file.`,
    );
  }
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
 * Loads the policy (trainable) from `--model` (resolved by {@link resolveModel}: a folder, or a
 * Hub id from the cache or downloaded), checking the chat template when the task needs one
 * and that every weight is finite (`NON_FINITE` user error naming the tensors otherwise).
 */
export async function loadPolicy(
  model: string,
  options: {
    needsChatTemplate: boolean;
    trainable?: boolean;
    /** `--revision` of a Hub id (branch, tag or commit hash); default `main`. */
    revision?: string | null;
    /** Where download progress goes (stderr when omitted). */
    io?: CliIO;
  },
): Promise<{ model: LlamaModel; dir: string; source: ModelSource | null }> {
  const { dir, source } = await resolveModel(model, {
    ...(options.revision === undefined ? {} : { revision: options.revision }),
    ...(options.io === undefined ? {} : { io: options.io }),
  });
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
  return { model: loaded, dir, source };
}
