// Pilot of issue 29's reward functions on reference completions (decisive.predictions.md,
// addendum): mean truncation, AtMan and length reward per reference mode of 240 modes test
// problems, scored by a given modes policy. Run from apps/trainer (where the packages resolve):
//   cp ../../experiments/decisive/pilot-rewards.mjs . && node pilot-rewards.mjs <model-folder>
import { initBackend } from '@atmanrl/attention-mask/node';
import { generateModesSplit, splitCompletion } from '@atmanrl/datasets';
import { loadModel } from '@atmanrl/model/node';
import { createAtmanReward, createLengthPenalty, createTruncationReward } from '@atmanrl/saliency';

await initBackend({ prefer: 'wasm' });
const model = await loadModel(process.argv[2]);
const tok = model.tokenizer;
const problems = generateModesSplit('test', 2, 240, { guessableFraction: 0.4 });
const split = (t) => splitCompletion(t, { kind: 'number', delimiter: '####' });
const samples = problems.map((p) => ({ gold: String(p.arithmetic.answer) }));
const comps = problems.map((p) => {
  const ids = [...tok.encode(p.completionText, { addSpecialTokens: false }), tok.eosTokenIds[0]];
  return { text: p.completionText, tokenIds: ids };
});
const ctx = {
  promptIds: problems.map((p) => [
    tok.bosTokenId,
    ...tok.encode(p.promptText, { addSpecialTokens: false }),
  ]),
};
const shared = { model, tokenizer: tok, gold: (s) => s.gold, split, delimiter: '####' };
const out = {};
for (const [name, fn] of [
  ['truncation', createTruncationReward(shared)],
  ['atman', createAtmanReward(shared)],
  ['length', createLengthPenalty({ weight: 0.1, maxLength: 96, tokenizer: tok, split })],
]) {
  const t0 = Date.now();
  const { values, info } = await fn(samples, comps, ctx);
  const by = {};
  problems.forEach((p, i) => {
    by[p.mode] = [...(by[p.mode] ?? []), values[i]];
  });
  out[name] = {
    wallMs: Date.now() - t0,
    forwardPassesPerRollout: info[0].cost.forwardPasses,
    byMode: Object.fromEntries(
      Object.entries(by).map(([m, v]) => [
        m,
        { n: v.length, mean: +(v.reduce((a, b) => a + b, 0) / v.length).toFixed(4) },
      ]),
    ),
  };
}
console.log(JSON.stringify(out, null, 1));
