// The evaluation report record (EvalReportSchema of @atmanrl/runs) and its Markdown summary.
import { type EvalCurve, type EvalReport, EvalReportSchema, SCHEMA_VERSION } from '@atmanrl/runs';
import { EvaluationError } from './errors.js';

/** Input of {@link buildEvalReport}. */
export interface BuildReportInput {
  name: string;
  model: string;
  dataset: { name: string; split: string; limit?: number; seed: number };
  step?: number;
  /** Scalar results; non-finite values are stored as null. */
  summary: Record<string, number | null>;
  curves: EvalCurve[];
  items?: unknown[];
  /** ISO time (default now). */
  createdAt?: string;
}

/**
 * Builds an evaluation report and validates it against `EvalReportSchema`.
 * @throws EvaluationError `BAD_REPORT` when the result does not validate (names the field)
 */
export function buildEvalReport(input: BuildReportInput): EvalReport {
  const summary: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(input.summary))
    summary[k] = v !== null && Number.isFinite(v) ? v : null;
  const candidate = {
    version: SCHEMA_VERSION,
    name: input.name,
    createdAt: input.createdAt ?? new Date().toISOString(),
    ...(input.step === undefined ? {} : { step: input.step }),
    model: input.model,
    dataset: input.dataset,
    summary,
    curves: input.curves,
    ...(input.items === undefined ? {} : { items: input.items }),
  };
  const parsed = EvalReportSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EvaluationError(
      'BAD_REPORT',
      `buildEvalReport: field ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3);
}

/**
 * A Markdown summary of a report: one table of every summary scalar (with its random baseline
 * in a second column when a `<name>_random` or `<name>_baseline` entry exists) and one table of
 * curve areas.
 */
export function reportMarkdown(report: EvalReport): string {
  const lines: string[] = [];
  lines.push(`## ${report.name}`, '');
  lines.push(
    `Model \`${report.model}\`, dataset ${report.dataset.name}/${report.dataset.split}` +
      `${report.dataset.limit === undefined ? '' : `, limit ${report.dataset.limit}`}, seed ${report.dataset.seed}.`,
    '',
  );
  lines.push('| metric | value | baseline |', '|---|---:|---:|');
  const keys = Object.keys(report.summary);
  for (const k of keys) {
    if (/_(random|baseline)$/.test(k)) continue;
    const base = report.summary[`${k}_random`] ?? report.summary[`${k}_baseline`];
    lines.push(`| ${k} | ${fmt(report.summary[k])} | ${fmt(base)} |`);
  }
  const withArea = report.curves.filter((c) => c.area);
  if (withArea.length > 0) {
    lines.push('', '| curve | area | value | baseline |', '|---|---|---:|---:|');
    for (const c of withArea) {
      lines.push(
        `| ${c.name} | ${c.area?.kind} | ${fmt(c.area?.value)} | ${fmt(c.area?.baseline)} |`,
      );
    }
  }
  return lines.join('\n') + '\n';
}
