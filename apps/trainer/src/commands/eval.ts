// `atmanrl eval`: accuracy (pass@k) and CoT-faithfulness measurements (@atmanrl/eval) of a model
// on a task split, written as eval/<name>.json in a new run folder and printed as a table.
import { initBackend } from '@atmanrl/attention-mask';
import { evaluate } from '@atmanrl/eval';
import { RunWriter } from '@atmanrl/runs/node';
import { loadPolicy } from '../_internal/model-source.js';
import { encodePrompt, loadTask } from '../_internal/task.js';
import { packageVersions } from '../_internal/versions.js';
import type { CommandDef } from '../cli-core.js';

/** The `eval` command. */
export const evalCommand: CommandDef = {
  description: 'accuracy (pass@k) and faithfulness tests of a model on a task split',
  defaults: { split: 'test', runName: 'eval' },
  async run(config, io) {
    const backend = await initBackend(config.backend === 'auto' ? {} : { prefer: config.backend });
    io.out(`backend: ${backend.detail}`);
    const task = await loadTask(config);
    const { model, dir } = await loadPolicy(config.model, {
      needsChatTemplate: task.items[0]?.promptText === null,
      trainable: false,
    });
    const byId = new Map(task.items.map((it) => [it.sample.id, it]));
    const run = RunWriter.create({
      runsDir: config.runsDir,
      command: 'eval',
      name: config.runName ?? 'eval',
      config: config as unknown as Record<string, unknown>,
      seed: config.seed,
      backend: { name: backend.name, detail: backend.detail },
      versions: packageVersions(),
    });
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
          kind: task.kind,
          delimiter: task.delimiter,
          encodePrompt: (s) => encodePrompt(model.tokenizer!, byId.get(s.id)!),
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
          saliencyFit: {
            steps: config.saliencySteps,
            lr: config.saliencyLr,
            betas: [config.saliencyBeta1, config.saliencyBeta2],
            weightDecay: config.saliencyWeightDecay,
            init: config.saliencyInit,
            scale: config.saliencyScale,
            queries: config.saliencyQueries,
          },
          onProgress: (p) => io.status?.(`eval ${p.stage} ${p.done}/${p.total}`),
        },
      );
      run.writeEval('eval', result.report);
      run.setStatus('finished');
      io.out(result.markdown);
      io.out(`report: ${run.dir}/eval/eval.json`);
    } catch (e) {
      run.setStatus('failed', (e as Error).message);
      throw e;
    } finally {
      model.dispose();
    }
  },
};
