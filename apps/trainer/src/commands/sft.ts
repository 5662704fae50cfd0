// `atmanrl sft`: supervised fine-tuning on the synthetic task's step-by-step CoT, from scratch
// (`--model scratch`, a new Llama with the tiny byte tokenizer) or from a model folder. This is
// how the embedded default model is made (see the README for the exact command and seed).
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createCursor, nextBatch } from '@atmanrl/datasets';
import {
  createRandomModel,
  createTinyTokenizer,
  type LlamaModel,
  saveModel,
  TINY_VOCAB_SIZE,
} from '@atmanrl/model/node';
import { greedyAccuracy } from '../_internal/accuracy.js';
import { loadPolicy, type ModelSource } from '../_internal/model-source.js';
import { StepProgress } from '../_internal/progress.js';
import { createRun, setUpBackend } from '../_internal/run-setup.js';
import { type SftExample, SftTrainer, sftExample } from '../_internal/sft.js';
import { loadTask } from '../_internal/task.js';
import type { CommandDef } from '../cli-core.js';
import { UsageError } from '../errors.js';

/**
 * Refuses to overwrite an existing, non-empty `--out` folder unless `--force` is given (a file
 * there is always refused). Returns true when an existing folder will be replaced.
 */
export function checkOutFolder(out: string, force: boolean): boolean {
  if (!existsSync(out)) return false;
  if (!statSync(out).isDirectory()) {
    throw new UsageError(
      'OUTPUT_EXISTS',
      `--out ${out} is a file, not a folder. Pass a new folder for the fine-tuned model.`,
    );
  }
  if (readdirSync(out).length === 0) return false;
  if (!force) {
    throw new UsageError(
      'OUTPUT_EXISTS',
      `--out ${out} already exists and is not empty (it may hold another model). Pass a new folder, or --force to replace it.`,
    );
  }
  return true;
}

/** Saves into a temp sibling and swaps it in, so a failed save never leaves a half-replaced model. */
async function saveReplacing(model: LlamaModel, out: string, replace: boolean): Promise<void> {
  if (!replace) {
    await saveModel(model, out);
    return;
  }
  const temp = `${out.replace(/\/+$/, '')}.tmp-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  try {
    await saveModel(model, temp);
    rmSync(out, { recursive: true, force: true });
    renameSync(temp, out);
  } catch (e) {
    rmSync(temp, { recursive: true, force: true });
    throw e;
  }
}

/** The `sft` command. */
export const sftCommand: CommandDef = {
  description:
    'supervised fine-tuning on the synthetic arithmetic CoT task (creates the default model)',
  defaults: { model: 'scratch', maxSteps: 1, runName: 'sft', evalLimit: 200 },
  async run(config, io) {
    if (config.out === null)
      throw new UsageError(
        'BAD_CONFIG',
        '--out <folder> is required: where to save the fine-tuned model (Hugging Face layout)',
      );
    if (config.dataset !== 'synthetic') {
      throw new UsageError(
        'BAD_CONFIG',
        '--dataset: sft trains on the synthetic task only (its reference CoTs are generated); GSM8K/MMLU SFT is not implemented',
      );
    }
    const replaceOut = checkOutFolder(config.out, config.force);
    const backend = await setUpBackend(config, io);
    let model: LlamaModel;
    let source: ModelSource | null = null;
    if (config.model === 'scratch') {
      const tokenizer = createTinyTokenizer();
      model = createRandomModel(
        {
          vocab_size: TINY_VOCAB_SIZE,
          hidden_size: config.hiddenSize,
          intermediate_size: config.intermediateSize,
          num_hidden_layers: config.numLayers,
          num_attention_heads: config.numHeads,
          num_key_value_heads: config.numKvHeads,
          max_position_embeddings: 256,
          rope_theta: 10000,
          tie_word_embeddings: true,
          bos_token_id: tokenizer.bosTokenId,
          eos_token_id: tokenizer.eosTokenIds,
        },
        config.seed,
        { tokenizer },
      );
    } else {
      ({ model, source } = await loadPolicy(config.model, {
        needsChatTemplate: false,
        revision: config.revision,
        io,
      }));
    }
    const tokenizer = model.tokenizer!;
    const train = await loadTask({ ...config, limit: config.sftExamples }, 'train');
    const test = await loadTask({ ...config, limit: config.evalLimit }, 'test');
    const examples: SftExample[] = train.items.map((it) =>
      sftExample(tokenizer, it.promptText!, it.referenceCompletion!),
    );
    const stepsPerEpoch = Math.floor(examples.length / config.sftBatchSize);
    const totalSteps = stepsPerEpoch * config.sftEpochs;
    const run = createRun(
      { ...config, runName: config.runName ?? 'sft' },
      'sft',
      backend,
      totalSteps,
      source,
    );
    io.out(
      `run: ${run.dir}; ${examples.length} examples, ${totalSteps} steps of ${config.sftBatchSize}`,
    );
    const trainer = new SftTrainer(model, { learningRate: config.sftLearningRate, totalSteps });
    const progress = new StepProgress(io, 1, totalSteps);
    let cursor = createCursor(config.seed);
    try {
      for (let step = 1; step <= totalSteps; step++) {
        const t0 = performance.now();
        const batch = nextBatch(examples, cursor, config.sftBatchSize, { dropLast: true });
        cursor = batch.cursor;
        const { loss, gradNorm, lr } = await trainer.trainStep(batch.items);
        if (!Number.isFinite(loss)) {
          run.setStatus('failed', `non-finite loss at step ${step}`);
          throw new UsageError(
            'NON_FINITE_LOSS',
            `sft step ${step}: loss is ${loss}; lower --sft-learning-rate`,
          );
        }
        const metrics = {
          loss,
          grad_norm: gradNorm,
          learning_rate: lr,
          step_time: (performance.now() - t0) / 1000,
        };
        run.logMetrics(step, metrics);
        if (step % 25 === 0 || step === totalSteps || io.isTTY)
          progress.done(step, metrics, metrics.step_time);
        else progress.phase(step, 'sft', step, totalSteps);
      }
      // Up to --max-completion-length new tokens, as training and eval decode (a fixed 48 cut the
      // modes task's verbose CoTs before their delimiter, under-reporting the strict format).
      const acc = await greedyAccuracy(
        model,
        tokenizer,
        test,
        config.evalLimit,
        config.maxCompletionLength,
      );
      run.logMetrics(totalSteps, {
        'eval/accuracy': acc.accuracy,
        'eval/strict_rate': acc.strictRate,
      });
      await saveReplacing(model, config.out, replaceOut);
      run.setStatus('finished');
      io.out(
        `greedy accuracy on ${config.evalLimit} held-out problems: ${(acc.accuracy * 100).toFixed(1)}% (strict format ${(acc.strictRate * 100).toFixed(1)}%)`,
      );
      for (const e of acc.examples) io.out(`  ${e}`);
      io.out(`saved to ${config.out}`);
    } catch (e) {
      if (run.info.status === 'running') {
        try {
          run.setStatus('failed', (e as Error).message);
        } catch {
          // keep the original error
        }
      }
      throw e;
    } finally {
      run.close();
      trainer.dispose();
      model.dispose();
    }
  },
};
