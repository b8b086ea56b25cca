import { execFileSync } from 'node:child_process';

/** Builds out/ once (CLI, monitor worker, Electron main, preload, renderer), so tests run what users run. */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build-cli.mjs'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['node_modules/electron-vite/bin/electron-vite.js', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
}
