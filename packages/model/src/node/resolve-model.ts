// `--model` resolved as transformers' `from_pretrained` does: an existing local folder wins; else
// an `org/name[@revision]` id is looked up in the Hugging Face cache; else downloaded into that
// cache with the official client (`@huggingface/hub`), only the files a model load reads.
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HubApiError, listFiles, modelInfo } from '@huggingface/hub';
import type { Logger } from '../checkpoint.js';
import {
  findCachedSnapshot,
  type HubSettings,
  hubSettings,
  MODEL_SIDE_FILES,
  modelFilesIn,
  parseHubModelId,
  repoCacheFolder,
  shardsOfIndex,
  snapshotFileHashes,
} from './hub-cache.js';
import {
  type DownloadProgress,
  downloadFileToSnapshot,
  type ExpectedFile,
} from './hub-download.js';
import { HubError } from './hub-errors.js';

/** Which Hub model a run started from: the record `run.json` keeps as `modelSource`. */
export interface ModelSource {
  /** The repository id, `org/name`. */
  id: string;
  /** The commit hash the revision resolved to. */
  revision: string;
  /** sha256 of each file the load reads, by file name. */
  files: Record<string, string>;
}

/** Result of {@link resolvePretrained}. */
export interface ResolvedModel {
  /** The folder to pass to `loadModel`: the local folder, or `snapshots/<commit>` in the cache. */
  dir: string;
  /** The Hub id, commit and file hashes; null when `model` was a local folder. */
  source: ModelSource | null;
  /** Files this call downloaded (empty for a local folder or a complete cache). */
  downloaded: string[];
}

/** Options of {@link resolvePretrained}. */
export interface ResolvePretrainedOptions {
  /** Branch, tag or commit hash; overrides an `@revision` in the id (they must agree if both). */
  revision?: string;
  /** Environment to read `HF_*` from (default `process.env`); see {@link hubSettings}. */
  env?: NodeJS.ProcessEnv;
  /** Overrides of the settings read from `env` (cache root, endpoint, token, offline). */
  settings?: Partial<HubSettings>;
  /** `fetch` implementation (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** Called while files download (bytes, totals) for a progress bar. */
  onProgress?: (p: DownloadProgress) => void;
  /** Receives one-line notes: resuming a partial file, waiting for another process. */
  logger?: Logger;
  /** Resumed attempts per file after a dropped connection before giving up (default 3). */
  retries?: number;
}

const COMMIT = /^[0-9a-f]{40}$/;

/**
 * Resolves a model argument to a folder, as `from_pretrained` does:
 * 1. an existing local folder is used as it is (`source: null`);
 * 2. an `org/name[@revision]` id whose revision is complete in the cache (`refs/<revision>` ->
 *    `snapshots/<commit>`, Python's layout, symlinks into `blobs/` included) is used with no
 *    network request (a branch already cached is not re-checked for new commits: pass a commit
 *    hash, or download again after deleting `refs/<branch>`, to move);
 * 3. otherwise, unless offline, the revision is resolved to its commit on the Hub and the
 *    missing files are downloaded into the same cache: `config.json`, `generation_config.json`,
 *    the tokenizer files and the safetensors weights (single file, or index + shards); never
 *    `*.bin` or `*.pth`. Each file is resumable and checked against the sha256 / git oid the Hub
 *    announces before it enters `blobs/`; `refs/<revision>` is written once all are in place.
 * @throws HubError `BAD_MODEL_ID`, `BAD_TOKEN`, `NOT_FOUND`, `GATED`, `NOT_CACHED`, `NO_WEIGHTS`,
 *   `DOWNLOAD_FAILED`, `HASH_MISMATCH` (each message says how to fix it)
 */
