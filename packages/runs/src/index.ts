// @atmanrl/runs: the run-directory format (browser-safe entry: schemas, parsing, readers).
// The writer and the file-system source live in `@atmanrl/runs/node`.
export { RunsError, type RunsErrorCode } from './errors.js';
export { evalSamplesPath, parseEvalSamples } from './eval-samples.js';
export {
  type JsonlResult,
  type ParseJsonlOptions,
  parseJsonl,
  type ReadProblem,
  streamJsonl,
} from './jsonl.js';
export {
  followJsonl,
  type LoadedRun,
  listRuns,
  loadRun,
  type ReadRunOptions,
  RUN_FILES,
  type RunSummary,
  type WriterCheck,
  type WriterLock,
} from './reader.js';
export {
  type CheckpointPointer,
  CheckpointPointerSchema,
  type EvalCurve,
  EvalCurveSchema,
  type EvalReport,
  EvalReportSchema,
  type EvalSampleRecord,
  EvalSampleRecordSchema,
  type Machine,
  MachineSchema,
  type MetricsRecord,
  MetricsRecordSchema,
  type RunInfo,
  RunInfoSchema,
  type RunStatus,
  RunStatusSchema,
  type SampleRecord,
  SampleRecordSchema,
  type SampleToken,
  SampleTokenSchema,
  SCHEMA_VERSION,
  type TokenSpan,
  TokenSpanSchema,
  type WithoutVersion,
} from './schemas.js';
export { httpRunSource, type RunSource, type SourceEntry } from './source.js';
export { type RecordLocation, validateRecord } from './validate.js';
