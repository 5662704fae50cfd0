// Where the site reads runs from: the data embedded by a static export (data.js), or the viewer
// server's `/runs/` over HTTP (with live refresh).
import { httpRunSource, type RunSource } from '@atmanrl/runs';
import { EXPORT_GLOBAL, type ExportData } from '../server/export-data.js';
import { embeddedRunSource } from './data/embedded-source.js';
import { listingAwareFetch } from './data/listing-fetch.js';

/** The site's data source. */
export interface SiteSource {
  source: RunSource;
  /** True when served live (poll for new lines); false for static exports. */
  live: boolean;
  /** The exported run's id in a static export. */
  exportedRunId: string | null;
  /** Forgets cached folder listings (before a live refresh). */
  invalidate(): void;
}

/** Picks the embedded export data when present, else the server next to the page. */
export function createSiteSource(): SiteSource {
  const embedded = (globalThis as Record<string, unknown>)[EXPORT_GLOBAL] as ExportData | undefined;
  if (embedded) {
    return {
      source: embeddedRunSource(embedded),
      live: false,
      exportedRunId: embedded.runId,
      invalidate() {},
    };
  }
  const base = new URL('runs/', window.location.href).href;
  const wrapped = listingAwareFetch(base, globalThis.fetch.bind(globalThis));
  return {
    source: httpRunSource(base, { fetch: wrapped.fetch }),
    live: true,
    exportedRunId: null,
    invalidate: wrapped.invalidate,
  };
}
