import { isMainThread } from 'node:worker_threads';
import si from 'systeminformation';
import { runCommand, type RunResult } from '../runCommand';
import { notStarted, SI_CHILD_FLAG, SI_ERROR_PREFIX, SI_MAX_TIMEOUT_MS, SI_UNTIL_STOPPED_FLAG, type SiJob, type SiLauncher } from '../workerProtocol';

/**
 * systeminformation runs netstat, ss, lsof or ps through a shell, with no timeout, and its children are not
 * ours to kill. So each call runs in a helper process (the si-child bundle, whose entry siChildMain.ts calls
 * runSiChildIfAsked; started with SI_CHILD_FLAG), which at the timeout is killed with every process it started:
 * its shell and whatever tool hung. A poll then fails with a clear message, and nothing is left behind. Who
 * starts the helper is a SiLauncher: in plain Node a child in a process group of its own (processGroupLauncher);
 * under Electron the main process, on utilityProcess (electron/siLauncher), since the Electron binary is no Node
 * once the RunAsNode fuse is off.
 */
export { SI_CHILD_FLAG, type SiJob, type SiLauncher };

/**
 * The helper's side: runs one job and prints its result as one line of JSON. A failure goes to stderr, or, for
 * a launcher that reads only the answer line (SI_UNTIL_STOPPED_FLAG), onto that line after SI_ERROR_PREFIX.
 * Resolves once the output is written, with the exit code.
 */
export async function siChildMain(job: string | undefined, answerLine = false): Promise<number> {
  try {
    let result: unknown;
    if (job === 'connections') result = await si.networkConnections();
    else if (job === 'processes') result = await si.processes();
    else throw new Error(`unknown job '${String(job)}'`);
    await write(process.stdout, `${JSON.stringify(result)}\n`);
    return 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (answerLine) await write(process.stdout, `${SI_ERROR_PREFIX}${message.replace(/\s+/g, ' ')}\n`);
    else await write(process.stderr, message);
    return 1;
  }
}

/**
 * Runs the helper when this process was started as one: SI_CHILD_FLAG then the job, looked for anywhere in argv
 * (Electron builds a utility process's argv itself), in a main thread only (a worker thread sees its process's
 * argv). Exits once its output is written (a utility process does not end when its event loop is empty), or,
 * with SI_UNTIL_STOPPED_FLAG, when its launcher stops it; a launcher that never does is outlived by no more than
 * SI_MAX_TIMEOUT_MS. False when this is not the helper.
 */
export function runSiChildIfAsked(argv: readonly string[] = process.argv): boolean {
  const at = argv.indexOf(SI_CHILD_FLAG);
  if (at < 1 || !isMainThread) return false;
  const untilStopped = argv[at + 2] === SI_UNTIL_STOPPED_FLAG;
  void siChildMain(argv[at + 1], untilStopped).then((code) => {
    if (untilStopped) setTimeout(() => process.exit(code), SI_MAX_TIMEOUT_MS);
    else process.exit(code);
  });
  return true;
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => stream.write(text, () => resolve()));
}

/**
 * The plain-Node launcher: `node <helper> SI_CHILD_FLAG <job>` in a process group of its own, the group killed
 * at the timeout (runCommand). Under Electron process.execPath is the Electron binary, which nothing turns into
 * a Node (the RunAsNode fuse is off): it would start a second app. So there it refuses; the host's launcher runs
 * the helper instead.
 */
export function processGroupLauncher(helperPath: string, env?: NodeJS.ProcessEnv): SiLauncher {
  return (job, timeoutMs) =>
    process.versions.electron
      ? Promise.resolve(notStarted('under Electron only the main process starts it (utilityProcess), and this host was given no launcher'))
      : runCommand(process.execPath, [helperPath, SI_CHILD_FLAG, job], timeoutMs, env);
}

export type SiChildOptions = { timeoutMs: number } & (
  | {
      /** The script that answers SI_CHILD_FLAG (the si-child bundle, bundlePath('si-child')), run by processGroupLauncher. */
      helperPath: string;
      env?: NodeJS.ProcessEnv;
    }
  | { launch: SiLauncher }
);

/** The parent's side: one job in a killable helper. Rejects on timeout, failure or output that is not JSON. */
export async function runSiJob(job: SiJob, opts: SiChildOptions): Promise<unknown> {
  const launch = 'launch' in opts ? opts.launch : processGroupLauncher(opts.helperPath, opts.env);
  return siJobResult(job, opts.timeoutMs, await launch(job, opts.timeoutMs));
}

/** What a helper's run means, in the same words whoever launched it. */
export function siJobResult(job: SiJob, timeoutMs: number, r: RunResult): unknown {
  const what = job === 'connections' ? 'networkConnections()' : 'processes()';
  if (r.timedOut) {
    throw new Error(`systeminformation ${what} did not answer within ${(timeoutMs / 1000).toFixed(1)} s: stopped it and every tool it had started`);
  }
  if (r.spawnError !== null) throw new Error(`cannot start the systeminformation helper: ${r.spawnError}`);
  if (r.code !== 0) {
    // its own errors are one line; a crash prints a stack, of which the line naming the error says most
    const lines = r.stderr.trim().split('\n');
    const why = lines.find((l) => /^\w*Error\b/.test(l.trim())) ?? lines[0] ?? '';
    const end = r.code === null ? `ended by ${r.signal ?? 'a signal'}` : `exit code ${String(r.code)}`;
    throw new Error(`systeminformation ${what} failed: ${why.trim().slice(0, 300) || end}`);
  }
  try {
    return JSON.parse(r.stdout) as unknown;
  } catch {
    throw new Error(`systeminformation ${what} gave output that is not JSON (${r.stdout.length} bytes)`);
  }
}
