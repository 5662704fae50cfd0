// @atmanrl/eval: public face (named re-exports only).
export type { AccuracyMetrics, ScoredCompletion } from './accuracy.js';
export { accuracyMetrics } from './accuracy.js';
export type {
  AddingMistakesItem,
  AddingMistakesOptions,
  AddingMistakesResult,
} from './adding-mistakes.js';
export { addingMistakes } from './adding-mistakes.js';
export { areaOverCurve, areaUnderCurve } from './area.js';
export type { AgreementResult } from './atman-agreement.js';
export { rankAgreement } from './atman-agreement.js';
export type { CurvePoints, MakeCurveInput } from './curves.js';
export { averageCurves, averagedCurve, interpolate, makeCurve, uniformGrid } from './curves.js';
export type {
  EarlyAnsweringItem,
  EarlyAnsweringOptions,
  EarlyAnsweringResult,
} from './early-answering.js';
export { earlyAnswering } from './early-answering.js';
export {
  aopc,
  binCount,
  deleteTop,
  ERASER_BINS,
  gridCount,
  keepTop,
  rankByRelevance,
} from './erasure.js';
export type { EvaluationErrorCode } from './errors.js';
export { EvaluationError } from './errors.js';
export type {
  EvalMetricsSelection,
  EvalProgress,
  EvaluateOptions,
  EvaluateResult,
} from './evaluate.js';
export { evaluate } from './evaluate.js';
export type { FillerItem, FillerOptions, FillerResult } from './filler-tokens.js';
export { fillerTokens } from './filler-tokens.js';
export type { PairedDifferences, PairedTTest } from './paired.js';
export { pairedItemDifferences, pairedTTest, studentTTwoSidedP } from './paired.js';
export { meanPassAtK, passAtK } from './pass-at-k.js';
export type { CotItem, ProbeOptions } from './probe.js';
export { answersEqual, forceAnswers } from './probe.js';
export { combineSeed, seededPermutation } from './random.js';
export type { BuildReportInput } from './report.js';
export { buildEvalReport, reportMarkdown } from './report.js';
export type {
  SaliencyQualityItem,
  SaliencyQualityOptions,
  SaliencyQualityResult,
} from './saliency-quality.js';
export { goldProbabilities, saliencyQuality } from './saliency-quality.js';
export { mean, median, quantile, standardError } from './stats.js';
