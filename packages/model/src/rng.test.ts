import { describe, expect, it } from 'vitest';
import { createRng } from './rng.js';

describe('createRng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(xs);
  });

  it('resumes exactly from a JSON-serialised state', () => {
    const a = createRng(7);
    for (let i = 0; i < 10; i++) a.next();
    const saved = JSON.parse(JSON.stringify(a.state()));
    const rest = Array.from({ length: 8 }, () => a.next());
    const b = createRng(saved);
    expect(Array.from({ length: 8 }, () => b.next())).toEqual(rest);
  });

  it('has uniform and normal moments close to theory', () => {
    const r = createRng(1);
    const n = 20000;
    let s = 0;
    let s2 = 0;
    let u = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
      u += r.next();
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.04);
    expect(Math.abs(u / n - 0.5)).toBeLessThan(0.01);
    const ints = new Set(Array.from({ length: 200 }, () => r.nextInt(5)));
    expect([...ints].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('rejects bad seeds and states', () => {
    expect(() => createRng(1.5)).toThrow(/integer/);
    expect(() => createRng({ algorithm: 'xoshiro128**', s: [0, 0, 0, 0] })).toThrow(/malformed/);
  });
});
