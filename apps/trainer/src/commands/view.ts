// `atmanrl view [runs-dir]`: serve the viewer on 127.0.0.1 (read-only), or `--export <dir>` one run
// as a static bundle (`atmanrl view runs --export out <run-id>`; the newest run when omitted).
import { listRuns } from '@atmanrl/runs';
import { fsRunSource } from '@atmanrl/runs/node';
import { exportRun, runUrl, startViewerServer, ViewerError } from '@atmanrl/viewer';
import type { CommandDef } from '../cli-core.js';
import { UsageError } from '../errors.js';

/** The `view` command. */
export const viewCommand: CommandDef = {
  description:
    'serve the run viewer for a runs folder (127.0.0.1), or export one run as static files',
  async run(config, io, { positionals }) {
    const runsDir = positionals[0] ?? config.runsDir;
    try {
      if (config.export !== null) {
        let runId = positionals[1];
        if (runId === undefined) {
          // As deep as the viewer searches: a folder of experiments holds runs 4 levels down.
          const runs = await listRuns(fsRunSource(runsDir), '', 8);
          runId = runs[0]?.id;
          if (runId === undefined) {
            throw new UsageError(
              'DATA_NOT_FOUND',
              `no runs in ${runsDir}: nothing to export. Train first (atmanrl demo).`,
            );
          }
        }
        const { indexHtml } = await exportRun({ runsDir, runId, outDir: config.export });
        io.out(
          `exported run ${runId} to ${config.export}; open ${indexHtml} in a browser (no server needed)`,
        );
        return;
      }
      const server = await startViewerServer({ runsDir, port: config.port });
      io.out(`viewer: ${server.url} (serving ${runsDir} read-only; Ctrl+C to stop)`);
      if (positionals[1]) io.out(`run: ${runUrl(server.url, positionals[1])}`);
      await new Promise<void>((resolve) => {
        for (const sig of ['SIGINT', 'SIGTERM'] as const) {
          process.once(sig, () => {
            void server.close().then(resolve);
          });
        }
      });
    } catch (e) {
      if (e instanceof ViewerError) throw new UsageError('DATA_NOT_FOUND', e.message);
      throw e;
    }
  },
};
