// Bundles the Node side, everything that runs without Electron, into out/node/: the CLI, the monitor worker and
// the systeminformation helper (which the Electron app runs too: each is built once), the engine and the server.
// The bundles and their entries are named in src/main/engine/bundles.ts (NODE_ENTRIES), read from there.
// Run by `npm run build` (with electron-vite for the app), so by `npm ci` (prepare), and by the tests'
// globalSetup; `npm run build:cli` runs it alone. bin/portwatch never builds.
// The CLI is four bundles: portwatch.cjs, a small entry that answers --help and --version by itself;
// cli-list.cjs, `list` alone (what people run most and wait for), which loads a fraction of the rest;
// cli-top.mjs, `top` with Ink, an ES module that the entry import()s for `top` alone; and cli-impl.cjs,
// every other command with the engine and the server. The entry loads one of them to run a command.
// `node scripts/build-cli.mjs --analyze` also prints what makes up the CLI's bundles.
import { build, analyzeMetafile } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { Script } from 'node:vm';
import { crc32 } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A TypeScript module of the sources, compiled and run as require() would run it from its own path. */
async function loadSource(path) {
  const filename = join(root, path);
  const { outputFiles } = await build({ entryPoints: [filename], bundle: true, platform: 'node', format: 'cjs', write: false, logLevel: 'warning' });
  const module = { exports: {} };
  new Script(Module.wrap(outputFiles[0].text), { filename })
    .runInThisContext()
    .call(module.exports, module.exports, createRequire(filename), module, filename, dirname(filename));
  return module.exports;
}
const { NODE_ENTRIES, ESM_NODE_ENTRIES, NODE_DIR, OUT_DIR, bundlePath } = await loadSource('src/main/engine/bundles.ts');

const common = {
  absWorkingDir: root,
  outdir: join(OUT_DIR, NODE_DIR),
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
};
// koffi and libsql load a native .node binary at run time: they stay in node_modules
const external = ['electron', 'koffi', 'libsql'];

const { 'cli-list': listEntry, ...entries } = NODE_ENTRIES;
const [all, esm, listOnly] = await Promise.all([
  build({ ...common, entryPoints: entries, external }),
  // `top` (Ink, ESM with yoga-layout's top-level await): an ES module, out/node/cli-top.mjs. What the
  // engine's modules take from CommonJS (__dirname in bundles.ts, require of a package) is defined for it.
  build({
    ...common,
    entryPoints: ESM_NODE_ENTRIES,
    format: 'esm',
    outExtension: { '.js': '.mjs' },
    external,
    // Ink loads react-devtools-core only with DEV=true; it is not installed, and is never loaded: a stub
    plugins: [
      {
        name: 'no-devtools',
        setup(b) {
          b.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: 'react-devtools-core', namespace: 'stub' }));
          b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export default { initialize() {}, connectToDevTools() {} };' }));
        },
      },
    ],
    // React's production build (the development one checks and warns at every render)
    define: { 'process.env.NODE_ENV': '"production"' },
    banner: {
      js: "import { createRequire as __pwCreateRequire } from 'node:module'; import { fileURLToPath as __pwPath } from 'node:url'; import { dirname as __pwDirname } from 'node:path'; const require = __pwCreateRequire(import.meta.url); const __filename = __pwPath(import.meta.url); const __dirname = __pwDirname(__filename);",
    },
  }),
  build({
    ...common,
    entryPoints: { 'cli-list': listEntry },
    // `list --source systeminformation` only, and then from node_modules (sources/index.ts imports it lazily)
    external: [...external, 'systeminformation'],
  }),
]);

/**
 * The V8 code cache of a bundle, which main.ts (loadBundle) compiles it from: the bundle's CRC-32 (4 bytes,
 * little-endian), then the data of a vm.Script of it in require()'s wrapper, taken after running its top level
 * once (so what that compiles is in it too). Made by the Node that builds; another Node's V8 rejects it and
 * compiles as usual.
 */
function writeCodeCache(filename) {
  const source = readFileSync(filename);
  const script = new Script(Module.wrap(source.toString('utf8')), { filename });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(filename), module, filename, dirname(filename));
  const sum = Buffer.alloc(4);
  sum.writeUInt32LE(crc32(source));
  writeFileSync(`${filename}.v8cache`, Buffer.concat([sum, script.createCachedData()]));
}

// what went into the list bundle, for test/main/cli/entry.test.ts (which keeps the server, zod, ... out of it)
const list = bundlePath('cli-list');
writeFileSync(list.replace(/\.cjs$/, '.meta.json'), JSON.stringify({ inputs: Object.keys(listOnly.metafile.inputs).sort() }, null, 1) + '\n');
writeCodeCache(list);

// what an earlier build wrote that this one did not (a bundle since renamed or removed) goes: out/node holds
// exactly NODE_ENTRIES' bundles. Only stale files are removed, never the directory: a test run may be reading it.
const written = new Set([all, listOnly, esm].flatMap((r) => Object.keys(r.metafile.outputs).map((f) => join(root, f))));
written.add(`${list}.v8cache`).add(list.replace(/\.cjs$/, '.meta.json'));
for (const f of readdirSync(common.outdir)) if (!written.has(join(common.outdir, f))) rmSync(join(common.outdir, f), { recursive: true, force: true });

if (process.argv.includes('--analyze')) {
  for (const meta of [listOnly.metafile, all.metafile]) process.stdout.write(await analyzeMetafile(meta));
}
