import { runCli } from './index';

/** Process entry for bin/portwatch: real stdio, signals, exit codes. */
const interrupted = new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});

// `portwatch list | head`: the reader went away; that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

void runCli(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  interrupted,
}).then((code) => {
  process.exitCode = code;
  // stdout may still be draining into a pipe: let it, then leave.
  process.stdout.write('', () => process.exit(code));
});
