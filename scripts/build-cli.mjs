// Bundles the Node side that runs without Electron (CLI, monitor worker, engine and server) into out/node/.
// Run by `npm ci` (prepare) and by bin/portwatch when the sources are newer than the bundle.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  absWorkingDir: root,
  entryPoints: {
    portwatch: 'src/main/cli/main.ts',
    worker: 'src/main/engine/worker.ts',
    // for the benchmarks and scripts, which run plain JavaScript
    engine: 'src/main/engine/index.ts',
    server: 'src/main/server/index.ts',
  },
  outdir: 'out/node',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: ['electron'],
  logLevel: 'warning',
});