export async function resolvePretrained(
  model: string,
  options: ResolvePretrainedOptions = {},
): Promise<ResolvedModel> {
  if (existsSync(model) && statSync(model).isDirectory()) {
    return { dir: resolve(model), source: null, downloaded: [] };
  }
  const id = parseHubModelId(model);
  if (id === null) {
    throw new HubError(
      'BAD_MODEL_ID',
      `${model} is neither an existing folder nor a Hugging Face model id of the form org/name or org/name@revision (e.g. meta-llama/Llama-3.2-1B-Instruct)`,
    );
  }
  if (options.revision !== undefined && id.revision !== null && options.revision !== id.revision) {
    throw new HubError(
      'BAD_MODEL_ID',
      `${model} names revision ${id.revision} but the revision option says ${options.revision}; give one of them`,
    );
  }
  const revision = options.revision ?? id.revision ?? 'main';
  const settings = { ...hubSettings(options.env), ...options.settings };
  const label = `${id.repo}@${revision}`;

  const cached = findCachedSnapshot(id.repo, { revision, cacheDir: settings.cacheDir });
  if (cached !== null && cached.missing.length === 0) {
    const files = modelFilesIn(cached.dir);
    return {
      dir: cached.dir,
      source: {
        id: id.repo,
        revision: cached.commit,
        files: await snapshotFileHashes(cached.dir, files),
      },
      downloaded: [],
    };
  }
  if (settings.offline) {
    const what =
      cached === null
        ? `is not in the cache ${settings.cacheDir}`
        : `is incomplete in the cache (${cached.dir} lacks ${cached.missing.join(', ')})`;
    throw new HubError(
      'NOT_CACHED',
      `${model}: HF_HUB_OFFLINE is set and ${label} ${what}. Download it once with the network (unset HF_HUB_OFFLINE), or point HF_HUB_CACHE (or HF_HOME) at the cache that holds it, or pass a local folder.`,
    );
  }
  return download(model, id.repo, revision, settings, options);
}

/** Error headers of failed responses, by URL, for naming gated/missing repos precisely. */
type ErrorHeaders = Map<string, { code: string | null; message: string | null }>;

/**
 * The client's fetch, wrapped: records the Hub's `X-Error-Code` of failed responses, checks that
 * `resolve` answers come from the expected commit (`X-Repo-Commit`), and turns a `200` answer to
 * a resumed `Range` request (a server that ignores ranges) into the missing tail.
 */
function hubFetch(
  base: typeof fetch,
  errors: ErrorHeaders,
  commit: { value: string | null },
  logger?: Logger,
): typeof fetch {
  return async (input, init) => {
    const res = await base(input, init);
    if (!res.ok) {
      errors.set(res.url || String(input), {
        code: res.headers.get('x-error-code'),
        message: res.headers.get('x-error-message'),
      });
      return res;
    }
    const repoCommit = res.headers.get('x-repo-commit');
    if (commit.value !== null && repoCommit !== null && repoCommit !== commit.value) {
      await res.body?.cancel();
      throw new HubError(
        'DOWNLOAD_FAILED',
        `${String(input)} answered from commit ${repoCommit}, not the resolved ${commit.value}`,
      );
    }
    const range = new Headers(init?.headers).get('range');
    const from = Number(/^bytes=(\d+)-/.exec(range ?? '')?.[1] ?? 0);
    if (from > 0 && res.status === 200 && res.body !== null) {
      logger?.warn(
        `${String(input)}: the server ignored the Range request; skipping ${from} bytes`,
      );
      return new Response(skipBytes(res.body, from), { status: 206, headers: res.headers });
    }
    return res;
  };
}

/** The stream without its first `n` bytes. */
function skipBytes(body: ReadableStream<Uint8Array>, n: number): ReadableStream<Uint8Array> {
  let left = n;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        if (left >= chunk.byteLength) {
          left -= chunk.byteLength;
          return;
        }
        ctl.enqueue(chunk.subarray(left));
        left = 0;
      },
    }),
  );
}

