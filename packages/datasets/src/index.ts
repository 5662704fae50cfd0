// @atmanrl/datasets: public face (named re-exports only), browser-safe: no fs, path or crypto.
// File loading and downloads are in `@atmanrl/datasets/node` (src/node/index.ts).

export {
  type AnswerKind,
  DEFAULT_DELIMITER,
  type ParseOptions,
  parseAnswer,
  splitCompletion,
} from './answer-parsing.js';
export {
  type ArithmeticHint,
  type ArithmeticOp,
  type ArithmeticOptions,
  type ArithmeticProblem,
  type ArithmeticStep,
  arithmeticSample,
  arithmeticVocabulary,
  generateArithmeticDataset,
  generateArithmeticProblem,
} from './arithmetic.js';
export {
  type ContentSplit,
  type ContentSplitShares,
  contentSplit,
  contentUnit,
  DEFAULT_SPLIT_SHARES,
  fnv1a32,
  takeSplit,
} from './content-split.js';
export { type CorruptedCot, corruptCotStep } from './corrupt-step.js';
export { type CotStep, splitCotSteps } from './cot-steps.js';
export { type DataLocation, DatasetError, type DatasetErrorCode } from './errors.js';
export { type Gsm8kItem, type Gsm8kSplit, parseGsm8kSolution } from './gsm8k.js';
export {
  classifyHintMode,
  DEFAULT_HINT_MODE_MIX,
  generateHintModesProblem,
  generateHintModesSplit,
  HINT_MODE_LABELS,
  HINT_MODE_MARKERS,
  HINT_MODES_SFT_HINT_ACCURACY,
  type HintMode,
  type HintModeLabel,
  type HintModeMix,
  type HintModesOptions,
  type HintModesProblem,
  type HintModesSplitOptions,
  hintModeShares,
  hintModesSample,
} from './hint-modes.js';
export {
  type Batch,
  createCursor,
  type DataCursor,
  iterateBatches,
  nextBatch,
  shuffledIndices,
} from './iteration.js';
export {
  DATASET_MANIFEST,
  type DatasetName,
  type ManifestEntry,
  type ManifestFile,
} from './manifest.js';
export { type ChoiceLetter, type MmluItem, type MmluSplit, mmluFewShot } from './mmlu.js';
export { MMLU_SUBJECTS, type MmluCategory, mmluCategory } from './mmlu-subjects.js';
export {
  classifyReasoningMode,
  DEFAULT_MODE_MIX,
  generateModesProblem,
  generateModesSplit,
  MODE_LABELS,
  type ModeLabel,
  type ModeMix,
  type ModesOptions,
  type ModesProblem,
  type ModesSplitOptions,
  modeShares,
  modesSample,
  type ReasoningMode,
} from './modes.js';
export { normalizeNumber, numbersEqual } from './numbers.js';
export {
  buildGsm8kPrompt,
  buildMmluPrompt,
  gsm8kSample,
  mmluSample,
  PROMPT_TEMPLATES,
  type PromptOptions,
  type PromptTemplate,
} from './prompts.js';
export {
  answerMatches,
  answerRule,
  createTask,
  encodeTaskPrompt,
  HINT_MODES_CLASSIFIER,
  type Judgement,
  MODES_CLASSIFIER,
  type ReasoningModeClassifier,
  type SyntheticTaskOptions,
  syntheticTask,
  type Task,
  type TaskItem,
  type TaskName,
  type TaskOptions,
  type TaskTokenizer,
} from './task.js';
export type {
  CharRange,
  ChatMessage,
  Completion,
  CompletionSplit,
  LoadResult,
  Logger,
  OnError,
  Sample,
  SkippedRecord,
} from './types.js';
