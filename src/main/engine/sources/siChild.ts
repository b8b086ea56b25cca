import si from 'systeminformation';
import { runCommand } from '../runCommand';

/**
 * systeminformation runs netstat, ss, lsof or ps through a shell, with no timeout, and its children are not
 * ours to kill. So each call runs in a child process of its own process group (the monitor worker's bundle,
 * started with SI_CHILD_FLAG); at the timeout the whole group is killed: the helper, its shell and whatever
 * tool hung. A poll then fails with a clear message, and nothing is left behind.
 */
export const SI_CHILD_FLAG = '--portwatch-si-child';

export type SiJob = 'connections' | 'processes';

/** The child's side: runs one job, prints its result as JSON, exits. */
export async function siChildMain(job: string | undefined): Promise<number> {
  try {
    if (job === 'connections') process.stdout.write(JSON.stringify(await si.networkConnections()));
    else if (job === 'processes') process.stdout.write(JSON.stringify(await si.processes()));
    else throw new Error(`unknown job '${String(job)}'`);
    return 0;
  } catch (e) {
    process.stderr.write(e instanceof Error ? e.message : String(e));
    return 1;
  }
}

export interface SiChildOptions {
  /** The script that answers SI_CHILD_FLAG (the monitor worker's bundle). */
  helperPath: string;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

/** The parent's side: one job in a killable child. Rejects on timeout, failure or output that is not JSON. */
export async function runSiJob(job: SiJob, opts: SiChildOptions): Promise<unknown> {
  // In Electron, execPath is the Electron binary: ELECTRON_RUN_AS_NODE makes it a plain Node.
  const env = { ...(opts.env ?? process.env), ELECTRON_RUN_AS_NODE: '1' };
  const r = await runCommand(process.execPath, [opts.helperPath, SI_CHILD_FLAG, job], opts.timeoutMs, env);
  const what = job === 'connections' ? 'networkConnections()' : 'processes()';
  if (r.timedOut) {
    throw new Error(`systeminformation ${what} did not answer within ${(opts.timeoutMs / 1000).toFixed(1)} s: stopped it and every tool it had started`);
  }
  if (r.spawnError !== null) throw new Error(`cannot start the systeminformation helper: ${r.spawnError}`);
  if (r.code !== 0) {
    // its own errors are one line; a crash prints a stack, of which the line naming the error says most
    const lines = r.stderr.trim().split('\n');
    const why = lines.find((l) => /^\w*Error\b/.test(l.trim())) ?? lines[0] ?? '';
    throw new Error(`systeminformation ${what} failed: ${why.trim().slice(0, 300) || `exit code ${String(r.code)}`}`);
  }
  try {
    return JSON.parse(r.stdout) as unknown;
  } catch {
    throw new Error(`systeminformation ${what} gave output that is not JSON (${r.stdout.length} bytes)`);
  }
}