/** Maps the client's errors (HTTP status + the Hub's `X-Error-Code`) to named HubErrors. */
function hubError(
  e: unknown,
  model: string,
  repo: string,
  revision: string,
  settings: HubSettings,
  errors: ErrorHeaders,
): unknown {
  if (e instanceof HubError) return e;
  const page = `${settings.endpoint}/${repo}`;
  if (e instanceof HubApiError) {
    const code = errors.get(e.url)?.code ?? null;
    const status = e.statusCode;
    if (code === 'GatedRepo' || status === 403 || (status === 401 && code === null)) {
      const how =
        settings.token === undefined
          ? `No token was sent: create a read token at https://huggingface.co/settings/tokens with the account that accepted the licence and set HF_TOKEN to it (or run \`huggingface-cli login\`).`
          : `The token in HF_TOKEN was sent but its account has no access yet: open ${page} while logged in with that account, accept the licence (approval can take a while; the page says when it is granted), then run again.`;
      return new HubError(
        'GATED',
        `${model}: ${repo} is a gated model (HTTP ${status}): you must accept its licence on ${page} to download it. ${how}`,
        { cause: e },
      );
    }
    if (code === 'RevisionNotFound' || (status === 404 && code === null && revision !== 'main')) {
      return new HubError(
        'NOT_FOUND',
        `${model}: revision ${revision} does not exist in ${repo} (HTTP ${status}); use a branch, tag or commit hash listed on ${page}/commits`,
        { cause: e },
      );
    }
    if (status === 401 || status === 404) {
      return new HubError(
        'NOT_FOUND',
        `${model}: ${repo} was not found on ${settings.endpoint} (HTTP ${status}). Check the id; a private repository needs HF_TOKEN; a local folder of that name does not exist either.`,
        { cause: e },
      );
    }
    return new HubError(
      'DOWNLOAD_FAILED',
      `${model}: ${settings.endpoint} answered HTTP ${status} (${e.message}); retry later`,
      { cause: e },
    );
  }
  if (e instanceof TypeError && /fetch failed|network/i.test(e.message)) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return new HubError(
      'DOWNLOAD_FAILED',
      `${model}: cannot reach ${settings.endpoint} (${cause?.code ?? cause?.message ?? e.message}). Check the network or HF_ENDPOINT; to use only the cache set HF_HUB_OFFLINE=1.`,
      { cause: e },
    );
  }
  return e;
}

