// The wasm guard (issue 22): a failed heap allocation and a failed XNNPACK operator creation become
// named errors instead of silently wrong tensors. The heap is filled with reserved but untouched
// blocks (no resident memory), so the failures are real ones of the tfjs wasm module.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noteWasmPrint, takeXnnFailure } from './_internal/wasm-guard.js';
import { AttentionMaskError } from './errors.js';
import { initBackend } from './node/backend.js';

interface Wasm {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  wasm: { HEAPU8: Uint8Array };
}

describe('wasm guard', () => {
  let backend: Wasm;
  const blocks: tf.TensorInfo[] = [];
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    backend = tf.backend() as unknown as Wasm;
  });
  afterAll(() => {
    for (const b of blocks) backend.disposeData(b.dataId, true);
  });

  it('recognises XNNPACK status lines only', () => {
    expect(noteWasmPrint('hello')).toBe(false);
    expect(takeXnnFailure()).toBeNull();
    expect(
      noteWasmPrint(
        'XNN status for xnn_create_fully_connected_nc_f32 is not successful. Got status 6. Use -c dbg to see XNN logs.',
      ),
    ).toBe(true);
    expect(takeXnnFailure()).toEqual({ fn: 'xnn_create_fully_connected_nc_f32', status: 6 });
    expect(takeXnnFailure()).toBeNull();
  });

  it('turns a failed heap allocation and a failed XNNPACK call into named errors', async () => {
    const a = tf.ones([1, 512]);
    const b = tf.ones([512, 512]); // XNNPACK packs these weights (1 MiB) when the op is created
    // Reserve the heap up to its 4 GiB limit in ever smaller untouched blocks.
    let firstFailure: unknown;
    for (let bytes = 2 ** 31; bytes >= 2 ** 14; bytes /= 2) {
      for (;;) {
        try {
          blocks.push(backend.makeOutput([bytes / 4], 'float32'));
        } catch (error) {
          firstFailure ??= error;
          break;
        }
      }
    }
    expect(firstFailure).toBeInstanceOf(AttentionMaskError);
    expect(firstFailure).toMatchObject({ code: 'BACKEND_OUT_OF_MEMORY' });
    expect((firstFailure as Error).message).toMatch(
      /could not allocate 2147483648 bytes for a \[536870912\] float32 tensor/,
    );
    // Leave room for the [1,512] output, not for the packed weights.
    backend.disposeData(blocks.pop()!.dataId, true);
    const before = tf.memory().numTensors;
    let failure: unknown;
    try {
      tf.matMul(a, b);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(AttentionMaskError);
    expect(failure).toMatchObject({ code: 'BACKEND_OUT_OF_MEMORY' });
    expect((failure as Error).message).toMatch(
      /wasm kernel (BatchMatMul|_FusedMatMul) \(a \[1,512\] float32, b \[512,512\] float32\) failed: XNNPACK xnn_create_fully_connected_nc_f32 returned status 6 \(out of memory\)/,
    );
    expect(tf.memory().numTensors).toBe(before); // the garbage output was discarded
    // With the heap back, the same op is correct.
    for (const blk of blocks.splice(0)) backend.disposeData(blk.dataId, true);
    const y = tf.matMul(a, b);
    expect(Array.from(await y.data()).every((x) => x === 512)).toBe(true);
    tf.dispose([a, b, y]);
  });
});
