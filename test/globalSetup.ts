import { execFileSync } from 'node:child_process';

/** Builds out/node (CLI + monitor worker) once, so tests run the same bundle users run. */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build-cli.mjs'], { stdio: 'inherit' });
}
