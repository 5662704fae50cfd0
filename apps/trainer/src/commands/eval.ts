// `atmanrl eval`: accuracy (pass@k) and CoT-faithfulness measurements (@atmanrl/eval) of a model
// on a task split, written as eval/<name>.json in a new run folder and printed as a table.
import { join } from 'node:path';
import { evaluate } from '@atmanrl/eval';
import { evalSamplesPath, writeEvalSamples } from '@atmanrl/runs/node';
import { loadPolicy } from '../_internal/model-source.js';
import { createRun, saliencyFitOptions, setUpBackend } from '../_internal/run-setup.js';
import { loadTask } from '../_internal/task.js';
import type { CommandDef } from '../cli-core.js';

/** The `eval` command. */
export const evalCommand: CommandDef = {
  description: 'accuracy (pass@k) and faithfulness tests of a model on a task split',
  defaults: { split: 'test', runName: 'eval' },
  async run(config, io) {
    const backend = await setUpBackend(config, io);
    const task = await loadTask(config);
    const { model, dir, source } = await loadPolicy(config.model, {
      needsChatTemplate: task.usesChatTemplate,
      trainable: false,
      revision: config.revision,
      io,
    });
    const byId = new Map(task.items.map((it) => [it.sample.id, it]));
    const run = createRun(config, 'eval', backend, undefined, source);
    io.out(`run: ${run.dir}`);
    try {
      const f = config.evalFaithfulness;
      const result = await evaluate(
        model,
        task.items.map((it) => it.sample),
        {
          name: 'eval',
          modelName: dir,
          dataset: { name: task.name, split: config.split },
          seed: config.seed,
          limit: config.evalLimit,
          task,
          encodePrompt: (s) => task.encodePrompt(model.tokenizer!, byId.get(s.id)!),
          maxNewTokens: config.maxCompletionLength,
          numSamples: config.evalSamples,
          passK: [1, config.evalSamples].filter((k, i, a) => a.indexOf(k) === i),
          temperature: config.temperature,
          metrics: {
            earlyAnswering: f,
            addingMistakes: f && task.name === 'synthetic',
            filler: f,
            saliency: f,
            atmanAgreement: f,
          },
          saliencyFit: saliencyFitOptions(config),
          reasoningModes: task.modes ?? false,
          onProgress: (p) => io.status?.(`eval ${p.stage} ${p.done}/${p.total}`),
        },
      );
      run.writeEval('eval', result.report);
      // Every completion beside the report, so its numbers can be recomputed from files alone.
      writeEvalSamples(join(run.dir, evalSamplesPath('eval')), result.samples);
      run.setStatus('finished');
      io.out(result.markdown);
      io.out(`report: ${run.dir}/eval/eval.json (completions: ${evalSamplesPath('eval')})`);
    } catch (e) {
      run.setStatus('failed', (e as Error).message);
      throw e;
    } finally {
      model.dispose();
    }
  },
};
