// A `[D,V]` vocabulary matrix (the embedding table, stored transposed, and an untied LM head) held
// as K column blocks `[D,V_k]` in vocab order: one block unless a device's limit on one buffer
// binding binds (device-limits.ts). Block k holds the checkpoint's rows (token ids)
// `offsets[k] .. offsets[k]+V_k` of the Hugging Face `[V,D]` tensor. The ops that read it (the
// embedding's column gather, the head's products) work block by block here and in
// head-log-probs.ts. Leaves out splitting layer matrices (a typed error in weights.ts instead).
import * as tf from '@tensorflow/tfjs-core';
import { ModelError } from './errors.js';

/**
 * Rows per block when a `[rows, rowElements]` float32 tensor must fit `limitBytes` per block:
 * one block when it fits, else K = ⌈rows / maxRows⌉ blocks of ⌈rows / K⌉ rows, the last one
 * holding the remainder.
 * @param name the tensor, for the error
 * @throws ModelError `DEVICE_LIMIT` when a single row exceeds the limit
 */
export function vocabBlockSizes(
  rows: number,
  rowElements: number,
  limitBytes: number,
  name: string,
): number[] {
  const rowBytes = 4 * rowElements;
  if (rows * rowBytes <= limitBytes) return [rows];
  const maxRows = Math.floor(limitBytes / rowBytes);
  if (maxRows < 1) {
    throw new ModelError(
      'DEVICE_LIMIT',
      `${name}: one row of ${rowBytes} bytes exceeds the device's per-binding limit of ${limitBytes} bytes; use a backend with larger limits (or a larger maxBindingBytes)`,
    );
  }
  const k = Math.ceil(rows / maxRows);
  const per = Math.ceil(rows / k);
  const sizes: number[] = [];
  for (let r = 0; r < rows; r += per) sizes.push(Math.min(per, rows - r));
  return sizes;
}

/**
 * A `[D,V]` matrix stored as vocab blocks `[D,V_k]` (see the file comment). Owns its variables;
 * `dispose()` frees them. `blocks` are what an optimizer updates (they are in
 * `LlamaModel.variables`); with one block, `blocks[0]` is the whole matrix.
 */
export class VocabMatrix {
  /** The blocks `[D,V_k]`, k = 0..K-1, in vocab order. */
  readonly blocks: readonly tf.Variable[];
  /** First vocab id of each block (`offsets[0]` = 0). */
  readonly offsets: readonly number[];
  /** `[D,V]` of the whole matrix. */
  readonly shape: [number, number];

  /**
   * @param blocks rank-2 variables `[D,V_k]` with one D, in vocab order (ownership passes here)
   * @throws ModelError `SHAPE_MISMATCH` for an empty list or blocks of different heights
   */
  constructor(blocks: readonly tf.Variable[]) {
    const d = blocks[0]?.shape[0];
    if (d === undefined || blocks.some((b) => b.rank !== 2 || b.shape[0] !== d)) {
      throw new ModelError(
        'SHAPE_MISMATCH',
        `VocabMatrix: blocks have shapes ${blocks.map((b) => `[${b.shape}]`).join(', ') || '(none)'}; expected one or more [D,V_k] with the same D`,
      );
    }
    const offsets: number[] = [];
    let v = 0;
    for (const b of blocks) {
      offsets.push(v);
      v += b.shape[1]!;
    }
    this.blocks = blocks.slice();
    this.offsets = offsets;
    this.shape = [d, v];
  }

  /** Whether the blocks are trainable. */
  get trainable(): boolean {
    return this.blocks[0]!.trainable;
  }

  /**
   * Overwrite with a whole `[D,V]` value (sliced into the blocks). With more than one block the
   * value itself exceeds the device limit, so this is for small models and tests.
   * @throws ModelError `SHAPE_MISMATCH` for another shape
   */
  assign(value: tf.Tensor): void {
    const [d, v] = this.shape;
    if (value.rank !== 2 || value.shape[0] !== d || value.shape[1] !== v) {
      throw new ModelError(
        'SHAPE_MISMATCH',
        `VocabMatrix.assign: value has shape [${value.shape}], expected [D,V] = [${d},${v}]`,
      );
    }
    if (this.blocks.length === 1) {
      this.blocks[0]!.assign(value);
      return;
    }
    this.blocks.forEach((b, k) => {
      tf.tidy(() => b.assign(tf.slice(value, [0, this.offsets[k]!], [d, b.shape[1]!])));
    });
  }

  /** A copy with the same blocks (tfjs shares memory until a block is assigned). */
  clone(trainable = this.trainable): VocabMatrix {
    return new VocabMatrix(this.blocks.map((b) => tf.variable(b, trainable)));
  }

  /** Free every block. */
  dispose(): void {
    for (const b of this.blocks) b.dispose();
  }
}

/**
 * Columns of a blocked `[D,V]` matrix for ids `[N]` (int32): `[D,N]`, differentiable w.r.t. the
 * blocks. With K blocks, block k gathers the ids inside it (others read column 0, then get
 * multiplied by 0), so each block's gradient is zero outside its own ids. Call in tf.tidy.
 */
export function gatherVocabColumns(
  blocks: readonly tf.Tensor[],
  offsets: readonly number[],
  ids: tf.Tensor1D,
): tf.Tensor2D {
  if (blocks.length === 1) return tf.gather(blocks[0]!, ids, 1) as tf.Tensor2D; // [D,N]
  let sum: tf.Tensor | null = null;
  blocks.forEach((b, k) => {
    const width = b.shape[1]!;
    const local = tf.sub(ids, tf.scalar(offsets[k]!, 'int32')); // [N]
    const inside = tf.logicalAnd(
      tf.greaterEqual(local, tf.scalar(0, 'int32')),
      tf.less(local, tf.scalar(width, 'int32')),
    ); // [N] bool
    const idx = tf.where(inside, local, tf.zerosLike(local)); // [N], in [0, V_k)
    const cols = tf.mul(tf.gather(b, idx, 1), tf.reshape(tf.cast(inside, 'float32'), [1, -1])); // [D,N]
    sum = sum === null ? cols : tf.add(sum, cols);
  });
  return sum! as tf.Tensor2D;
}

/**
 * `x · W` for a blocked `W` `[D,V]`: x `[N,D]` -> `[N,V]` (the blocks' products side by side).
 * `product` is the matMul to use (the attention-mask one, with matmul-friendly gradients).
 */
export function vocabProduct(
  x: tf.Tensor2D,
  blocks: readonly tf.Tensor[],
  product: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
): tf.Tensor2D {
  if (blocks.length === 1) return product(x, blocks[0]!) as tf.Tensor2D; // [N,V]
  return tf.concat(
    blocks.map((b) => product(x, b)),
    1,
  ) as tf.Tensor2D; // [N,V]
}
