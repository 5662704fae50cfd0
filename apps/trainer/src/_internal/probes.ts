// Fixed probe prompts: the first K problems of the test split, answered greedily by the current
// policy at every logged step, with a mask fit each, logged as samples with `probe: true` and a
// stable `sampleId`, so the viewer can compare the same prompts across steps and runs.
import type { Episode } from '@atmanrl/grpo';
import type { LlamaModel, Tokenizer } from '@atmanrl/model';
import type { SampleRecord, WithoutVersion } from '@atmanrl/runs';
import { createSaliencyReward } from '@atmanrl/saliency';
import type { RunConfig } from '../config.js';
import { judgeEpisodes, sampleRecords } from './episode-log.js';
import { saliencyFitOptions } from './run-setup.js';
import { encodePrompt, splitText, type Task, type TaskItem } from './task.js';

/** Logs probes for a run; `record(step)` generates, fits and returns the step's probe records. */
export function createProbes(
  policy: LlamaModel,
  tokenizer: Tokenizer,
  test: Task,
  config: RunConfig,
  withModes: boolean,
): { record(step: number): Promise<WithoutVersion<SampleRecord>[]> } {
  const items = test.items.slice(0, config.probePrompts);
  const promptIds = items.map((it) => encodePrompt(tokenizer, it));
  const saliency = createSaliencyReward<TaskItem>({
    model: policy,
    tokenizer,
    gold: (it) => it.sample.gold,
    split: (text) => splitText(test, text),
    delimiter: test.delimiter,
    direction: config.saliencyDirection,
    fit: saliencyFitOptions(config),
  });
  return {
    async record(step) {
      if (items.length === 0) return [];
      const gens = await policy.generate(promptIds, {
        maxNewTokens: config.maxCompletionLength,
        temperature: 0,
      });
      const { values, info } = await saliency(items, gens, { promptIds });
      const episodes: Episode<TaskItem>[] = gens.map((g, k) => ({
        promptIndex: k,
        generation: 0,
        sample: items[k]!,
        promptIds: promptIds[k]!,
        completionIds: g.tokenIds,
        text: g.text,
        truncated: g.truncated,
        oldLogProbs: null,
        rewards: { saliency: values[k]! },
        rewardInfo: { saliency: info[k] },
        reward: Number.NaN,
        advantage: Number.NaN,
      }));
      const judged = judgeEpisodes(test, tokenizer, episodes, withModes);
      // Probe k gets promptIndex promptsPerStep + k, apart from the batch's prompts.
      return sampleRecords(step, tokenizer, judged).map((r) => ({
        ...r,
        promptIndex: config.promptsPerStep + r.promptIndex,
        probe: true,
      }));
    },
  };
}
