// The machine a run executes on, as recorded in run.json (`machine`, and in each `resumes` entry).
import { cpus } from 'node:os';
import type { Machine } from '../schemas.js';

/** This machine: the model of its first CPU and its core count, from `os.cpus()`. */
export function thisMachine(): Machine {
  const all = cpus();
  return { cpu: all[0]?.model.trim() || 'unknown CPU', cores: Math.max(1, all.length) };
}
