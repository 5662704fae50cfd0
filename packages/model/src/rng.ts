// A small seeded random number generator (xoshiro128**, seeded by splitmix32) with a serialisable
// state, so sampling, GRPO and the trainer can resume exactly. Not cryptographic.
import { ModelError } from './errors.js';

/** Serialisable RNG state (plain JSON). */
export interface RngState {
  algorithm: 'xoshiro128**';
  s: [number, number, number, number];
}

/** A seeded random source. */
export interface Rng {
  /** Uniform float in [0, 1) with 32 random bits. */
  next(): number;
  /** Uniform unsigned 32-bit integer. */
  nextUint32(): number;
  /** Uniform integer in [0, n). */
  nextInt(n: number): number;
  /** Standard normal sample (Box-Muller; consumes two uniforms, keeps no spare). */
  normal(): number;
  /** Snapshot of the state; `createRng(state)` continues the same stream. */
  state(): RngState;
}

function splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * Create an RNG from an integer seed or from a saved {@link RngState}.
 * @throws ModelError `BAD_ARGUMENT` for a non-integer seed or a malformed state
 */
export function createRng(seedOrState: number | RngState): Rng {
  let s: [number, number, number, number];
  if (typeof seedOrState === 'number') {
    if (!Number.isInteger(seedOrState)) {
      throw new ModelError('BAD_ARGUMENT', `createRng: seed ${seedOrState} must be an integer`);
    }
    const sm = splitmix32(seedOrState);
    s = [sm(), sm(), sm(), sm()];
  } else {
    const st = seedOrState?.s;
    if (
      seedOrState?.algorithm !== 'xoshiro128**' ||
      !Array.isArray(st) ||
      st.length !== 4 ||
      !st.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32) ||
      st.every((x) => x === 0)
    ) {
      throw new ModelError(
        'BAD_ARGUMENT',
        `createRng: malformed state ${JSON.stringify(seedOrState)}`,
      );
    }
    s = [st[0]!, st[1]!, st[2]!, st[3]!];
  }
  const nextUint32 = (): number => {
    const result =
      Math.imul(((Math.imul(s[1], 5) << 7) | (Math.imul(s[1], 5) >>> 25)) >>> 0, 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] = (s[2] ^ s[0]) >>> 0;
    s[3] = (s[3] ^ s[1]) >>> 0;
    s[1] = (s[1] ^ s[2]) >>> 0;
    s[0] = (s[0] ^ s[3]) >>> 0;
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = ((s[3] << 11) | (s[3] >>> 21)) >>> 0;
    return result;
  };
  const next = (): number => nextUint32() / 2 ** 32;
  return {
    next,
    nextUint32,
    nextInt: (n: number) => Math.floor(next() * n),
    normal: () => {
      const u1 = 1 - next(); // (0, 1]
      const u2 = next();
      return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    },
    state: () => ({ algorithm: 'xoshiro128**', s: [s[0], s[1], s[2], s[3]] }),
  };
}
