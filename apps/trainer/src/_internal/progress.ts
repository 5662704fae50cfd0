// Progress output: a transient bar with ETA on a TTY (generation, saliency fit, update), one
// fixed-format line per step otherwise. Pure formatting here; the CLI's io decides where it goes.
import type { CliIO } from '../cli-core.js';

/** Formats seconds as `1m05s` / `12.3s`. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
}

/** A text bar `[#####-----]`. */
export function bar(done: number, total: number, width = 20): string {
  const f = total <= 0 ? 0 : Math.min(1, Math.max(0, done / total));
  const n = Math.round(f * width);
  return `[${'#'.repeat(n)}${'-'.repeat(width - n)}]`;
}

const fmt = (v: number | null | undefined, digits = 3): string =>
  v === null || v === undefined || !Number.isFinite(v) ? 'nan' : v.toFixed(digits);

/** The fixed-format line printed after every step (stable for scripts and logs). */
export function stepLine(
  step: number,
  total: number,
  m: Record<string, number | null | undefined>,
  seconds: number,
): string {
  const fields: [string, string, number][] = [
    ['reward', 'reward', 3],
    ['acc', 'accuracy', 3],
    ['sal', 'rewards/saliency/mean', 3],
    ['len', 'completions/mean_length', 1],
    ['loss', 'loss', 4],
    ['gnorm', 'grad_norm', 3],
    ['lr', 'learning_rate', 6],
  ];
  const parts = [`step ${step}/${total}`];
  for (const [label, key, digits] of fields)
    if (key in m) parts.push(`${label} ${fmt(m[key], digits)}`);
  parts.push(formatSeconds(seconds));
  return parts.join(' | ');
}

/** Tracks step times for the ETA and renders phase bars on a TTY. */
export class StepProgress {
  private readonly started = performance.now();
  private stepsDone = 0;
  /** The wait last printed (non-TTY): its kind and when. */
  private waiting = { kind: '', at: 0 };

  constructor(
    private readonly io: CliIO,
    private readonly firstStep: number,
    private readonly totalSteps: number,
  ) {}

  /** ETA from the mean time of the steps run in this process. */
  eta(): string {
    if (this.stepsDone === 0) return '?';
    const per = (performance.now() - this.started) / 1000 / this.stepsDone;
    return formatSeconds(per * (this.totalSteps - this.firstStep - this.stepsDone + 1));
  }

  /** Transient bar for one phase of the current step (TTY only). */
  phase(step: number, name: string, done: number, total: number): void {
    this.io.status?.(
      `step ${step}/${this.totalSteps} ${name} ${bar(done, total)} ${done}/${total} | ETA ${this.eta()}`,
    );
  }

  /**
   * A wait of the current step (for `--queue` workers or Redis; null: the wait ended): on a TTY
   * the status line; elsewhere a stderr line when the kind of wait changes (its text without
   * numbers) and every `everyMs` (default 10 s) while it lasts.
   */
  wait(step: number, line: string | null, everyMs = 10_000): void {
    if (line === null) {
      this.waiting = { kind: '', at: 0 };
      return;
    }
    this.io.status?.(`step ${step}/${this.totalSteps} ${line}`);
    if (this.io.isTTY) return;
    const kind = line.replace(/\d+/g, '#');
    const now = performance.now();
    if (kind !== this.waiting.kind || now - this.waiting.at >= everyMs) {
      this.waiting = { kind, at: now };
      this.io.err(`atmanrl: step ${step}: ${line}`);
    }
  }

  /** The permanent line for a finished step. */
  done(step: number, metrics: Record<string, number | null | undefined>, seconds: number): void {
    this.stepsDone++;
    this.io.status?.('');
    this.io.out(stepLine(step, this.totalSteps, metrics, seconds));
  }
}
