// safetensors read/write (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length, a JSON header, then raw little-endian tensor bytes. Streaming: tensors are read one
// at a time through a file handle at their offset, so a checkpoint is never held twice in memory.
// 16-bit floats are converted to float32 on read; integers keep their width.
import { type FileHandle, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { bf16ToFloat, floatToBf16, floatToHalf, halfToFloat } from './_internal/half.js';
import { ModelError } from './errors.js';

/** Element types this implementation reads and writes. */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8 };

/** Largest accepted JSON header (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Host-side tensor: F32/F16/BF16 data as Float32Array, I32 as Int32Array, I64 as BigInt64Array. */
export interface HostTensor {
  /** dtype on disk (on read) or to write (on write; float data is converted). */
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array;
}

/** One header entry; offsets are relative to the start of the data section. */
export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  dataOffsets: [number, number];
}

/** A parsed, validated header. */
export interface SafetensorsHeader {
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  /** Byte position of the data section in the file (8 + header length). */
  dataStart: number;
}

function bad(source: string, what: string): never {
  throw new ModelError('BAD_SAFETENSORS', `${source}: ${what}`);
}

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Validate a safetensors header.
 * @param headerJson the JSON text of the header
 * @param dataBytes size of the data section (file size - 8 - header length)
 * @param source file name used in messages
 * @throws ModelError `BAD_SAFETENSORS` for bad JSON, unknown dtypes, a byte length that disagrees
 *   with dtype x shape, out-of-range or overlapping offsets
 */
