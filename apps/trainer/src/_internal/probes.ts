// Fixed probe prompts: the first K problems of the test split, answered greedily by the current
// policy at every logged step, scored by the run's own reward specs (outcome judgement + a mask
// fit each, ungated), logged as samples with `probe: true` and a stable `sampleId`, so the viewer
// can compare the same prompts across steps and runs.
import { episodesFromRollouts, recordRewards, scoreCompletions } from '@atmanrl/grpo';
import type { LlamaModel, Tokenizer } from '@atmanrl/model';
import type { SampleRecord, WithoutVersion } from '@atmanrl/runs';
import type { RunConfig } from '../config.js';
import { sampleRecords } from './episode-log.js';
import { type RewardConfig, rewardSpecs } from './rewards.js';
import type { Task } from './task.js';

/** The run-config keys the probes read. */
export type ProbeConfig = RewardConfig &
  Pick<RunConfig, 'probePrompts' | 'maxCompletionLength' | 'promptsPerStep'>;

/** Logs probes for a run; `record(step)` generates, fits and returns the step's probe records. */
export function createProbes(
  policy: LlamaModel,
  tokenizer: Tokenizer,
  test: Task,
  config: ProbeConfig,
): { record(step: number): Promise<WithoutVersion<SampleRecord>[]> } {
  const items = test.items.slice(0, config.probePrompts);
  const promptIds = items.map((it) => test.encodePrompt(tokenizer, it));
  // Every probe gets a mask fit, whatever the run's saliency reward and gate.
  const specs = rewardSpecs(
    policy,
    tokenizer,
    test,
    { ...config, saliencyReward: true },
    {
      gate: false,
    },
  );
  return {
    async record(step) {
      if (items.length === 0) return [];
      const gens = await policy.generate(promptIds, {
        maxNewTokens: config.maxCompletionLength,
        temperature: 0,
      });
      const episodes = episodesFromRollouts(
        gens.map((g, k) => ({
          promptIndex: k,
          promptIds: promptIds[k]!,
          completionIds: g.tokenIds,
          text: g.text,
          oldLogProbs: null,
          truncated: g.truncated,
        })),
        items,
        1,
      );
      const scored = await scoreCompletions(
        specs,
        items,
        gens.map((g) => ({ text: g.text, tokenIds: g.tokenIds, truncated: g.truncated })),
        { promptIds, completionIds: gens.map((g) => g.tokenIds), groupSize: 1, step },
      );
      recordRewards(episodes, scored);
      // Probe k gets promptIndex promptsPerStep + k, apart from the batch's prompts.
      return sampleRecords(step, tokenizer, episodes, test.modes).map((r) => ({
        ...r,
        promptIndex: config.promptsPerStep + r.promptIndex,
        probe: true,
      }));
    },
  };
}
