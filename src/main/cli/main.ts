import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { quickAnswer } from './help';

/**
 * Process entry for bin/portwatch (out/node/portwatch.cjs): real stdio, signals, exit codes. It is small on
 * purpose: help, --version and unknown commands are answered from help.ts alone, and the commands' bundle
 * (out/node/cli-impl.cjs: index.ts with the engine, megabytes of JavaScript) is loaded only to run a command.
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

const argv = process.argv.slice(2);
const answer = quickAnswer(argv, version);
if (answer) {
  process.stdout.write(answer.out);
  process.stderr.write(answer.err);
  process.exitCode = answer.code;
} else {
  const interrupted = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  // built beside this file by scripts/build-cli.mjs; a path esbuild leaves alone, so it stays a second bundle
  const { runCli } = createRequire(__filename)(join(__dirname, 'cli-impl.cjs')) as typeof import('./index');
  void runCli(argv, {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    interrupted,
  }).then((code) => {
    process.exitCode = code;
    // stdout may still be draining into a pipe: let it, then leave.
    process.stdout.write('', () => process.exit(code));
  });
}
