// `atmanrl saliency`: fit AtManRL masks for given traces (`--traces file.jsonl`, one
// `{prompt, completion, gold}` per line) or for greedy completions of `--limit` task items, and
// print/save per-token relevance next to AtMan's one-token sweep (Spearman agreement per item).
import { readFileSync } from 'node:fs';
import { writeJsonAtomic } from '@atmanrl/runs/node';
import {
  atmanSaliency,
  fitSaliencyMasks,
  saliencyItemFromSpans,
  saliencyReward,
  spanTokens,
  spearman,
  splitCompletionIds,
} from '@atmanrl/saliency';
import { loadPolicy } from '../_internal/model-source.js';
import { saliencyFitOptions, setUpBackend } from '../_internal/run-setup.js';
import { loadTask, type Task } from '../_internal/task.js';
import type { CommandDef } from '../cli-core.js';
import { UsageError } from '../errors.js';

interface Trace {
  prompt: string;
  completion: string;
  gold: string;
}

function readTraces(path: string): Trace[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(
      'DATA_NOT_FOUND',
      `--traces ${path}: cannot read the file. Give a JSONL file with one {"prompt", "completion", "gold"} object per line.`,
    );
  }
  return text
    .split('\n')
    .map((l, i) => [l, i + 1] as const)
    .filter(([l]) => l.trim() !== '')
    .map(([l, n]) => {
      let v: unknown;
      try {
        v = JSON.parse(l);
      } catch {
        throw new UsageError(
          'DATA_NOT_FOUND',
          `${path}:${n}: not valid JSON. Each line must be {"prompt": "...", "completion": "...", "gold": "..."}.`,
        );
      }
      const t = v as Partial<Trace>;
      if (
        typeof t.prompt !== 'string' ||
        typeof t.completion !== 'string' ||
        typeof t.gold !== 'string'
      ) {
        throw new UsageError(
          'DATA_NOT_FOUND',
          `${path}:${n}: needs string fields "prompt", "completion" and "gold".`,
        );
      }
      return t as Trace;
    });
}

const shade = (r: number): string => {
  // Blue (pushed down) .. plain .. orange (re-enabled), as the viewer's scale; TTY only.
  const c = r >= 0.5 ? 208 : r > 0.15 ? 223 : r < -0.15 ? 111 : 255;
  return `\x1b[48;5;${c}m\x1b[30m`;
};

/** The `saliency` command. */
export const saliencyCommand: CommandDef = {
  description: 'fit AtManRL masks for traces and print per-token relevance (with AtMan agreement)',
  defaults: { split: 'test', limit: 4 },
  async run(config, io) {
    await setUpBackend(config, io);
    const task: Task = await loadTask(config);
    const { model } = await loadPolicy(config.model, {
      needsChatTemplate: task.usesChatTemplate,
      trainable: false,
      revision: config.revision,
      io,
    });
    const tokenizer = model.tokenizer!;
    try {
      let traces: {
        promptIds: number[];
        completionIds: number[];
        completion: string;
        gold: string;
        prompt: string;
      }[];
      if (config.traces !== null) {
        traces = readTraces(config.traces).map((t) => {
          const p = tokenizer.encode(t.prompt, { addSpecialTokens: false });
          return {
            promptIds: tokenizer.bosTokenId === undefined ? p : [tokenizer.bosTokenId, ...p],
            completionIds: tokenizer.encode(t.completion, { addSpecialTokens: false }),
            completion: t.completion,
            gold: t.gold,
            prompt: t.prompt,
          };
        });
      } else {
        const items = task.items.slice(0, config.limit ?? 4);
        const promptIds = items.map((it) => task.encodePrompt(tokenizer, it));
        const gens = await model.generate(promptIds, {
          maxNewTokens: config.maxCompletionLength,
          temperature: 0,
        });
        traces = gens.map((g, i) => ({
          promptIds: promptIds[i]!,
          completionIds: g.tokenIds,
          completion: g.text,
          gold: items[i]!.sample.gold,
          prompt: items[i]!.promptText ?? items[i]!.sample.id,
        }));
      }
      const verdicts = traces.map((t) => task.judge(t.completion, t.gold));
      const splits = traces.map((t, i) =>
        splitCompletionIds(tokenizer, t.completionIds, verdicts[i]!.split),
      );
      const items = traces.map((t, i) =>
        saliencyItemFromSpans(tokenizer, t.promptIds, splits[i]!, t.gold, task.delimiter),
      );
      const fits = await fitSaliencyMasks(model, items, {
        ...saliencyFitOptions(config),
        onStep: (st) => io.status?.(`saliency fit ${st.step}/${config.saliencySteps}`),
      });
      const atman = await atmanSaliency(model, items);
      const report = traces.map((t, i) => {
        const fit = fits[i]!;
        const rho = fit.relevance.length >= 2 ? spearman(fit.relevance, atman[i]!.relevance) : null;
        return {
          prompt: t.prompt,
          completion: t.completion,
          gold: t.gold,
          correct: verdicts[i]!.correct,
          H: fit.h,
          reward: {
            reliance: saliencyReward(fit.h, { c: config.saliencyInit, direction: 'reliance' }),
            paperLiteral: saliencyReward(fit.h, {
              c: config.saliencyInit,
              direction: 'paper-literal',
            }),
          },
          ce: { noBias: fit.ceNoBias, initial: fit.ceInitial, final: fit.ceFinal },
          atmanSpearman: rho,
          tokens: spanTokens(splits[i]!, fit.relevance).map((tok, j) => ({
            ...tok,
            atman: tok.span === 'cot' ? (atman[i]!.relevance[j] ?? null) : null,
          })),
        };
      });
      for (const r of report) {
        io.out(
          `\n${r.prompt}${r.completion}   [gold ${r.gold}, ${r.correct ? 'correct' : 'wrong'}]`,
        );
        io.out(
          `H ${r.H.toFixed(3)} | reward reliance ${r.reward.reliance.toFixed(3)} | CE no-bias ${r.ce.noBias.toFixed(3)} initial ${r.ce.initial.toFixed(3)} fitted ${r.ce.final.toFixed(3)} | AtMan Spearman ${r.atmanSpearman === null ? 'n/a' : r.atmanSpearman.toFixed(2)}`,
        );
        if (io.isTTY) {
          io.out(
            r.tokens
              .map((t) => (t.relevance === null ? t.text : `${shade(t.relevance)}${t.text}\x1b[0m`))
              .join(''),
          );
        } else {
          io.out(
            r.tokens
              .filter((t) => t.span === 'cot')
              .map((t) => `${JSON.stringify(t.text)}:${t.relevance?.toFixed(2)}`)
              .join(' '),
          );
        }
      }
      if (config.out !== null) {
        writeJsonAtomic(config.out, {
          version: 1,
          config: {
            steps: config.saliencySteps,
            lr: config.saliencyLr,
            init: config.saliencyInit,
            scale: config.saliencyScale,
            queries: config.saliencyQueries,
          },
          items: report,
        });
        io.out(`\nsaved per-token relevance to ${config.out}`);
      }
    } finally {
      model.dispose();
    }
  },
};
