// safetensors files on disk (Node): streaming reads, one tensor at a time through a file handle at
// its offset, so a checkpoint is never held twice in memory; sharded checkpoint folders
// (model.safetensors.index.json); streaming writes. The format itself is in ../safetensors.ts.
import { type FileHandle, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelError } from '../errors.js';
import {
  bad,
  buildHeader,
  decodeTensorBytes,
  encodeTensorBytes,
  type HostTensor,
  headerLength,
  parseSafetensorsHeader,
  type SafetensorsDtype,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from '../safetensors.js';
import { notRegularFile, OPEN_READ_NONBLOCK, readModelText } from './config.js';

/** An open safetensors file: header parsed, tensors read on demand at their offsets. */
export class SafetensorsFile {
  private constructor(
    /** File path. */
    readonly path: string,
    /** Parsed header. */
    readonly header: SafetensorsHeader,
    private readonly handle: FileHandle,
  ) {}

  /**
   * Open a file and validate its header (nothing else is read).
   * @throws ModelError `BAD_SAFETENSORS` / `IO`
   */
  static async open(path: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, OPEN_READ_NONBLOCK);
    } catch (cause) {
      throw new ModelError(
        'IO',
        `cannot open safetensors file ${path} (${(cause as Error).message})`,
        { cause },
      );
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw notRegularFile(path, st);
      const { size } = st;
      const first8 = new Uint8Array(8);
      await handle.read(first8, 0, Math.min(8, size), 0);
      const n = headerLength(first8, size, path);
      const headerBytes = new Uint8Array(n);
      await handle.read(headerBytes, 0, n, 8);
      const { entries, metadata } = parseSafetensorsHeader(
        new TextDecoder().decode(headerBytes),
        size - 8 - n,
        path,
      );
      return new SafetensorsFile(path, { entries, metadata, dataStart: 8 + n }, handle);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  /** Tensor names in the file. */
  get names(): string[] {
    return [...this.header.entries.keys()];
  }

  /**
   * Read one tensor.
   * @throws ModelError `MISSING_TENSOR` when absent
   */
  async read(name: string): Promise<HostTensor> {
    const e = this.header.entries.get(name);
    if (!e) throw new ModelError('MISSING_TENSOR', `${this.path}: no tensor named "${name}"`);
    return {
      dtype: e.dtype,
      shape: e.shape,
      data: decodeTensorBytes(await this.readBytes(name), e.dtype),
    };
  }

  /**
   * Read one tensor's raw little-endian bytes (dtype and shape in `header.entries`), unconverted.
   * @throws ModelError `MISSING_TENSOR` when absent, `BAD_SAFETENSORS` when the file is truncated
   */
  async readBytes(name: string): Promise<Uint8Array> {
    const e = this.header.entries.get(name);
    if (!e) throw new ModelError('MISSING_TENSOR', `${this.path}: no tensor named "${name}"`);
    const len = e.dataOffsets[1] - e.dataOffsets[0];
    const bytes = new Uint8Array(len);
    const { bytesRead } = await this.handle.read(
      bytes,
      0,
      len,
      this.header.dataStart + e.dataOffsets[0],
    );
    if (bytesRead !== len)
      bad(this.path, `tensor "${name}" is truncated (${bytesRead} of ${len} bytes)`);
    return bytes;
  }

  /** Close the file handle. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** A tensor to write: data given directly or produced lazily (one tensor in memory at a time). */
export interface TensorToWrite {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  data: HostTensor['data'] | (() => Promise<HostTensor['data']>);
}

/**
 * Write a safetensors file, streaming tensor by tensor (lazy `data` is awaited one at a time).
 */
export async function writeSafetensors(
  path: string,
  tensors: TensorToWrite[],
  metadata?: Record<string, string>,
): Promise<void> {
  const { header } = buildHeader(tensors, metadata);
  const handle = await open(path, 'w');
  try {
    await handle.write(header, 0, header.byteLength);
    for (const t of tensors) {
      const data = typeof t.data === 'function' ? await t.data() : t.data;
      const bytes = encodeTensorBytes(
        { dtype: t.dtype, shape: t.shape, data },
        `${path} ${t.name}`,
      );
      await handle.write(bytes, 0, bytes.byteLength);
    }
  } finally {
    await handle.close();
  }
}

/**
 * A checkpoint folder: `model.safetensors`, or shards listed in `model.safetensors.index.json`
 * (`weight_map`: tensor name -> shard file).
 */
export class SafetensorsCheckpoint {
  private constructor(
    private readonly files: SafetensorsFile[],
    private readonly fileOf: Map<string, SafetensorsFile>,
  ) {}

  /**
   * Open a checkpoint folder (sharded or not).
   * @throws ModelError `IO` when neither file exists, `BAD_SAFETENSORS` for a bad index
   */
  static async open(dir: string): Promise<SafetensorsCheckpoint> {
    const indexPath = join(dir, 'model.safetensors.index.json');
    const hasIndex = await stat(indexPath).then(
      () => true,
      () => false,
    );
    if (!hasIndex) {
      const file = await SafetensorsFile.open(join(dir, 'model.safetensors'));
      return new SafetensorsCheckpoint([file], new Map(file.names.map((n) => [n, file])));
    }
    let index: { weight_map?: Record<string, string> };
    try {
      index = JSON.parse(await readModelText(indexPath));
    } catch (cause) {
      if (cause instanceof ModelError) throw cause;
      throw new ModelError('BAD_SAFETENSORS', `${indexPath}: not valid JSON`, { cause });
    }
    const map = index.weight_map;
    if (typeof map !== 'object' || map === null)
      bad(indexPath, 'key "weight_map" is missing or not an object');
    const shards = new Map<string, SafetensorsFile>();
    const fileOf = new Map<string, SafetensorsFile>();
    try {
      for (const [name, shard] of Object.entries(map)) {
        if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\')) {
          bad(
            indexPath,
            `weight_map["${name}"] is ${JSON.stringify(shard)}; expected a file name in the folder`,
          );
        }
        let file = shards.get(shard);
        if (!file) {
          file = await SafetensorsFile.open(join(dir, shard));
          shards.set(shard, file);
        }
        if (!file.header.entries.has(name))
          bad(
            indexPath,
            `weight_map says "${name}" is in ${shard}, but that shard has no such tensor`,
          );
        fileOf.set(name, file);
      }
    } catch (e) {
      for (const f of shards.values()) await f.close();
      throw e;
    }
    return new SafetensorsCheckpoint([...shards.values()], fileOf);
  }

  /** All tensor names. */
  get names(): string[] {
    return [...this.fileOf.keys()];
  }

  /** Header entry of a tensor, or undefined. */
  entry(name: string): SafetensorsEntry | undefined {
    return this.fileOf.get(name)?.header.entries.get(name);
  }

  /** Read one tensor. @throws ModelError `MISSING_TENSOR` */
  async read(name: string): Promise<HostTensor> {
    const f = this.fileOf.get(name);
    if (!f) throw new ModelError('MISSING_TENSOR', `checkpoint has no tensor named "${name}"`);
    return f.read(name);
  }

  /** Read one tensor's raw bytes (see {@link SafetensorsFile.readBytes}). @throws ModelError `MISSING_TENSOR` */
  async readBytes(name: string): Promise<Uint8Array> {
    const f = this.fileOf.get(name);
    if (!f) throw new ModelError('MISSING_TENSOR', `checkpoint has no tensor named "${name}"`);
    return f.readBytes(name);
  }

  /** Close all shard handles. */
  async close(): Promise<void> {
    for (const f of this.files) await f.close();
  }
}
