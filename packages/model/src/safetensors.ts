// safetensors in memory (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length, a JSON header, then raw little-endian tensor bytes. Browser-safe: header parsing,
// decoding from and encoding to bytes. 16-bit floats become float32 on read; integers keep their
// width. Streaming file access (one tensor at a time) is in node/safetensors-files.ts.
import { floatToBf16, floatToHalf, halfToFloat } from './_internal/half.js';
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

/** Throws `BAD_SAFETENSORS` naming the source. */
export function bad(source: string, what: string): never {
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

/** The JSON header's byte length from the first 8 bytes, checked against the file size. */
export function headerLength(first8: Uint8Array, fileSize: number, source: string): number {
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
  if (dtype === 'F32' || dtype === 'F16' || dtype === 'BF16')
    return decodeFloatElements(bytes, dtype, 0, bytes.byteLength / DTYPE_BYTES[dtype]);
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  // Copy into an aligned buffer first (typed-array views need aligned offsets).
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const buf = aligned.buffer;
  const at = aligned.byteOffset;
  return dtype === 'I32'
    ? new Int32Array(buf.slice(at, at + n * 4))
    : new BigInt64Array(buf.slice(at, at + n * 8));
}

/** float32 value of every IEEE half bit pattern (built on first use; 256 KiB). */
let halfTable: Float32Array | undefined;

/**
 * Elements `start .. start+count` of a float tensor's raw little-endian bytes as a new float32
 * array (the only host copy: BF16 widens by a 16-bit shift and F16 through a table, both exact).
 * The loader converts one block of rows at a time with it, so the host never holds a float32
 * copy of more than one block.
 */
export function decodeFloatElements(
  bytes: Uint8Array,
  dtype: 'F32' | 'F16' | 'BF16',
  start: number,
  count: number,
): Float32Array {
  const width = DTYPE_BYTES[dtype];
  let part = bytes.subarray(start * width, (start + count) * width);
  // Typed-array views need aligned offsets: copy just this part when it is not.
  if (part.byteOffset % width !== 0) part = part.slice();
  const out = new Float32Array(count);
  if (dtype === 'F32') {
    out.set(new Float32Array(part.buffer, part.byteOffset, count));
    return out;
  }
  const u16 = new Uint16Array(part.buffer, part.byteOffset, count);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer); // bfloat16 is the top half of a float32
    for (let i = 0; i < count; i++) bits[i] = u16[i]! << 16;
    return out;
  }
  if (halfTable === undefined) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  }
  const table = halfTable;
  for (let i = 0; i < count; i++) out[i] = table[u16[i]!]!;
  return out;
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

/** The 8-byte length + JSON header (padded to 8 bytes) for tensors in order. */
export function buildHeader(
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