export function parseSafetensorsHeader(
  headerJson: string,
  dataBytes: number,
  source: string,
): Omit<SafetensorsHeader, 'dataStart'> {
  let raw: unknown;
  try {
    raw = JSON.parse(headerJson.replace(/[ \0]+$/, ''));
  } catch (cause) {
    bad(source, `header is not valid JSON (${String(cause)})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    bad(source, 'header is not a JSON object');
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (value ?? {}) as Record<string, string>;
      continue;
    }
    const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof v?.dtype !== 'string' || !(v.dtype in DTYPE_BYTES)) {
      bad(
        source,
        `tensor "${name}" has dtype ${JSON.stringify(v?.dtype)}; supported: F32, F16, BF16, I32, I64`,
      );
    }
    const dtype = v.dtype as SafetensorsDtype;
    const shape = v.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      bad(
        source,
        `tensor "${name}" has shape ${JSON.stringify(shape)}; expected a list of non-negative integers`,
      );
    }
    const off = v.data_offsets;
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      !off.every((o) => Number.isInteger(o) && o >= 0)
    ) {
      bad(
        source,
        `tensor "${name}" has data_offsets ${JSON.stringify(off)}; expected [begin, end]`,
      );
    }
    const [begin, end] = off as [number, number];
    if (begin > end || end > dataBytes) {
      bad(
        source,
        `tensor "${name}" has data_offsets [${begin}, ${end}] outside the data section of ${dataBytes} bytes (truncated file?)`,
      );
    }
    const expected = numel(shape as number[]) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) {
      bad(
        source,
        `tensor "${name}" spans ${end - begin} bytes but dtype ${dtype} x shape [${(shape as number[]).join(',')}] needs ${expected} bytes`,
      );
    }
    entries.set(name, { dtype, shape: shape as number[], dataOffsets: [begin, end] });
  }
  const sorted = [...entries.entries()].sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0]);
  for (let i = 1; i < sorted.length; i++) {
    const [prevName, prev] = sorted[i - 1]!;
    const [name, cur] = sorted[i]!;
    if (cur.dataOffsets[0] < prev.dataOffsets[1]) {
      bad(
        source,
        `tensors "${prevName}" [${prev.dataOffsets.join(', ')}] and "${name}" [${cur.dataOffsets.join(', ')}] overlap`,
      );
    }
  }
  return { entries, metadata };
}

function headerLength(first8: Uint8Array, fileSize: number, source: string): number {
  if (fileSize < 8)
    bad(
      source,
      `file has ${fileSize} bytes; a safetensors file starts with an 8-byte header length`,
    );
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES))
    bad(
      source,
      `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`,
    );
  if (Number(n) + 8 > fileSize) bad(source, `header length ${n} exceeds the file size ${fileSize}`);
  return Number(n);
}

/** Decode raw little-endian bytes of one tensor. */
export function decodeTensorBytes(bytes: Uint8Array, dtype: SafetensorsDtype): HostTensor['data'] {
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  // Copy into an aligned buffer first (typed-array views need aligned offsets).
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const buf = aligned.buffer;
  const at = aligned.byteOffset;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buf.slice(at, at + n * 4));
    case 'I32':
      return new Int32Array(buf.slice(at, at + n * 4));
    case 'I64':
      return new BigInt64Array(buf.slice(at, at + n * 8));
    case 'F16':
    case 'BF16': {
      const u16 = new Uint16Array(buf, at, n);
      const out = new Float32Array(n);
      const conv = dtype === 'F16' ? halfToFloat : bf16ToFloat;
      for (let i = 0; i < n; i++) out[i] = conv(u16[i]!);
      return out;
    }
  }
}

/** Encode a tensor's data as little-endian bytes of `dtype` (float data converted, round-to-nearest-even). */
export function encodeTensorBytes(t: HostTensor, source = 'tensor'): Uint8Array {
  const n = numel(t.shape);
  if (t.data.length !== n) {
    throw new ModelError(
      'SHAPE_MISMATCH',
      `${source}: data has ${t.data.length} elements but shape [${t.shape.join(',')}] needs ${n}`,
    );
  }
  const isFloat = t.data instanceof Float32Array;
  const isI64 = t.data instanceof BigInt64Array;
  const wantFloat = t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16';
  if (wantFloat !== isFloat || (t.dtype === 'I64') !== isI64) {
    throw new ModelError(
      'BAD_ARGUMENT',
      `${source}: dtype ${t.dtype} does not match data of type ${t.data.constructor.name}`,
    );
  }
  switch (t.dtype) {
    case 'F32':
    case 'I32':
    case 'I64':
      return new Uint8Array(
        t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength),
      );
    case 'F16':
    case 'BF16': {
      const out = new Uint16Array(n);
      const conv = t.dtype === 'F16' ? floatToHalf : floatToBf16;
      const d = t.data as Float32Array;
      for (let i = 0; i < n; i++) out[i] = conv(d[i]!);
      return new Uint8Array(out.buffer);
    }
  }
}

function buildHeader(
  specs: { name: string; dtype: SafetensorsDtype; shape: number[] }[],
  metadata?: Record<string, string>,
): { header: Uint8Array; offsets: number[] } {
  const obj: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) obj['__metadata__'] = metadata;
  let pos = 0;
  const offsets: number[] = [];
  for (const s of specs) {
    const size = numel(s.shape) * DTYPE_BYTES[s.dtype];
    obj[s.name] = { dtype: s.dtype, shape: s.shape, data_offsets: [pos, pos + size] };
    offsets.push(pos);
    pos += size;
  }
  let json = JSON.stringify(obj);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // pad so the data section is 8-byte aligned
  const body = new TextEncoder().encode(json);
  const header = new Uint8Array(8 + body.byteLength);
  new DataView(header.buffer).setBigUint64(0, BigInt(body.byteLength), true);
  header.set(body, 8);
  return { header, offsets };
}

/** Serialise tensors (insertion order) into safetensors bytes. */
export function encodeSafetensors(
  tensors: Record<string, HostTensor> | Map<string, HostTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const { header } = buildHeader(
    list.map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })),
    metadata,
  );
  const parts = list.map(([name, t]) => encodeTensorBytes(t, name));
  const total = header.byteLength + parts.reduce((a, p) => a + p.byteLength, 0);
  const out = new Uint8Array(total);
  out.set(header, 0);
  let pos = header.byteLength;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.byteLength;
  }
  return out;
}

/** Parse safetensors bytes held in memory (for small files such as optimizer states). */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = 'safetensors bytes',
): { tensors: Map<string, HostTensor>; metadata: Record<string, string> } {
  const n = headerLength(bytes.subarray(0, 8), bytes.byteLength, source);
  const json = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  const { entries, metadata } = parseSafetensorsHeader(json, bytes.byteLength - 8 - n, source);
  const tensors = new Map<string, HostTensor>();
  for (const [name, e] of entries) {
    const slice = bytes.subarray(8 + n + e.dataOffsets[0], 8 + n + e.dataOffsets[1]);
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data: decodeTensorBytes(slice, e.dtype) });
  }
  return { tensors, metadata };
}

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
      handle = await open(path, 'r');
    } catch (cause) {
      throw new ModelError('IO', `cannot open safetensors file ${path}`, { cause });
    }
    try {
      const { size } = await handle.stat();
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
    return { dtype: e.dtype, shape: e.shape, data: decodeTensorBytes(bytes, e.dtype) };
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
      index = JSON.parse(await readFile(indexPath, 'utf8'));
    } catch (cause) {
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

  /** Close all shard handles. */
  async close(): Promise<void> {
    for (const f of this.files) await f.close();
  }
}
