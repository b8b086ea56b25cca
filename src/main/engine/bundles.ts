import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/*
 * Every bundle the build writes, named once. `npm run build` builds them all: scripts/build-cli.mjs the Node
 * bundles (esbuild, NODE_ENTRIES), electron.vite.config.ts the Electron app's (APP_ENTRIES). Hosts, launchers,
 * the build scripts and the tests find a bundle through these tables and bundlePath/appPath; its file name is
 * written nowhere else (bin/portwatch, plain JavaScript run before anything, names only its entry).
 *
 * The monitor worker and the systeminformation helper never touch Electron, so they are Node bundles only: the
 * CLI, web mode and the Electron app all run out/node/worker.cjs and out/node/si-child.cjs, each built once.
 */

/** The Node bundles: name -> entry (from the repository root). Each is written to out/node/<name>.cjs. */
export const NODE_ENTRIES = {
  /** bin/portwatch's entry: answers --help and --version by itself, loads cli-list or cli-impl for a command. */
  portwatch: 'src/main/cli/main.ts',
  /** `list` alone, what people run most and wait for; with a V8 code cache beside it (`.v8cache`). */
  'cli-list': 'src/main/cli/list.ts',
  /** Every command, with the engine and the server. */
  'cli-impl': 'src/main/cli/index.ts',
  /** The Monitor in a worker thread, which MonitorHost starts (CLI watch and serve, the Electron app). */
  worker: 'src/main/engine/worker.ts',
  /** systeminformation in a killable process (engine/sources/siChild.ts), started by a SiLauncher. */
  'si-child': 'src/main/engine/siChildMain.ts',
  /** The engine and the server as libraries, for the benchmarks and scripts, which run plain JavaScript. */
  engine: 'src/main/engine/index.ts',
  server: 'src/main/server/index.ts',
  /** The connection history (store, tracker, recorder) as a library, for bench/history.mjs. */
  history: 'src/main/engine/history/index.ts',
  /** The history's store in a thread of its own (engine/history/writer.ts), which `record` writes through. */
  'history-writer': 'src/main/engine/history/writerMain.ts',
  /** The History view's reads (api/historyThread.ts) in a thread of their own, so a day's flows never hold a host's event loop. */
  'history-reader': 'src/main/api/historyReaderMain.ts',
} as const;

export type NodeBundle = keyof typeof NODE_ENTRIES;

/**
 * The Node bundles built as ES modules: name -> entry, each written to out/node/<name>.mjs and loaded with
 * import(). `top` uses Ink, which is ESM, and yoga-layout's top-level await cannot be in a CommonJS bundle.
 */
export const ESM_NODE_ENTRIES = {
  /** `portwatch top` (Ink and React): imported by main.ts for `top` alone, so other commands never load it. */
  'cli-top': 'src/main/cli/top/index.ts',
} as const;

export type EsmNodeBundle = keyof typeof ESM_NODE_ENTRIES;

/** Where the Node bundles go, under out/. */
export const NODE_DIR = 'node';

/**
 * The Electron app's bundles (electron-vite): out/<dir>/<name>.js from `entry`; the renderer is an HTML entry,
 * written as out/renderer/index.html with its assets beside it.
 */
export const APP_ENTRIES = {
  main: { dir: 'main', name: 'index', entry: 'src/main/index.ts', file: 'index.js' },
  preload: { dir: 'preload', name: 'index', entry: 'src/preload/index.ts', file: 'index.js' },
  renderer: { dir: 'renderer', name: 'index', entry: 'src/renderer/index.html', file: 'index.html' },
} as const;

export type AppBundle = keyof typeof APP_ENTRIES;

/**
 * out/ of this install. This module runs bundled into a file of out/<dir>/ (each bundle carries its own copy,
 * and __dirname is that bundle's directory), or from its source in src/main/engine (tests).
 */
export const OUT_DIR: string = basename(dirname(__dirname)) === 'out' ? dirname(__dirname) : join(__dirname, '..', '..', '..', 'out');

/** A Node bundle's file: out/node/<name>.cjs. */
export function bundlePath(name: NodeBundle, outDir: string = OUT_DIR): string {
  return join(outDir, NODE_DIR, `${name}.cjs`);
}

/** An ESM Node bundle's file: out/node/<name>.mjs. */
export function esmBundlePath(name: EsmNodeBundle, outDir: string = OUT_DIR): string {
  return join(outDir, NODE_DIR, `${name}.mjs`);
}

/** An Electron app bundle's directory (out/main, out/preload, out/renderer). */
export function appDir(name: AppBundle, outDir: string = OUT_DIR): string {
  return join(outDir, APP_ENTRIES[name].dir);
}

/** An Electron app bundle's file (out/main/index.js, out/preload/index.js, out/renderer/index.html). */
export function appPath(name: AppBundle, outDir: string = OUT_DIR): string {
  return join(appDir(name, outDir), APP_ENTRIES[name].file);
}

/** What to do when a bundle is missing: nothing builds at run time. bin/portwatch says the same. */
export const NOT_BUILT = 'not built: run npm run build';

/** `file` when the build wrote it; otherwise throws an Error that says NOT_BUILT and names the file. */
export function built(file: string): string {
  if (!existsSync(file)) throw new Error(`${NOT_BUILT} (${file} is missing)`);
  return file;
}
