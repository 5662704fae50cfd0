// Shared set-up of the commands: the backend from the config, a new run folder, and the mask-fit
// options from the `saliency*` config keys (method.md §2 defaults) and the token budget.
import { type BackendInfo, initBackend } from '@atmanrl/attention-mask/node';
import { RunWriter } from '@atmanrl/runs/node';
import type { FitSaliencyOptions } from '@atmanrl/saliency';
import type { CliIO } from '../cli-core.js';
import type { RunConfig } from '../config.js';
import type { ModelSource } from './model-source.js';
import { configForRunJson } from './queue/redact.js';
import { packageVersions } from './versions.js';

/** Initialises the configured backend and prints it. */
export async function setUpBackend(
  config: Pick<RunConfig, 'backend'>,
  io: CliIO,
): Promise<BackendInfo> {
  const backend = await initBackend(config.backend === 'auto' ? {} : { prefer: config.backend });
  io.out(`backend: ${backend.detail}`);
  return backend;
}

/**
 * Creates the run folder of a command, recording config, seed, backend, versions and, when
 * `--model` was a Hugging Face Hub id, its source (id, commit hash, file hashes). The `--queue`
 * URL is stored with its password redacted.
 */
export function createRun(
  config: RunConfig,
  command: string,
  backend: BackendInfo,
  totalSteps?: number,
  modelSource?: ModelSource | null,
): RunWriter {
  return RunWriter.create({
    runsDir: config.runsDir,
    command,
    ...(config.runName === null ? {} : { name: config.runName }),
    config: configForRunJson(config),
    seed: config.seed,
    backend: {
      name: backend.name,
      detail: backend.detail,
      ...(backend.adapter ? { adapter: backend.adapter } : {}),
    },
    versions: packageVersions(),
    ...(totalSteps === undefined ? {} : { totalSteps }),
    ...(modelSource == null ? {} : { modelSource }),
  });
}

/** The run-config keys of the mask fit. */
export type SaliencyFitConfig = Pick<
  RunConfig,
  | 'saliencySteps'
  | 'saliencyLr'
  | 'saliencyBeta1'
  | 'saliencyBeta2'
  | 'saliencyWeightDecay'
  | 'saliencyInit'
  | 'saliencyScale'
  | 'saliencyQueries'
  | 'saliencyDiagnostics'
  | 'maxTokensPerMicroBatch'
>;

/**
 * `fitSaliencyMasks` options from the run config; `maxTokensPerMicroBatch` also bounds the fit
 * batches (`maxTokensPerBatch`).
 */
export function saliencyFitOptions(config: SaliencyFitConfig): FitSaliencyOptions {
  return {
    steps: config.saliencySteps,
    lr: config.saliencyLr,
    betas: [config.saliencyBeta1, config.saliencyBeta2],
    weightDecay: config.saliencyWeightDecay,
    init: config.saliencyInit,
    scale: config.saliencyScale,
    queries: config.saliencyQueries,
    // the default (true) is left unset, so a run's fit options read as before
    ...(config.saliencyDiagnostics ? {} : { diagnostics: false }),
    ...(config.maxTokensPerMicroBatch === null
      ? {}
      : { maxTokensPerBatch: config.maxTokensPerMicroBatch }),
  };
}
