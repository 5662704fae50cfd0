import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  SafetensorsCheckpoint,
  SafetensorsFile,
  writeSafetensors,
} from './node/safetensors-files.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

/** Build a safetensors file by hand (independent of encodeSafetensors). */
function rawFile(header: unknown, data: Uint8Array, headerLenOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLenOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function u16le(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  values.forEach((v, i) => {
    new DataView(out.buffer).setUint16(i * 2, v, true);
  });
  return out;
}

describe('safetensors', () => {
  it('decodes BF16 and F16 bit patterns to the hand-computed float32 values', () => {
    const bytes = rawFile(
      {
        b: { dtype: 'BF16', shape: [3], data_offsets: [0, 6] },
        h: { dtype: 'F16', shape: [2, 2], data_offsets: [6, 14] },
      },
      new Uint8Array([
        ...u16le([0x3f80, 0xc040, 0x3e80]),
        ...u16le([0x3c00, 0xc000, 0x0001, 0x7bff]),
      ]),
    );
    const { tensors } = decodeSafetensors(bytes);
    expect(Array.from(tensors.get('b')!.data as Float32Array)).toEqual([1, -3, 0.25]);
    expect(tensors.get('h')!.shape).toEqual([2, 2]);
    expect(Array.from(tensors.get('h')!.data as Float32Array)).toEqual([1, -2, 2 ** -24, 65504]);
  });

  it('round-trips F32, I32, I64 exactly and F16/BF16 to within their rounding', () => {
    const x = Float32Array.from([0.1, -1.5, Math.PI, 1e-3, 65000, -0]);
    const enc = encodeSafetensors(
      {
        f32: { dtype: 'F32', shape: [2, 3], data: x },
        f16: { dtype: 'F16', shape: [6], data: x },
        bf16: { dtype: 'BF16', shape: [6], data: x },
        i32: { dtype: 'I32', shape: [2], data: Int32Array.from([-7, 2 ** 31 - 1]) },
        i64: { dtype: 'I64', shape: [1], data: BigInt64Array.from([-(2n ** 40n)]) },
      },
      { format: 'pt' },
    );
    const { tensors, metadata } = decodeSafetensors(enc);
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.get('f32')!.data).toEqual(x);
    expect(Array.from(tensors.get('i32')!.data as Int32Array)).toEqual([-7, 2 ** 31 - 1]);
    expect(Array.from(tensors.get('i64')!.data as BigInt64Array)).toEqual([-(2n ** 40n)]);
    const f16 = tensors.get('f16')!.data as Float32Array;
    const bf16 = tensors.get('bf16')!.data as Float32Array;
    x.forEach((v, i) => {
      expect(Math.abs(f16[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 1e-7);
      expect(Math.abs(bf16[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -8);
    });
    expect(bf16[0]).toBe(0.10009765625); // round-to-nearest-even of 0.1 in bfloat16
  });

  it('streams tensors from a file and reads shards through model.safetensors.index.json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'st-'));
    await writeSafetensors(join(dir, 'a.safetensors'), [
      { name: 'w1', dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) },
      { name: 'w2', dtype: 'BF16', shape: [1], data: async () => Float32Array.from([0.5]) },
    ]);
    await writeSafetensors(join(dir, 'b.safetensors'), [
      { name: 'w3', dtype: 'F16', shape: [1, 1], data: Float32Array.from([-4]) },
    ]);
    await writeFile(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({
        metadata: {},
        weight_map: { w1: 'a.safetensors', w2: 'a.safetensors', w3: 'b.safetensors' },
      }),
    );
    const ckpt = await SafetensorsCheckpoint.open(dir);
    expect(ckpt.names.sort()).toEqual(['w1', 'w2', 'w3']);
    expect(Array.from((await ckpt.read('w2')).data as Float32Array)).toEqual([0.5]);
    expect(Array.from((await ckpt.read('w3')).data as Float32Array)).toEqual([-4]);
    await expect(ckpt.read('nope')).rejects.toMatchObject({ code: 'MISSING_TENSOR' });
    await ckpt.close();
    await writeFile(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { w9: 'a.safetensors' } }),
    );
    await expect(SafetensorsCheckpoint.open(dir)).rejects.toThrow(
      /"w9" is in a\.safetensors, but that shard has no such tensor/,
    );
  });

  describe('corrupt files', () => {
    const ok = { t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    const data8 = new Uint8Array(8);
    const cases: [string, Uint8Array, RegExp][] = [
      ['too short', new Uint8Array(4), /starts with an 8-byte header length/],
      ['oversized header', rawFile(ok, data8, 2n ** 40n), /exceeds the 100000000-byte limit/],
      ['header past the end', rawFile(ok, data8, 5000n), /exceeds the file size/],
      ['bad JSON', rawFile('x', data8, 1n), /not valid JSON|not a JSON object/],
      [
        'unknown dtype',
        rawFile({ t: { dtype: 'F8', shape: [2], data_offsets: [0, 8] } }, data8),
        /dtype "F8"/,
      ],
      [
        'dtype/shape mismatch',
        rawFile({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data8),
        /spans 8 bytes but dtype F32 x shape \[3\] needs 12/,
      ],
      [
        'out of range',
        rawFile({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data8),
        /outside the data section of 8 bytes/,
      ],
      [
        'overlap',
        rawFile(
          {
            a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
            b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
          },
          data8,
        ),
        /"a" \[0, 8\] and "b" \[4, 8\] overlap/,
      ],
    ];
    for (const [name, bytes, message] of cases) {
      it(`rejects ${name} with BAD_SAFETENSORS, in memory and on disk`, async () => {
        expect(() => decodeSafetensors(bytes, 'mem')).toThrow(message);
        const dir = await mkdtemp(join(tmpdir(), 'st-bad-'));
        const path = join(dir, 'model.safetensors');
        await writeFile(path, bytes);
        await expect(SafetensorsFile.open(path)).rejects.toMatchObject({
          code: 'BAD_SAFETENSORS',
          message: expect.stringContaining(path),
        });
      });
    }
  });

  it('rejects data that does not match its declared shape or dtype when writing', () => {
    expect(() =>
      encodeSafetensors({ t: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }),
    ).toThrow(/needs 3/);
    expect(() =>
      encodeSafetensors({ t: { dtype: 'I32', shape: [2], data: new Float32Array(2) } }),
    ).toThrow(/does not match/);
  });
});
