// Bundles the Node side that runs without Electron (CLI, monitor worker, engine and server) into out/node/.
// Run by `npm ci` (prepare), `npm run build:cli` and the tests' globalSetup; bin/portwatch never builds.
// The CLI is three bundles: portwatch.cjs, a small entry that answers --help and --version by itself;
// cli-list.cjs, `list` alone (what people run most and wait for), which loads a fraction of the rest; and
// cli-impl.cjs, every command with the engine and the server. The entry requires one of the two to run a command.
// `node scripts/build-cli.mjs --analyze` also prints what makes up the CLI's bundles.
import { build, analyzeMetafile } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { Script } from 'node:vm';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = {
  absWorkingDir: root,
  outdir: 'out/node',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
};
// koffi loads a native .node binary at run time: it stays in node_modules
const external = ['electron', 'koffi'];

const [all, listOnly] = await Promise.all([
  build({
    ...common,
    entryPoints: {
      portwatch: 'src/main/cli/main.ts',
      'cli-impl': 'src/main/cli/index.ts',
      worker: 'src/main/engine/worker.ts',
      // for the benchmarks and scripts, which run plain JavaScript
      engine: 'src/main/engine/index.ts',
      server: 'src/main/server/index.ts',
    },
    external,
  }),
  build({
    ...common,
    entryPoints: { 'cli-list': 'src/main/cli/list.ts' },
    // `list --source systeminformation` only, and then from node_modules (sources/index.ts imports it lazily)
    external: [...external, 'systeminformation'],
  }),
]);

/**
 * The V8 code cache of a bundle, which main.ts (loadBundle) compiles it from: the bundle's SHA-256, then the
 * data of a vm.Script of it in require()'s wrapper, taken after running its top level once (so what that
 * compiles is in it too). Made by the Node that builds; another Node's V8 rejects it and compiles as usual.
 */
function writeCodeCache(filename) {
  const source = readFileSync(filename);
  const script = new Script(Module.wrap(source.toString('utf8')), { filename });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(filename), module, filename, dirname(filename));
  writeFileSync(`${filename}.v8cache`, Buffer.concat([createHash('sha256').update(source).digest(), script.createCachedData()]));
}

// what went into the list bundle, for test/main/cli/entry.test.ts (which keeps the server, zod, ... out of it)
writeFileSync(join(root, 'out', 'node', 'cli-list.meta.json'), JSON.stringify({ inputs: Object.keys(listOnly.metafile.inputs).sort() }, null, 1) + '\n');
writeCodeCache(join(root, 'out', 'node', 'cli-list.cjs'));

if (process.argv.includes('--analyze')) {
  for (const meta of [listOnly.metafile, all.metafile]) process.stdout.write(await analyzeMetafile(meta));
}
