// Weights by version: the policy is published once per version as a Hugging Face model folder
// split in two content-addressed blobs (the spec bundle: config and tokenizer files; the
// weights: model.safetensors, float32, bit-exact), in a store every worker reaches. Two stores:
//  - a shared directory (NFS, or one machine): `<dir>/<sha256>.blob`, written under a temporary
//    name and renamed, so a reader never sees half a blob;
//  - Redis itself (the default): the machines already reach it, it inherits the queue's password
//    and TLS, and it needs no second listener on the trainer to open and secure. Blobs are cut in
//    16 MiB chunks (Redis strings stop at 512 MB) and carry a TTL. Right for small and mid-size
//    models; beyond a few hundred MB per version use the shared directory.
// Workers verify every blob's sha256 before use (worker.ts); leaves out the queue itself.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LlamaModel } from '@atmanrl/model';
import { saveModel } from '@atmanrl/model/node';
import type { Redis } from 'ioredis';
import { QueueError } from './errors.js';
import type { StoreRef } from './schema.js';

/** sha256 of bytes, hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Content-addressed blobs. */
export interface BlobStore {
  /** What jobs carry so workers find this store. */
  readonly ref: StoreRef;
  /** For messages. */
  readonly describe: string;
  has(sha: string): Promise<boolean>;
  put(sha: string, bytes: Uint8Array): Promise<void>;
  /** The blob, or null when the store does not have it. */
  get(sha: string): Promise<Uint8Array | null>;
  remove(sha: string): Promise<void>;
}

/** A shared directory (NFS or local): one `<sha>.blob` file per blob. */
export class DirStore implements BlobStore {
  readonly ref: StoreRef;
  readonly describe: string;
  constructor(readonly path: string) {
    this.ref = { kind: 'dir', path };
    this.describe = `the shared directory ${path}`;
  }
  private file(sha: string): string {
    return join(this.path, `${sha}.blob`);
  }
  async has(sha: string): Promise<boolean> {
    return stat(this.file(sha)).then(
      () => true,
      () => false,
    );
  }
  async put(sha: string, bytes: Uint8Array): Promise<void> {
    if (await this.has(sha)) return;
    await mkdir(this.path, { recursive: true });
    const tmp = `${this.file(sha)}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, this.file(sha));
  }
  async get(sha: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.file(sha)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }
  async remove(sha: string): Promise<void> {
    rmSync(this.file(sha), { force: true });
  }
}

/** Chunk size of {@link RedisStore} (well under Redis's 512 MB string limit). */
const CHUNK = 16 * 1024 * 1024;
/** Blobs expire a day after their last put, so a dead trainer leaves nothing behind for long. */
const TTL_S = 24 * 3600;

/** Blobs in Redis: `<prefix>:blob:<sha>` holds the chunk count, `…:<sha>:<i>` the chunks. */
export class RedisStore implements BlobStore {
  readonly ref: StoreRef = { kind: 'redis' };
  readonly describe = 'Redis (the queue server)';
  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}
  private key(sha: string): string {
    return `${this.prefix}:blob:${sha}`;
  }
  async has(sha: string): Promise<boolean> {
    return (await this.client.exists(this.key(sha))) === 1;
  }
  async put(sha: string, bytes: Uint8Array): Promise<void> {
    if (await this.has(sha)) return;
    const n = Math.max(1, Math.ceil(bytes.byteLength / CHUNK));
    const m = this.client.multi();
    for (let i = 0; i < n; i++) {
      const part = Buffer.from(
        bytes.buffer,
        bytes.byteOffset + i * CHUNK,
        Math.min(CHUNK, bytes.byteLength - i * CHUNK),
      );
      m.set(`${this.key(sha)}:${i}`, part, 'EX', TTL_S);
    }
    // The count last: a reader that sees it sees every chunk (MULTI is atomic anyway).
    m.set(this.key(sha), String(n), 'EX', TTL_S);
    await m.exec();
  }
  async get(sha: string): Promise<Uint8Array | null> {
    const count = await this.client.get(this.key(sha));
    if (count === null) return null;
    const n = Number(count);
    const keys = Array.from({ length: n }, (_, i) => `${this.key(sha)}:${i}`);
    const parts = await this.client.mgetBuffer(...keys);
    if (parts.some((p) => p === null)) return null;
    return new Uint8Array(Buffer.concat(parts as Buffer[]));
  }
  async remove(sha: string): Promise<void> {
    const count = await this.client.get(this.key(sha));
    const n = count === null ? 0 : Number(count);
    await this.client.del(
      this.key(sha),
      ...Array.from({ length: n }, (_, i) => `${this.key(sha)}:${i}`),
    );
  }
}

/** A policy version as two blobs. */
export interface ModelSnapshot {
  /** JSON bundle of the folder's small files (config, generation config, tokenizer). */
  spec: Uint8Array;
  specSha: string;
  /** model.safetensors, float32. */
  weights: Uint8Array;
  weightsSha: string;
}

/**
 * Serialises the policy exactly as `saveModel` writes a folder (float32: a bit-exact round trip),
 * into a temporary folder that is removed again.
 */
export async function snapshotModel(policy: LlamaModel): Promise<ModelSnapshot> {
  const dir = mkdtempSync(join(tmpdir(), 'atmanrl-publish-'));
  try {
    await saveModel(policy, dir);
    const weights = new Uint8Array(await readFile(join(dir, 'model.safetensors')));
    const files: Record<string, string> = {};
    for (const name of (await readdir(dir)).sort()) {
      if (name !== 'model.safetensors') files[name] = await readFile(join(dir, name), 'utf8');
    }
    const spec = new TextEncoder().encode(JSON.stringify({ files }));
    return { spec, specSha: sha256(spec), weights, weightsSha: sha256(weights) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Fetches a blob and checks its hash.
 * @throws QueueError `WEIGHTS_MISSING` when the store lacks it, `WEIGHTS_HASH_MISMATCH` when the
 *   bytes hash to something else
 */
export async function fetchVerified(
  store: BlobStore,
  sha: string,
  what: string,
): Promise<Uint8Array> {
  const bytes = await store.get(sha);
  if (bytes === null) {
    throw new QueueError(
      'WEIGHTS_MISSING',
      `${what} ${sha.slice(0, 12)} is not in ${store.describe}; the trainer publishes each version before its jobs (a shared directory must be mounted at the same path on every machine, or pass the worker its own path)`,
    );
  }
  const got = sha256(bytes);
  if (got !== sha) {
    throw new QueueError(
      'WEIGHTS_HASH_MISMATCH',
      `${what} from ${store.describe} hashes to ${got}, not ${sha}: the store holds damaged or foreign bytes; they were not loaded`,
    );
  }
  return bytes;
}

/** Writes a verified spec bundle and weights as a model folder (config, tokenizer, safetensors). */
export async function writeModelFolder(
  dir: string,
  spec: Uint8Array,
  weights: Uint8Array,
): Promise<void> {
  const { files } = JSON.parse(new TextDecoder().decode(spec)) as { files: Record<string, string> };
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    if (name.includes('/') || name.startsWith('.'))
      throw new QueueError('BAD_JOB', `spec bundle names a file outside its folder: ${name}`);
    await writeFile(join(dir, name), text);
  }
  const tmp = join(dir, 'model.safetensors.tmp');
  await writeFile(tmp, weights);
  await rename(tmp, join(dir, 'model.safetensors'));
}
