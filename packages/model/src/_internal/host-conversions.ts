// Instrumentation of the loader's host memory: float32 bytes it holds converted from a checkpoint
// at once (now and at the peak since the last reset), so a test can check the bound of one block.
// Counts only the loader's own buffers, not the backend's storage of finished tensors.

/** Float32 bytes the loader holds now (`live`) and held at most since {@link resetHostConversions}. */
export const hostConversions = { live: 0, peak: 0 };

/** Zero the peak (and the live count, which is 0 between loads). */
export function resetHostConversions(): void {
  hostConversions.live = 0;
  hostConversions.peak = 0;
}

/** A converted buffer of `bytes` is now held. */
export function holdConverted(bytes: number): void {
  hostConversions.live += bytes;
  hostConversions.peak = Math.max(hostConversions.peak, hostConversions.live);
}

/** A converted buffer of `bytes` is no longer referenced by the loader. */
export function releaseConverted(bytes: number): void {
  hostConversions.live -= bytes;
}
