import { killDescendantTree, notStarted, type RunResult, SI_CHILD_FLAG, SI_ERROR_PREFIX, SI_UNTIL_STOPPED_FLAG, type SiJob, type SiLauncher } from '../engine';

/** What the launcher uses of a forked utility process (Electron's UtilityProcess; tests give node's ChildProcess). */
export interface UtilityChild {
  /** Undefined until it has spawned, and again once it has exited. */
  readonly pid: number | undefined;
  readonly stdout: NodeJS.ReadableStream | null;
  readonly stderr: NodeJS.ReadableStream | null;
  once(event: 'spawn', listener: () => void): unknown;
  /** Electron gives the code only. */
  once(event: 'exit', listener: (code: number | null, signal?: NodeJS.Signals | null) => void): unknown;
  /** Electron: a fatal V8 error ('FatalError', where, the report); the exit follows. */
  on(event: 'error', listener: (type: unknown, location?: unknown) => void): unknown;
  kill(): boolean;
}

export interface UtilityForkOptions {
  stdio: 'pipe';
  serviceName: string;
  env?: NodeJS.ProcessEnv;
}

/** What the launcher uses of Electron's `utilityProcess`. */
export interface UtilityForker {
  fork(modulePath: string, args: string[], options: UtilityForkOptions): UtilityChild;
}

export interface UtilityLauncherOptions {
  /** The helper's environment; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Kills a pid and every process descended from it; killDescendantTree by default. */
  killTree?: (pid: number) => void;
}

/** The name the helper has in app.getAppMetrics() and child-process-gone events. */
export const SI_SERVICE_NAME = 'Portwatch systeminformation helper';

/**
 * systeminformation's helper in a utility process, for the Electron main process to give its MonitorHost: with
 * the RunAsNode fuse off the Electron binary cannot be started as Node, and only the main process may call
 * utilityProcess.fork. `helperPath` is the si-child bundle (bundlePath('si-child'), out/node/si-child.cjs: the
 * one the CLI's helper runs too). What it reports is what runCommand reports, so runSiJob words every outcome the
 * same whichever launcher ran the job.
 *
 * - The answer is the helper's first stdout line (SI_UNTIL_STOPPED_FLAG): the helper then waits, and is stopped
 *   here once the line is in. Its exit is never waited for to read output: Electron drops a utility process's
 *   stdio streams as it emits `exit`, which may come before the last of the output.
 * - A helper that exits without answering (a crash) gives its exit code and whatever stderr had come by then.
 * - At the timeout the helper and every process descended from it (its shell, the hung lsof or netstat) are
 *   killed: a utility process shares the app's process group, so they are found by parent pid
 *   (killDescendantTree; taskkill /T on Windows).
 */
export function utilitySiLauncher(utility: UtilityForker, helperPath: string, opts: UtilityLauncherOptions = {}): SiLauncher {
  const killTree = opts.killTree ?? ((pid: number): void => void killDescendantTree(pid));
  return (job: SiJob, timeoutMs: number) =>
    new Promise<RunResult>((resolve) => {
      let child: UtilityChild;
      try {
        const options: UtilityForkOptions = { stdio: 'pipe', serviceName: SI_SERVICE_NAME, ...(opts.env ? { env: opts.env } : {}) };
        child = utility.fork(helperPath, [SI_CHILD_FLAG, job, SI_UNTIL_STOPPED_FLAG], options);
      } catch (e) {
        resolve(notStarted(e instanceof Error ? e.message : String(e)));
        return;
      }
      let stdout = '';
      let stderr = '';
      let fatal = '';
      let done = false;
      // the handle forgets the pid once the process has exited: keep it for the timeout's kill
      let pid = child.pid;
      const finish = (r: Omit<RunResult, 'spawnError' | 'stderr'>): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ ...r, spawnError: null, stderr: stderr || fatal });
      };
      const timer = setTimeout(() => {
        pid ??= child.pid;
        if (pid !== undefined) killTree(pid);
        child.kill();
        finish({ code: null, stdout, timedOut: true });
      }, timeoutMs);

      child.stdout?.on('data', (d: Buffer | string) => {
        const text = d.toString();
        stdout += text;
        if (done || !text.includes('\n')) return;
        const line = stdout.slice(0, stdout.indexOf('\n'));
        child.kill();
        if (line.startsWith(SI_ERROR_PREFIX)) {
          stderr = line.slice(SI_ERROR_PREFIX.length);
          finish({ code: 1, stdout: '', timedOut: false });
        } else {
          finish({ code: 0, stdout: line, timedOut: false });
        }
      });
      child.stderr?.on('data', (d: Buffer | string) => (stderr += d.toString()));
      // a broken pipe is no reason to throw in the main process: the exit or the timeout still ends the job
      child.stdout?.on('error', () => undefined);
      child.stderr?.on('error', () => undefined);
      child.once('spawn', () => (pid = child.pid));
      child.on('error', (type, location) => (fatal = location === undefined ? String(type) : `${String(type)} at ${String(location)}`));
      child.once('exit', (code, signal) => finish({ code, ...(signal ? { signal } : {}), stdout, timedOut: false }));
    });
}
