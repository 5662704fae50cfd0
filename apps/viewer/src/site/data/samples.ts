// Rollout groups: samples.jsonl lines indexed by step and prompt, for the rollouts page.
import type { SampleRecord } from '@atmanrl/runs';

/** The G completions of one prompt at one step, ordered by completion index. */
export interface RolloutGroup {
  step: number;
  promptIndex: number;
  sampleId: string;
  prompt: string;
  gold: string;
  completions: SampleRecord[];
}

/** Groups samples by step, then prompt index (both ascending). */
export function groupRollouts(samples: readonly SampleRecord[]): Map<number, RolloutGroup[]> {
  const byKey = new Map<string, RolloutGroup>();
  for (const s of samples) {
    const key = `${s.step}:${s.promptIndex}:${s.sampleId}`;
    let g = byKey.get(key);
    if (!g) {
      g = {
        step: s.step,
        promptIndex: s.promptIndex,
        sampleId: s.sampleId,
        prompt: s.prompt,
        gold: s.gold,
        completions: [],
      };
      byKey.set(key, g);
    }
    g.completions.push(s);
  }
  const out = new Map<number, RolloutGroup[]>();
  for (const g of [...byKey.values()].sort(
    (a, b) => a.step - b.step || a.promptIndex - b.promptIndex,
  )) {
    g.completions.sort((a, b) => a.completionIndex - b.completionIndex);
    const list = out.get(g.step) ?? [];
    list.push(g);
    out.set(g.step, list);
  }
  return out;
}

/**
 * The group at `step` for the same prompt as `group`: same `sampleId` when the prompt recurs
 * (another epoch), otherwise the same prompt index.
 */
export function matchingGroup(
  groups: Map<number, RolloutGroup[]>,
  step: number,
  group: RolloutGroup,
): { group: RolloutGroup; sameSample: boolean } | null {
  const list = groups.get(step);
  if (!list) return null;
  const same = list.find((g) => g.sampleId === group.sampleId);
  if (same) return { group: same, sameSample: true };
  const byIndex = list.find((g) => g.promptIndex === group.promptIndex);
  return byIndex ? { group: byIndex, sameSample: false } : null;
}

/** True when the group's samples are fixed probe prompts (`probe: true`, same every step). */
export function isProbe(group: RolloutGroup): boolean {
  return group.completions.some((c) => (c as { probe?: unknown }).probe === true);
}

/** Steps (ascending) at which `sampleId` has a group. */
export function sampleSteps(groups: Map<number, RolloutGroup[]>, sampleId: string): number[] {
  return [...groups.entries()]
    .filter(([, list]) => list.some((g) => g.sampleId === sampleId))
    .map(([s]) => s)
    .sort((a, b) => a - b);
}
