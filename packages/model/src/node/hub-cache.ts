// The Hugging Face cache as Python's `huggingface_hub` lays it out
// (`<cache>/models--org--name/{refs,snapshots,blobs}`): model ids, the environment (HF_TOKEN,
// HF_HUB_OFFLINE, HF_ENDPOINT), which files a model needs, and finding a cached snapshot
// without the network. Downloading is in resolve-model.ts; this file never touches the network.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { getHFHubCachePath, getRepoFolderName, HUB_URL } from '@huggingface/hub';
import { HubError } from './hub-errors.js';

/** A Hub model id split into its repository and optional revision. */
export interface HubModelId {
  /** `org/name`, e.g. `meta-llama/Llama-3.2-1B-Instruct`. */
  repo: string;
  /** Branch, tag or commit hash after `@`, or null when the id has none. */
  revision: string | null;
}

// huggingface_hub's validate_repo_id: word characters, `-` and `.`, no `--` or `..`, ≤ 96 chars.
const REPO_PART = /^[\w.-]+$/;
const COMMIT = /^[0-9a-f]{40}$/;

/**
 * Parses `org/name` or `org/name@revision`; null when the string is not of that form (a path
 * such as `./model`, `/models/x` or `a/b/c`, or a single name).
 */
export function parseHubModelId(model: string): HubModelId | null {
  const at = model.indexOf('@');
  const repo = at < 0 ? model : model.slice(0, at);
  const revision = at < 0 ? null : model.slice(at + 1);
  const parts = repo.split('/');
  if (parts.length !== 2 || repo.length > 96) return null;
  for (const p of parts) {
    if (!REPO_PART.test(p) || p.startsWith('.') || p.startsWith('-') || p.endsWith('.')) {
      return null;
    }
  }
  if (repo.includes('--') || repo.includes('..')) return null;
  if (revision !== null && (revision.length === 0 || /\s/.test(revision))) return null;
  return { repo, revision };
}

/** Where and how to reach the Hub, from the environment as Python's `huggingface_hub` reads it. */
export interface HubSettings {
  /** Cache root: `HF_HUB_CACHE`, else `HF_HOME/hub`, else `~/.cache/huggingface/hub`. */
  cacheDir: string;
  /** `HF_ENDPOINT` (a mirror), else `https://huggingface.co`; no trailing slash. */
  endpoint: string;
  /** `HF_TOKEN`, else the token file `huggingface-cli login` wrote (`HF_HOME/token`); else none. */
  token: string | undefined;
  /** `HF_HUB_OFFLINE` (or `TRANSFORMERS_OFFLINE`) is `1`/`true`/`yes`/`on`: the cache only. */
  offline: boolean;
}

const isTrue = (v: string | undefined) =>
  v !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(v.trim().toUpperCase());

/**
 * Reads {@link HubSettings} from `env` (default `process.env`). The cache root follows the
 * official client's `getHFHubCachePath` (which also honours `HUGGINGFACE_HUB_CACHE` and
 * `XDG_CACHE_HOME`, as Python does).
 */
export function hubSettings(env: NodeJS.ProcessEnv = process.env): HubSettings {
  const hfHome =
    env.HF_HOME ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface');
  const cacheDir =
    env === process.env
      ? getHFHubCachePath()
      : (env.HF_HUB_CACHE ?? env.HUGGINGFACE_HUB_CACHE ?? join(hfHome, 'hub'));
  let token = env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  if (token === undefined) {
    const tokenFile = env.HF_TOKEN_PATH ?? join(hfHome, 'token');
    try {
      token = readFileSync(tokenFile, 'utf8');
    } catch {
      token = undefined; // not logged in: public models only
    }
  }
  token = token?.trim() || undefined;
  const endpoint = (env.HF_ENDPOINT?.trim() || HUB_URL).replace(/\/+$/, '');
  return {
    cacheDir,
    endpoint,
    token,
    offline: isTrue(env.HF_HUB_OFFLINE) || isTrue(env.TRANSFORMERS_OFFLINE),
  };
}

/** `<cacheDir>/models--org--name`. */
export function repoCacheFolder(cacheDir: string, repo: string): string {
  return join(cacheDir, getRepoFolderName({ type: 'model', name: repo }));
}

/**
 * Files read besides the weights: the config, the generation config and the tokenizer files that
 * the Hugging Face tokenizers read (`tokenizer.json` and its companions). Never `*.bin`/`*.pth`.
 */
