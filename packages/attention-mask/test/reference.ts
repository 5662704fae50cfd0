// Independent float64 reference for tests: plain loops over JS numbers, no tfjs.

export type Arr4 = number[][][][];

export interface RefOptions {
  bias?: number[][]; // [B,Tk]
  queries?: 'all' | { start: number; end: number } | number[][]; // [B,Tq]
  suppress?: number[][]; // [B,Tk]
  suppressShift?: 'all-keys' | 'visible-keys';
  queryOffset?: number;
  keyMask?: number[][]; // [B,Tk]
}

/** q [B,H,Tq,d], k/v [B,Hkv,Tk,d] -> [B,H,Tq,dv], exactly the documented semantics. */
export function refAttention(q: Arr4, k: Arr4, v: Arr4, o: RefOptions = {}): Arr4 {
  const B = q.length;
  const H = q[0]!.length;
  const Tq = q[0]![0]!.length;
  const d = q[0]![0]![0]!.length;
  const Hkv = k[0]!.length;
  const Tk = k[0]![0]!.length;
  const dv = v[0]![0]![0]!.length;
  const offset = o.queryOffset ?? Tk - Tq;
  const out: Arr4 = [];
  for (let b = 0; b < B; b++) {
    const ob: number[][][] = [];
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / (H / Hkv));
      const oh: number[][] = [];
      for (let i = 0; i < Tq; i++) {
        const pos = offset + i;
        const vis = (j: number) => j <= pos && (o.keyMask === undefined || o.keyMask[b]![j]! > 0.5);
        let s: number[] = [];
        for (let j = 0; j < Tk; j++) {
          let dot = 0;
          for (let c = 0; c < d; c++) dot += q[b]![h]![i]![c]! * k[b]![g]![j]![c]!;
          s.push(dot / Math.sqrt(d));
        }
        if (o.suppress !== undefined) {
          const pool = o.suppressShift === 'visible-keys' ? s.filter((_, j) => vis(j)) : s;
          const m = pool.length === 0 ? 0 : Math.min(...pool);
          s = s.map((x, j) => (x - m) * o.suppress![b]![j]!);
        }
        let selected = true;
        const qs = o.queries;
        if (qs !== undefined && qs !== 'all') {
          selected = Array.isArray(qs) ? qs[b]![i]! > 0.5 : pos >= qs.start && pos < qs.end;
        }
        if (o.bias !== undefined && selected) s = s.map((x, j) => x + o.bias![b]![j]!);
        const live = s.map((x, j) => vis(j) && x > Number.NEGATIVE_INFINITY);
        const row = new Array<number>(dv).fill(0);
        if (live.some((x) => x)) {
          const m = Math.max(...s.filter((_, j) => live[j]));
          const e = s.map((x, j) => (live[j] ? Math.exp(x - m) : 0));
          const z = e.reduce((a, c) => a + c, 0);
          for (let j = 0; j < Tk; j++) {
            for (let c = 0; c < dv; c++) row[c]! += (e[j]! / z) * v[b]![g]![j]![c]!;
          }
        }
        oh.push(row);
      }
      ob.push(oh);
    }
    out.push(ob);
  }
  return out;
}
