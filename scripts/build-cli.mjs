// Bundles the Node side that runs without Electron (CLI, monitor worker, engine and server) into out/node/.
// Run by `npm ci` (prepare), `npm run build:cli` and the tests' globalSetup; bin/portwatch never builds.
// The CLI is two bundles: portwatch.cjs, a small entry that answers --help and --version by itself, and
// cli-impl.cjs, the commands with the engine, which the entry requires only to run a command.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  absWorkingDir: root,
  entryPoints: {
    portwatch: 'src/main/cli/main.ts',
    'cli-impl': 'src/main/cli/index.ts',
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
  // koffi loads a native .node binary at run time: it stays in node_modules
  external: ['electron', 'koffi'],
  logLevel: 'warning',
});
