// A RunSource over the data embedded in a static export's data.js (no fetch, works on file://).
import type { RunSource } from '@atmanrl/runs';
import type { ExportData } from '../../server/export-data.js';

/** Reads run files from an export's embedded {@link ExportData}. */
export function embeddedRunSource(data: ExportData): RunSource {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  return {
    async readText(path) {
      return data.files[path] ?? null;
    },
    async readFrom(path, start) {
      const text = data.files[path];
      if (text === undefined) return null;
      return decoder.decode(encoder.encode(text).slice(start));
    },
    async list(path) {
      return data.dirs[path.replace(/\/+$/, '')] ?? [];
    },
  };
}
