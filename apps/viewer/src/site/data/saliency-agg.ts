// Saliency aggregated over a step's logged rollouts, so "the reasoning became load-bearing" shows
// over training at a glance: the distribution of CoT-token relevance (quantiles), the share of CoT
// tokens the answer needs (relevance > 0), and the mean relevance by token kind and by relative
// position in the CoT. Written as metric records, so the overview's charts draw them.
import type { MetricsRecord, SampleRecord } from '@atmanrl/runs';

/** Kinds of CoT tokens. */
export type TokenKind = 'digits' | 'operators' | 'words' | 'space' | 'other';

/** Number of relative-position bins of the CoT (fifths). */
export const POSITION_BINS = 5;

/** The kind of a token's text: digits, arithmetic operators, letters, whitespace, or other. */
export function tokenKind(text: string): TokenKind {
  const t = text.trim();
  if (t === '') return 'space';
  if (/^\d+$/.test(t)) return 'digits';
  if (/^[-+*/=×÷^%<>()]+$/.test(t)) return 'operators';
  if (/^\p{L}+$/u.test(t)) return 'words';
  return 'other';
}

/** Linear-interpolated quantile of sorted values (q in [0, 1]). */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Metric names of the aggregates, in display order. */
export const SALIENCY_AGG = {
  share: 'cot relevance > 0 (share of tokens)',
  p10: 'cot relevance p10',
  p50: 'cot relevance median',
  p90: 'cot relevance p90',
  mean: 'cot relevance mean',
  kind: (k: TokenKind) => `relevance of ${k}`,
  position: (b: number) =>
    `relevance at ${Math.round((100 * b) / POSITION_BINS)}–${Math.round((100 * (b + 1)) / POSITION_BINS)} % of the CoT`,
} as const;

const mean = (xs: readonly number[]) =>
  xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * One record per logged step: the aggregates over every CoT token (span `cot`, finite relevance)
 * of that step's rollouts. Steps without such tokens are left out.
 */
export function saliencyRecords(samples: readonly SampleRecord[]): MetricsRecord[] {
  const bySteps = new Map<number, SampleRecord[]>();
  for (const s of samples) {
    const list = bySteps.get(s.step);
    if (list) list.push(s);
    else bySteps.set(s.step, [s]);
  }
  const out: MetricsRecord[] = [];
  for (const step of [...bySteps.keys()].sort((a, b) => a - b)) {
    const all: number[] = [];
    const kinds = new Map<TokenKind, number[]>();
    const bins: number[][] = Array.from({ length: POSITION_BINS }, () => []);
    for (const s of bySteps.get(step)!) {
      const cot = s.tokens.filter(
        (t) => t.span === 'cot' && t.relevance !== null && Number.isFinite(t.relevance),
      );
      cot.forEach((t, i) => {
        const r = t.relevance as number;
        all.push(r);
        const k = tokenKind(t.text);
        const list = kinds.get(k);
        if (list) list.push(r);
        else kinds.set(k, [r]);
        bins[Math.min(POSITION_BINS - 1, Math.floor((i / cot.length) * POSITION_BINS))]!.push(r);
      });
    }
    if (all.length === 0) continue;
    const sorted = [...all].sort((a, b) => a - b);
    const metrics: Record<string, number | null> = {
      [SALIENCY_AGG.share]: all.filter((r) => r > 0).length / all.length,
      [SALIENCY_AGG.p10]: quantile(sorted, 0.1),
      [SALIENCY_AGG.p50]: quantile(sorted, 0.5),
      [SALIENCY_AGG.p90]: quantile(sorted, 0.9),
      [SALIENCY_AGG.mean]: mean(all),
    };
    for (const k of ['digits', 'operators', 'words'] as const)
      metrics[SALIENCY_AGG.kind(k)] = mean(kinds.get(k) ?? []);
    bins.forEach((b, i) => {
      metrics[SALIENCY_AGG.position(i)] = mean(b);
    });
    out.push({ version: 1, step, time: '', metrics } as MetricsRecord);
  }
  return out;
}
