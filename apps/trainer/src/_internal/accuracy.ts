// Greedy accuracy of a model on task items (used by `sft` to report what it produced).
import type { CausalLM, Tokenizer } from '@atmanrl/model';
import type { Task } from './task.js';

/** Greedy-decodes `items` in batches and returns the share judged correct, plus examples. */
export async function greedyAccuracy(
  model: CausalLM,
  tokenizer: Tokenizer,
  task: Task,
  count: number,
  maxNewTokens: number,
  batchSize = 32,
): Promise<{ accuracy: number; strictRate: number; examples: string[] }> {
  const items = task.items.slice(0, count);
  let correct = 0;
  let strict = 0;
  const examples: string[] = [];
  for (let i = 0; i < items.length; i += batchSize) {
    const chunk = items.slice(i, i + batchSize);
    const results = await model.generate(
      chunk.map((it) => task.encodePrompt(tokenizer, it)),
      { maxNewTokens, temperature: 0 },
    );
    results.forEach((r, j) => {
      const item = chunk[j]!;
      const verdict = task.judge(r.text, item.sample.gold);
      if (verdict.correct) correct++;
      if (verdict.split.isStrict) strict++;
      if (examples.length < 3)
        examples.push(`${item.promptText ?? item.sample.id}${r.text}  [gold ${item.sample.gold}]`);
    });
  }
  return {
    accuracy: correct / Math.max(1, items.length),
    strictRate: strict / Math.max(1, items.length),
    examples,
  };
}
