import { spawn } from 'node:child_process';

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
    const child = spawn(cmd, [...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // already gone
      }
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
