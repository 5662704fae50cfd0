// Key/value cache for incremental decoding: per layer, the rotated keys and the values of every
// position seen so far. Owned by the caller; created by the model; grown by `forward`.
import type * as tf from '@tensorflow/tfjs-core';

/** Opaque past keys/values (contract shared by every CausalLM). */
export interface KVCache {
  /** Number of cached positions (Tpast). */
  readonly length: number;
  /** Free the cached tensors. */
  dispose(): void;
}

/** The Llama cache: per layer keys `[B,Hkv,Tpast,d]` and values `[B,Hkv,Tpast,d]`. */
export class LlamaKVCache implements KVCache {
  /** Per-layer keys (after RoPE), or null while empty. */
  keys: (tf.Tensor4D | null)[];
  /** Per-layer values, or null while empty. */
  values: (tf.Tensor4D | null)[];
  private isDisposed = false;

  /**
   * @param batchSize B
   * @param numLayers L
   */
  constructor(
    readonly batchSize: number,
    numLayers: number,
  ) {
    this.keys = new Array(numLayers).fill(null);
    this.values = new Array(numLayers).fill(null);
  }

  get length(): number {
    return this.keys[0]?.shape[2] ?? 0;
  }

  /** True after {@link dispose}. */
  get disposed(): boolean {
    return this.isDisposed;
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t?.dispose();
    this.keys.fill(null);
    this.values.fill(null);
    this.isDisposed = true;
  }
}
