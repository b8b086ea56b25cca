import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestProject } from 'vitest/node';

const ROOT = join(__dirname, '..');

/**
 * Builds out/ once as `npm run build` does (scripts/build-cli.mjs: the CLI, the monitor worker, the
 * systeminformation helper; electron-vite: Electron main, preload, renderer), so tests run what users run, and
 * installs a copy of the CLI that every user can run (see installForEveryone); removes it at the end.
 */
export default function setup(project: TestProject): () => void {
  execFileSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: ROOT, stdio: 'inherit' });
  execFileSync(process.execPath, ['node_modules/electron-vite/bin/electron-vite.js', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const install = installForEveryone();
  project.provide('portwatchInstall', install);
  return () => rmSync(install, { recursive: true, force: true });
}

/**
 * A copy of what bin/portwatch runs from (the launcher, out/, package.json and the packages the bundles load at
 * run time), in a fresh directory that every user can enter and read, as an installed package is. Tests run the
 * CLI from it, some as user nobody to prove what an unprivileged user sees: nobody cannot reach the checkout
 * itself when it lies under a 0700 directory (a home), and must not be given the checkout to make it pass.
 * Fresh per run: parallel runs in one checkout never share one.
 */
function installForEveryone(): string {
  const dir = mkdtempSync(join(searchableTmp(), 'portwatch-test-'));
  for (const part of ['bin', 'out', 'package.json']) cpSync(join(ROOT, part), join(dir, part), { recursive: true, dereference: true });
  for (const pkg of runtimePackages()) {
    cpSync(join(ROOT, 'node_modules', pkg), join(dir, 'node_modules', pkg), { recursive: true, dereference: true });
  }
  openToAll(dir);
  return dir;
}

/** The temp directory, unless some directory above it is closed to other users: then /tmp. */
function searchableTmp(): string {
  for (let d = tmpdir(); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return '/tmp';
    if (dirname(d) === d) return tmpdir();
  }
}

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

/**
 * The installed packages the bundles in out/node load at run time, with what they depend on: esbuild leaves a
 * literal `require("x")` (an external, or an optional one inside a package) or `createRequire(...)("x")` only for
 * what it did not bundle. Ones not installed (optional native helpers of ws) are skipped, as at run time.
 */
function runtimePackages(): string[] {
  const queue: string[] = [];
  const bundles = join(ROOT, 'out', 'node');
  for (const f of readdirSync(bundles)) {
    if (!f.endsWith('.cjs')) continue;
    const text = readFileSync(join(bundles, f), 'utf8');
    for (const m of text.matchAll(/(?:\brequire|\))\(\s*["']([^"'./][^"']*)["']\s*\)/g)) queue.push(packageOf(m[1] as string));
  }
  const found = new Set<string>();
  for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
    if (found.has(name) || isBuiltin(name)) continue;
    const manifest = join(ROOT, 'node_modules', name, 'package.json');
    if (!existsSync(manifest)) continue;
    found.add(name);
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    queue.push(...Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }));
  }
  return [...found];
}

/** Readable (and where executable, runnable) by every user, whatever umask the checkout was made with. */
function openToAll(path: string): void {
  const mode = statSync(path).mode;
  if (statSync(path).isDirectory()) {
    chmodSync(path, 0o755);
    for (const name of readdirSync(path)) openToAll(join(path, name));
  } else {
    chmodSync(path, (mode & 0o777) | 0o444 | (mode & 0o100 ? 0o111 : 0));
  }
}
