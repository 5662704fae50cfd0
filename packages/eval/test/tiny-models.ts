// The two tiny models with known behaviour (weights trained by fixtures/gen-tiny-models.mjs and
// committed): 'uses-cot' copies its CoT's result into the answer; 'ignores-cot' copies a hint from
// the prompt and writes a random-noise CoT. Plus the matching evaluation samples.
import { fileURLToPath } from 'node:url';
import { initBackend } from '@atmanrl/attention-mask/node';
import { arithmeticSample, generateArithmeticProblem, type Sample } from '@atmanrl/datasets';
import { type LlamaModel, loadModel } from '@atmanrl/model/node';
// Registers every tfjs gradient (the mask fit needs them); library code leaves this to the caller.
import '@tensorflow/tfjs';

/** Which fixture model. */
export type Behaviour = 'uses-cot' | 'ignores-cot';

/** Problem options used for training (must match gen-tiny-models.mjs). */
export const PROBLEM = { steps: 1, min: 1, max: 4, operations: ['+' as const] };

/** Backend for tests: wasm unless ATMANRL_BACKEND says otherwise. */
export async function setUpBackend(): Promise<void> {
  await initBackend({
    prefer: (process.env['ATMANRL_BACKEND'] as 'cpu' | 'wasm' | undefined) ?? 'wasm',
  });
}

/** Loads a fixture model (tokenizer included). */
export function loadTinyModel(behaviour: Behaviour): Promise<LlamaModel> {
  return loadModel(fileURLToPath(new URL(`./fixtures/model-${behaviour}/`, import.meta.url)));
}

/** Evaluation samples for a behaviour (seed-2 stream; the task has only 16 distinct problems). */
export function tinySamples(behaviour: Behaviour, count: number): Sample[] {
  const hint = behaviour === 'uses-cot' ? 'none' : 'stated';
  return Array.from({ length: count }, (_, i) =>
    arithmeticSample(generateArithmeticProblem(2, i, { ...PROBLEM, hint })),
  );
}

/** Prompt encoder for the fixtures: plain `Q: ...=? A:` text with BOS (no chat template). */
export function encodePlainPrompt(model: LlamaModel): (s: Sample) => number[] {
  const tok = model.tokenizer!;
  return (s) => tok.encode((s.meta as { promptText: string }).promptText);
}
