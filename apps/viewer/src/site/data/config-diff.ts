// Config comparison for the runs list: flatten nested run configs to dotted keys and keep the
// keys whose values differ between the selected runs.

/** Flattens nested plain objects to `a.b.c` keys; arrays and scalars are leaves. */
export function flattenConfig(value: unknown, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix !== '') out[prefix] = {};
    for (const [k, v] of entries)
      Object.assign(out, flattenConfig(v, prefix ? `${prefix}.${k}` : k));
  } else if (prefix !== '') {
    out[prefix] = value;
  }
  return out;
}

/** One row of a config diff: a key and each run's value rendered as text (`—` when absent). */
export interface ConfigDiffRow {
  key: string;
  values: string[];
}

/** Renders a config value for display (`—` = the key is absent). */
export function formatConfigValue(value: unknown): string {
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Rows for every key whose value differs between `configs` (absent counts as a value), sorted by
 * key. Also returns how many keys are identical.
 */
export function diffConfigs(configs: readonly unknown[]): { rows: ConfigDiffRow[]; same: number } {
  const flat = configs.map((c) => flattenConfig(c));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const rows: ConfigDiffRow[] = [];
  let same = 0;
  for (const key of keys) {
    // Compare canonical JSON (so "1" and 1 differ); display the friendlier text.
    const canon = flat.map((f) => (key in f ? JSON.stringify(f[key]) : '\u0000absent'));
    if (canon.every((v) => v === canon[0])) same += 1;
    else rows.push({ key, values: flat.map((f) => formatConfigValue(f[key])) });
  }
  return { rows, same };
}
