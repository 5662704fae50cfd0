// Grouping runs into arms (seeds of one configuration): by a name pattern or by a config key;
// mean ± sample standard deviation across a group; and a colour per group with a line style
// per member, so overlays of many seeds stay readable.
import { RUN_COLORS } from '../components/colors.js';

/** How to group runs. */
export type GroupBy =
  | { kind: 'none' }
  /** By name: the first capture group of `pattern` (or the name with the match removed). */
  | { kind: 'name'; pattern: string }
  | { kind: 'config'; key: string };

/** Default arm pattern: the name without a trailing seed (`-s0`, `_seed1`, `-eval`). */
export const SEED_SUFFIX = '^(.*?)(?:[-_.]s(?:eed)?[-_]?\\d+)?(?:-eval)?$';

/**
 * The group key of a run: its arm name under `by`, or `null` when it is not grouped (no
 * pattern match, key absent). `name` is the run's display name; `config` its resolved config.
 */
export function groupKey(
  by: GroupBy,
  name: string,
  config: Record<string, unknown> | undefined,
): string | null {
  if (by.kind === 'none') return null;
  if (by.kind === 'config') {
    const v = by.key
      .split('.')
      .reduce<unknown>(
        (o, k) =>
          o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined,
        config,
      );
    return v === undefined ? null : `${by.key}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
  }
  let re: RegExp;
  try {
    re = new RegExp(by.pattern);
  } catch {
    return null;
  }
  const m = re.exec(name);
  if (!m) return null;
  const key = m[1] !== undefined ? m[1] : name.replace(m[0], '');
  return key === '' ? null : key;
}

/** Mean and sample standard deviation (n − 1; 0 for one value) of the finite values. */
export function meanSd(values: readonly (number | null | undefined)[]): {
  mean: number;
  sd: number;
  n: number;
} | null {
  const xs = values.filter((v): v is number => v !== null && v !== undefined && Number.isFinite(v));
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd =
    xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  return { mean, sd, n: xs.length };
}

/** Dash patterns of the members of a group (solid first). */
export const DASHES: readonly (number[] | undefined)[] = [
  undefined,
  [6, 3],
  [2, 3],
  [10, 3, 2, 3],
  [1, 2],
];

/** Colour and line style of one run in an overlay. */
export interface SeriesStyle {
  color: string;
  dash: number[] | undefined;
  group: string | null;
}

/**
 * Styles for runs in order: runs of one group share a colour and differ by dash; ungrouped runs
 * each take the next colour, and the dash changes once the palette wraps (so 12 runs never
 * repeat a colour-and-dash pair).
 */
export function seriesStyles(
  keys: readonly (string | null)[],
  /** Member of each run within its group (e.g. the seed's run name): same member, same dash. */
  members?: readonly string[],
): SeriesStyle[] {
  const groupIndex = new Map<string, number>();
  const memberCount = new Map<string, number>();
  const memberDash = new Map<string, number>();
  let slot = 0;
  return keys.map((key, i) => {
    if (key === null) {
      const i = slot++;
      return {
        color: RUN_COLORS[i % RUN_COLORS.length]!,
        dash: DASHES[Math.floor(i / RUN_COLORS.length) % DASHES.length],
        group: null,
      };
    }
    let g = groupIndex.get(key);
    if (g === undefined) {
      g = slot++;
      groupIndex.set(key, g);
    }
    const memberKey = `${key}\u0000${members?.[i] ?? i}`;
    let member = memberDash.get(memberKey);
    if (member === undefined) {
      member = memberCount.get(key) ?? 0;
      memberCount.set(key, member + 1);
      memberDash.set(memberKey, member);
    }
    return {
      color: RUN_COLORS[g % RUN_COLORS.length]!,
      dash: DASHES[member % DASHES.length],
      group: key,
    };
  });
}

/** Group by arm: the run name without its seed suffix. */
export const ARM_BY_NAME: GroupBy = { kind: 'name', pattern: SEED_SUFFIX };
