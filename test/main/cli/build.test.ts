import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { APP_ENTRIES, appDir, appPath, bundlePath, ESM_NODE_ENTRIES, NODE_ENTRIES, OUT_DIR, type NodeBundle } from '../../../src/main/engine/bundles';
import type { CliRun } from '../../helpers/cli';
import { ROOT } from '../../helpers/paths';

/**
 * One build, its bundles named in src/main/engine/bundles.ts, and nothing built at run time: `npm run build`
 * writes exactly the bundles the module names (each once: the app runs the CLI's worker and helper), and a
 * missing one makes bin/portwatch say "not built" and exit 1, building nothing, `serve`'s web UI included.
 */

const scratch = mkdtempSync(join(tmpdir(), 'portwatch-build-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const nodeBundles = Object.keys(NODE_ENTRIES) as NodeBundle[];

/**
 * A copy of the install globalSetup made (test/globalSetup.ts installForEveryone): bin, out and package.json
 * copied, so a test may take a bundle away; node_modules linked package by package, so one may be added.
 */
function copyInstall(name: string): string {
  const from = inject('portwatchInstall');
  const dir = join(scratch, name);
  for (const part of ['bin', 'out', 'package.json']) cpSync(join(from, part), join(dir, part), { recursive: true });
  mkdirSync(join(dir, 'node_modules'));
  if (existsSync(join(from, 'node_modules'))) {
    for (const pkg of readdirSync(join(from, 'node_modules'))) symlinkSync(join(from, 'node_modules', pkg), join(dir, 'node_modules', pkg));
  }
  return dir;
}

function run(dir: string, args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(dir, 'bin', 'portwatch'), ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number | string }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

describe('the build', () => {
  it('bundles.ts finds out/ from its sources as from a bundle', () => {
    expect(OUT_DIR).toBe(join(ROOT, 'out'));
    expect(bundlePath('worker', '/opt/portwatch/out')).toBe('/opt/portwatch/out/node/worker.cjs');
  });

  it('`npm run build` writes every bundle bundles.ts names, each once, and nothing else', () => {
    // a checkout of its own: this build's out/ is the one bundles.ts finds there
    const checkout = join(scratch, 'checkout');
    mkdirSync(checkout);
    for (const part of [
      'src',
      'scripts',
      'package.json',
      'electron.vite.config.ts',
      'tsconfig.json',
      'tsconfig.base.json',
      'tsconfig.node.json',
      'tsconfig.web.json',
      'tsconfig.e2e.json',
    ]) {
      cpSync(join(ROOT, part), join(checkout, part), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
    execFileSync('npm', ['run', 'build'], { cwd: checkout, stdio: ['ignore', 'ignore', 'pipe'] });
    const out = join(checkout, 'out');

    // out/node: the Node bundles (with their source maps), the list bundle's code cache and what went into it
    const expected = nodeBundles.flatMap((b) => [`${b}.cjs`, `${b}.cjs.map`]);
    expected.push('cli-list.cjs.v8cache', 'cli-list.meta.json');
    for (const b of Object.keys(ESM_NODE_ENTRIES)) expected.push(`${b}.mjs`, `${b}.mjs.map`);
    expect(readdirSync(dirname(bundlePath('worker', out))).sort()).toEqual(expected.sort());
    // the Electron app's: main and preload one file each (no second worker, no helper, no chunks), the renderer
    for (const app of ['main', 'preload'] as const) expect(readdirSync(appDir(app, out)), app).toEqual([APP_ENTRIES[app].file]);
    expect(existsSync(appPath('renderer', out))).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['main', 'node', 'preload', 'renderer']);
  }, 120_000);
});

describe('nothing builds at run time', () => {
  it('bin/portwatch without its entry bundle says "not built" and exits 1', async () => {
    const dir = copyInstall('no-entry');
    rmSync(bundlePath('portwatch', join(dir, 'out')));
    const r = await run(dir, ['--help']);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `portwatch: not built: run npm run build (${bundlePath('portwatch', join(dir, 'out'))} is missing)\n` });
    expect(existsSync(bundlePath('portwatch', join(dir, 'out')))).toBe(false);
  });

  it('a command whose bundle is missing says "not built", names it and exits 1: list\'s, the others\', the worker', async () => {
    const cases: Array<[NodeBundle, string[]]> = [
      ['cli-list', ['list']],
      ['cli-impl', ['audit']],
      ['worker', ['watch']],
      ['worker', ['serve', '--port', '0']],
    ];
    for (const [bundle, args] of cases) {
      const dir = copyInstall(`no-${bundle}-${args[0]}`);
      const file = bundlePath(bundle, join(dir, 'out'));
      rmSync(file);
      const r = await run(dir, args);
      expect(r, args.join(' ')).toEqual({ code: 1, stdout: '', stderr: `portwatch: not built: run npm run build (${file} is missing)\n` });
      expect(existsSync(file)).toBe(false);
    }
    // the help needs no command's bundle
    const dir = copyInstall('help-only');
    for (const bundle of nodeBundles.filter((b) => b !== 'portwatch')) rmSync(bundlePath(bundle, join(dir, 'out')));
    expect(await run(dir, ['--help'])).toMatchObject({ code: 0, stderr: '' });
  }, 60_000);

  it('serve without a built web UI is a clear error, and neither builds it nor leaves anything behind', async () => {
    const dir = copyInstall('no-renderer');
    const renderer = appDir('renderer', join(dir, 'out'));
    rmSync(renderer, { recursive: true });
    // an electron-vite that would say so if it ran
    const marker = join(dir, 'electron-vite-ran');
    mkdirSync(join(dir, 'node_modules', 'electron-vite', 'bin'), { recursive: true });
    writeFileSync(
      join(dir, 'node_modules', 'electron-vite', 'package.json'),
      JSON.stringify({ name: 'electron-vite', version: '0.0.0', bin: 'bin/electron-vite.js' }),
    );
    writeFileSync(join(dir, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, '');\n`);
    const tokenFile = join(dir, 'token');

    const r = await run(dir, ['serve', '--port', '0', '--token-file', tokenFile]);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `portwatch: not built: run npm run build (${appPath('renderer', join(dir, 'out'))} is missing)\n` });
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(renderer)).toBe(false);
    expect(existsSync(tokenFile)).toBe(false);
  });
});