async function download(
  model: string,
  repo: string,
  revision: string,
  settings: HubSettings,
  options: ResolvePretrainedOptions,
): Promise<ResolvedModel> {
  if (settings.token !== undefined && !settings.token.startsWith('hf_')) {
    throw new HubError(
      'BAD_TOKEN',
      `${model}: HF_TOKEN (or the token file of \`huggingface-cli login\`) does not hold a Hugging Face access token (they start with hf_); create one at https://huggingface.co/settings/tokens or unset HF_TOKEN`,
    );
  }
  const errors: ErrorHeaders = new Map();
  const commitBox: { value: string | null } = { value: null };
  const base = {
    hubUrl: settings.endpoint,
    fetch: hubFetch(options.fetch ?? globalThis.fetch, errors, commitBox, options.logger),
    ...(settings.token === undefined ? {} : { accessToken: settings.token }),
  };
  const storageFolder = repoCacheFolder(settings.cacheDir, repo);
  const lockFolder = join(settings.cacheDir, '.locks', repoCacheFolder('', repo));
  try {
    const commit = COMMIT.test(revision)
      ? revision
      : (await modelInfo({ ...base, name: repo, revision, additionalFields: ['sha'] })).sha;
    if (typeof commit !== 'string' || !COMMIT.test(commit)) {
      throw new HubError(
        'DOWNLOAD_FAILED',
        `${model}: ${settings.endpoint} gave no commit hash for ${repo}@${revision}`,
      );
    }
    commitBox.value = commit;
    // Top-level files only: `original/*.pth` and other sub-folders are never read.
    const listing = new Map<string, ExpectedFile>();
    for await (const entry of listFiles({
      ...base,
      repo: { type: 'model', name: repo },
      revision: commit,
    })) {
      if (entry.type !== 'file') continue;
      listing.set(entry.path, {
        path: entry.path,
        size: entry.lfs?.size ?? entry.size,
        // Hashes name blobs on disk: anything but hex is ignored (then the ETag must do).
        ...(entry.lfs !== undefined
          ? /^[0-9a-f]{64}$/.test(entry.lfs.oid)
            ? { sha256: entry.lfs.oid }
            : {}
          : entry.oid !== undefined && COMMIT.test(entry.oid)
            ? { gitOid: entry.oid }
            : {}),
      });
    }
    const wanted = MODEL_SIDE_FILES.filter((f) => listing.has(f));
    for (const f of ['config.json', 'tokenizer.json']) {
      if (!listing.has(f)) {
        throw new HubError(
          'NO_WEIGHTS',
          `${model}: ${repo}@${commit} has no ${f}; only Hugging Face Llama checkpoints with a tokenizer.json are supported`,
        );
      }
    }
    const single = listing.has('model.safetensors');
    const index = 'model.safetensors.index.json';
    if (!single && !listing.has(index)) {
      const other = [...listing.keys()].filter((f) => /\.(bin|pth|pt|gguf)$/.test(f));
      throw new HubError(
        'NO_WEIGHTS',
        `${model}: ${repo}@${commit} has no model.safetensors or ${index}${other.length > 0 ? ` (only ${other.join(', ')}, which are never read)` : ''}; pick a repository with safetensors weights, or convert it with the Python library first`,
      );
    }
    const downloaded: string[] = [];
    const hashes: Record<string, string> = {};
    let fileIndex = 0;
    const fetchOne = async (file: ExpectedFile, fileCount: number) => {
      const r = await downloadFileToSnapshot({
        repo,
        commit,
        file,
        storageFolder,
        lockFolder,
        hubUrl: settings.endpoint,
        accessToken: settings.token,
        fetch: base.fetch,
        fileIndex: fileIndex++,
        fileCount,
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
        ...(options.logger === undefined ? {} : { logger: options.logger }),
        ...(options.retries === undefined ? {} : { retries: options.retries }),
      });
      hashes[file.path] = r.sha256;
      if (r.downloaded) downloaded.push(file.path);
      return r;
    };
    let weights: string[] = ['model.safetensors'];
    if (!single) {
      const idx = await fetchOne(listing.get(index)!, wanted.length + 1);
      weights = shardsOfIndex(await readFile(idx.path, 'utf8'), `${repo}@${commit}/${index}`);
      const absent = weights.filter((s) => !listing.has(s));
      if (absent.length > 0) {
        throw new HubError(
          'NO_WEIGHTS',
          `${model}: ${index} of ${repo}@${commit} names shards that are not in the repository: ${absent.join(', ')}`,
        );
      }
    }
    const files = [...wanted, ...weights];
    const count = files.length + (single ? 0 : 1);
    for (const f of files) await fetchOne(listing.get(f)!, count);
    if (revision !== commit) {
      // The ref moves last, so a cache lookup never sees a snapshot that is still filling.
      const ref = join(storageFolder, 'refs', revision);
      await mkdir(join(ref, '..'), { recursive: true });
      const tmp = `${ref}.${process.pid}.tmp`;
      await writeFile(tmp, commit);
      await rename(tmp, ref);
    }
    const dir = join(storageFolder, 'snapshots', commit);
    const all = single ? files : [...wanted, index, ...weights];
    const ordered: Record<string, string> = {};
    for (const f of all) ordered[f] = hashes[f]!;
    return { dir, source: { id: repo, revision: commit, files: ordered }, downloaded };
  } catch (e) {
    throw hubError(e, model, repo, revision, settings, errors);
  }
}