export const MODEL_SIDE_FILES: readonly string[] = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'chat_template.jinja',
  'chat_template.json',
];
/** Files a model cannot be loaded without (besides its weights). */
const REQUIRED_FILES = ['config.json', 'tokenizer.json'];
const INDEX = 'model.safetensors.index.json';
const SINGLE = 'model.safetensors';

/** The shard files a `model.safetensors.index.json` names, in first-use order. */
export function shardsOfIndex(indexText: string, where: string): string[] {
  let json: { weight_map?: unknown };
  try {
    json = JSON.parse(indexText) as { weight_map?: unknown };
  } catch (e) {
    throw new HubError('NO_WEIGHTS', `${where} is not valid JSON (${(e as Error).message})`, {
      cause: e,
    });
  }
  const map = json.weight_map;
  if (map === null || typeof map !== 'object') {
    throw new HubError('NO_WEIGHTS', `${where} has no "weight_map" object`);
  }
  const shards = [...new Set(Object.values(map as Record<string, unknown>).map(String))];
  for (const s of shards) {
    if (!/^[\w.-]+\.safetensors$/.test(s)) {
      throw new HubError('NO_WEIGHTS', `${where}: shard name ${JSON.stringify(s)} is not a file`);
    }
  }
  return shards;
}

/**
 * The files of a model snapshot folder that a load reads and that are missing. Weights are
 * `model.safetensors`, or `model.safetensors.index.json` and every shard it names.
 */
export function missingModelFiles(dir: string): string[] {
  const missing = REQUIRED_FILES.filter((f) => !existsSync(join(dir, f)));
  if (existsSync(join(dir, SINGLE))) return missing;
  if (!existsSync(join(dir, INDEX))) return [...missing, SINGLE];
  const shards = shardsOfIndex(readFileSync(join(dir, INDEX), 'utf8'), join(dir, INDEX));
  return [...missing, ...shards.filter((s) => !existsSync(join(dir, s)))];
}

/** The files of a complete snapshot folder that a load reads (side files present + weights). */
export function modelFilesIn(dir: string): string[] {
  const side = MODEL_SIDE_FILES.filter((f) => existsSync(join(dir, f)));
  if (existsSync(join(dir, SINGLE))) return [...side, SINGLE];
  const shards = shardsOfIndex(readFileSync(join(dir, INDEX), 'utf8'), join(dir, INDEX));
  return [...side, INDEX, ...shards];
}

/** A snapshot found in the cache. */
export interface CachedSnapshot {
  /** `<cache>/models--org--name/snapshots/<commit>`. */
  dir: string;
  /** The commit hash the revision points to. */
  commit: string;
  /** Files the model needs that the snapshot lacks (empty when it is complete). */
  missing: string[];
}

/**
 * Looks `repo` at `revision` (branch, tag or commit hash; default `main`) up in the cache without
 * the network: `refs/<revision>` gives the commit, `snapshots/<commit>` the folder. A snapshot
 * written by Python (symlinks into `blobs/`, or copies on Windows) is used as it is. Null when
 * the revision is not cached.
 */
export function findCachedSnapshot(
  repo: string,
  options: { revision?: string; cacheDir?: string } = {},
): CachedSnapshot | null {
  const folder = repoCacheFolder(options.cacheDir ?? hubSettings().cacheDir, repo);
  const revision = options.revision ?? 'main';
  let commit = revision;
  if (!COMMIT.test(revision)) {
    try {
      commit = readFileSync(join(folder, 'refs', revision), 'utf8').trim();
    } catch {
      return null;
    }
    if (!COMMIT.test(commit)) return null;
  }
  const dir = join(folder, 'snapshots', commit);
  if (!existsSync(dir)) return null;
  return { dir, commit, missing: missingModelFiles(dir) };
}

/** sha256 of a file's content, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The sha256 of each file of a cached snapshot. A symlink into `blobs/` whose blob is named by a
 * 64-hex ETag names its sha256 (the Hub's ETag of an LFS file is the sha256 of its content, and
 * the blob was checked against it when downloaded), so large weights are not read again; other
 * files (small JSON, or copies on Windows) are hashed.
 */
export async function snapshotFileHashes(
  dir: string,
  files: readonly string[],
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of files) {
    const p = join(dir, f);
    const target = lstatSync(p).isSymbolicLink() ? basename(readlinkSync(p)) : '';
    out[f] = /^[0-9a-f]{64}$/.test(target) ? target : await sha256File(p);
  }
  return out;
}
