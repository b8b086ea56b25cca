import { existsSync, readFileSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundlePath, esmBundlePath, NOT_BUILT } from '../engine/bundles';
import { notInCi } from './top/ciEnv';
import { quickAnswer } from './help';

/**
 * Process entry for bin/portwatch (out/node/portwatch.cjs): real stdio, signals, exit codes. It is small on
 * purpose: help, --version and unknown commands are answered from help.ts alone, and a command's bundle is
 * loaded only to run it: out/node/cli-list.cjs (list.ts: the sources and the table, a few hundred KB) for
 * `list`, out/node/cli-top.mjs (top/index.ts, with Ink: an ES module, import()ed) for `top`, out/node/cli-impl.cjs
 * (index.ts: every command with the engine and the server, megabytes) otherwise.
 */

// `portwatch list | head`: the reader went away; that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

/** The installed package's version (this bundle sits in <root>/out/node). */
function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Loads a bundle beside this file (built by scripts/build-cli.mjs; a path computed at run time, which esbuild
 * leaves alone, so it stays a bundle of its own) as require() would, but, when the build wrote its V8 code
 * cache beside it (`<bundle>.v8cache`: the bundle's CRC-32, 4 bytes little-endian, then V8's cached data),
 * compiled from that: parsing and compiling the bundle is then mostly skipped. V8 itself rejects data from
 * another V8 version or other flags and then simply compiles; the checksum makes sure the data is this very
 * bundle's (V8 checks only the source's length). A CRC and not a SHA-256: node:crypto takes some 10 ms to
 * load, a tenth of Node's start, and the file is no adversary's (whoever may write it may write the bundle).
 * Nothing is ever written here: no cache, no build at run time.
 */
function loadBundle(filename: string): unknown {
  const load = createRequire(filename);
  // required here, not at the top: --help and --version need neither
  const { crc32 } = load('node:zlib') as typeof import('node:zlib');
  const { Script } = load('node:vm') as typeof import('node:vm');
  let cache: Buffer;
  let source: Buffer;
  try {
    cache = readFileSync(`${filename}.v8cache`);
    source = readFileSync(filename);
  } catch {
    return load(filename);
  }
  // zlib.crc32 is Node 20.15's: the engines field asks for 20.19, but a cache unchecked is never used
  if (typeof crc32 !== 'function' || cache.length < 4 || crc32(source) !== cache.readUInt32LE(0)) return load(filename);
  // the same wrapper as require()'s, and as the build's when it made the cache
  const script = new Script(wrap(source.toString('utf8')), { filename, cachedData: cache.subarray(4) });
  const module = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, load, module, filename, __dirname);
  return module.exports;
}

const argv = process.argv.slice(2);
const answer = quickAnswer(argv, version);
// `top` is an ES module (Ink): import()ed for `top` alone, so nothing else pays for it
const bundle = argv[0] === 'top' ? esmBundlePath('cli-top') : bundlePath(argv[0] === 'list' ? 'cli-list' : 'cli-impl');
if (answer) {
  process.stdout.write(answer.out);
  process.stderr.write(answer.err);
  process.exitCode = answer.code;
} else if (!existsSync(bundle)) {
  // nothing builds at run time: bin/portwatch says the same of this entry
  process.stderr.write(`portwatch: ${NOT_BUILT} (${bundle} is missing)\n`);
  process.exitCode = 1;
} else {
  const interrupted = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  const io = {
    // as watchLines.useColour decides (inlined: this entry stays free of the commands' code)
    colour: process.stdout.isTTY === true && (process.env.NO_COLOR ?? '') === '',
    out: (t: string): boolean => process.stdout.write(t),
    err: (t: string): boolean => process.stderr.write(t),
    interrupted,
  };
  const run =
    argv[0] === 'list'
      ? (loadBundle(bundle) as typeof import('./list')).runList(argv.slice(1), io)
      : argv[0] === 'top'
        ? (notInCi(), import(pathToFileURL(bundle).href) as Promise<typeof import('./top/index')>).then((m) => m.runTop(argv.slice(1), io))
        : (createRequire(__filename)(bundle) as typeof import('./index')).runCli(argv, io);
  void run.then((code) => {
    process.exitCode = code;
    // stdout may still be draining into a pipe: let it, then leave.
    process.stdout.write('', () => process.exit(code));
  });
}
