// Seeded randomness for the random baselines: permutations drawn from the model package's
// xoshiro128** RNG, so every baseline is reproducible from (seed, item index, stream).
import { createRng } from '@atmanrl/model';

/** murmur3's 32-bit finaliser: a bijective mix of one 32-bit word. */
function mix(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Mixes a seed with stream indices into one 32-bit seed (order-sensitive). */
export function combineSeed(seed: number, ...streams: number[]): number {
  let h = mix((seed + 0x9e3779b9) >>> 0);
  for (const s of streams) h = mix((h ^ mix((s + 0x7f4a7c15) >>> 0)) >>> 0);
  return h | 0;
}

/** A uniformly random permutation of `0..n-1` (Fisher-Yates) determined by `seed`. */
export function seededPermutation(n: number, seed: number): number[] {
  const rng = createRng(seed | 0);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}
