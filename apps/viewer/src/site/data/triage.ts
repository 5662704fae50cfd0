// Rollout triage: what each group of G completions holds (how many are correct, how far apart
// their advantages are, which reasoning modes appear, whether the completions differ at all),
// and the prompt picker's sort and filters built on it.
import type { SampleRecord } from '@atmanrl/runs';
import type { RolloutGroup } from './samples.js';

/** Summary of one group for the prompt picker. */
export interface GroupStats {
  correct: number;
  n: number;
  /** Largest minus smallest advantage (0 when the group learned nothing). */
  spread: number;
  /** Modes present, sorted (empty when the task has none). */
  modes: string[];
  /** True when at least two completions differ in text. */
  differ: boolean;
}

/** The sample's mode, when the task defines one. */
export function modeOf(s: SampleRecord): string | null {
  const m = (s as { mode?: unknown }).mode;
  return typeof m === 'string' && m !== '' ? m : null;
}

/** The CoT length in tokens: `cotTokens` when logged, else the tokens in the CoT span. */
export function cotLength(s: SampleRecord): number | null {
  const n = (s as { cotTokens?: unknown }).cotTokens;
  if (typeof n === 'number') return n;
  if (s.tokens.length === 0) return null;
  return s.tokens.filter((t) => t.span === 'cot').length;
}

/** Stats of a group. */
export function groupStats(g: RolloutGroup): GroupStats {
  const adv = g.completions.map((c) => c.advantage).filter((a) => Number.isFinite(a));
  const modes = [
    ...new Set(g.completions.map(modeOf).filter((m): m is string => m !== null)),
  ].sort();
  return {
    correct: g.completions.filter((c) => c.correct).length,
    n: g.completions.length,
    spread: adv.length === 0 ? 0 : Math.max(...adv) - Math.min(...adv),
    modes,
    differ: new Set(g.completions.map((c) => c.completion)).size > 1,
  };
}

/** Orders of the prompt picker. */
export type GroupSort = 'index' | 'spread' | 'correct-asc' | 'correct-desc';

/** Correctness filter: any, some but not all correct, all correct, none correct. */
export type CorrectFilter = 'any' | 'mixed' | 'all' | 'none';

/** Sorts (stable: ties keep the prompt order) and filters groups for the picker. */
export function triageGroups(
  groups: readonly RolloutGroup[],
  opts: { sort: GroupSort; correct: CorrectFilter; mode: string | null },
): RolloutGroup[] {
  const stats = new Map(groups.map((g) => [g, groupStats(g)]));
  const kept = groups.filter((g) => {
    const s = stats.get(g)!;
    if (opts.mode !== null && !s.modes.includes(opts.mode)) return false;
    if (opts.correct === 'mixed') return s.correct > 0 && s.correct < s.n;
    if (opts.correct === 'all') return s.correct === s.n;
    if (opts.correct === 'none') return s.correct === 0;
    return true;
  });
  const key = (g: RolloutGroup): number => {
    const s = stats.get(g)!;
    if (opts.sort === 'spread') return -s.spread;
    if (opts.sort === 'correct-asc') return s.correct;
    if (opts.sort === 'correct-desc') return -s.correct;
    return 0;
  };
  return kept
    .map((g, i) => ({ g, i, k: key(g) }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.g);
}

/**
 * The group a page opens on: the one with the widest advantage spread among groups whose
 * completions differ (a group of G identical completions teaches nothing); the first group when
 * none differs.
 */
export function defaultGroup(groups: readonly RolloutGroup[]): RolloutGroup | null {
  let best: RolloutGroup | null = null;
  let bestSpread = -1;
  for (const g of groups) {
    const s = groupStats(g);
    if (s.differ && s.spread > bestSpread) {
      best = g;
      bestSpread = s.spread;
    }
  }
  return best ?? groups[0] ?? null;
}
