import { spawn, spawnSync } from 'node:child_process';

export interface RunResult {
  code: number | null;
  /** ENOENT and the like: the command could not start. */
  spawnError: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs a command (argument array, never a shell string) in a process group of its own, and at the timeout
 * kills the whole group: a tool that hangs, and whatever it started, never outlives its poll.
 */
export function runCommand(cmd: string, args: readonly string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const child = spawn(cmd, [...args], { detached: true, windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) killTree(child.pid);
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, spawnError: (e as NodeJS.ErrnoException).code ?? e.message, stdout, stderr, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, spawnError: null, stdout, stderr, timedOut });
    });
  });
}

/**
 * Kills a process started with `detached: true` and everything it started. POSIX: its process group, with
 * SIGKILL. Windows has no process groups to signal: `taskkill /T /F` ends the process tree.
 */
export function killTree(
  pid: number,
  platform: NodeJS.Platform = process.platform,
  run: (cmd: string, args: string[]) => unknown = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore', windowsHide: true, timeout: 5000 }),
): void {
  if (platform === 'win32') {
    run('taskkill', ['/pid', String(pid), '/T', '/F']);
    return;
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
