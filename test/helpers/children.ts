import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** The first line the child printed (our scripts print their port). */
  firstLine: string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * Whether a process runs: it exists and is not a zombie. Killed children of a parent that never reaps them
 * (pid 1 here does not) stay zombies, which are gone for every purpose here.
 */
export function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
}

/** Spawns a child and waits for its first stdout line (it prints once it is ready). */
export function spawnReady(command: string, args: string[], opts: { argv0?: string; env?: NodeJS.ProcessEnv; stdin?: boolean } = {}): Promise<Child> {
  const proc = spawn(command, args, { stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], argv0: opts.argv0, env: opts.env ?? process.env });
  live.add(proc);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${command} did not get ready: ${err}`));
    }, 10_000);
    proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.on('exit', (code) => {
      live.delete(proc);
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code}) before it was ready: ${err}`));
    });
    const onData = (d: Buffer): void => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      proc.stdout?.off('data', onData);
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      proc.on('exit', () => live.delete(proc));
      resolve({
        proc,
        pid: proc.pid as number,
        firstLine: out.slice(0, nl).trim(),
        stop: () =>
          new Promise<void>((r) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return r();
            proc.once('exit', () => r());
            proc.kill('SIGTERM');
          }),
      });
    };
    proc.stdout?.on('data', onData);
  });
}

/**
 * The system's python3 when there is one, not a version manager's shim first in PATH: a shim (a shell script)
 * does not pass on the argv[0] a test gives it.
 */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** A node child listening on TCP `host`:0, printing its port. */
export const NODE_LISTENER = `
const s = require('net').createServer(() => {});
s.listen(0, process.argv[1] || '127.0.0.1', () => console.log(s.address().port));
`;

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Starts a program that is not our child (setsid -f: its parent exits at once), as a user's server would be:
 * Portwatch refuses to kill its own descendants. It must print "PID ..." as its first line.
 */
export function spawnDetached(command: string, args: string[]): Promise<{ pid: number; rest: string }> {
  // setsid exits at once; the program keeps the stdout pipe until it has printed its first line
  const starter = spawn('setsid', ['-f', command, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${command} (detached) did not get ready`)), 10_000);
    starter.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      const [pid, ...rest] = out.slice(0, nl).trim().split(' ');
      resolve({ pid: Number(pid), rest: rest.join(' ') });
    });
  });
}

/** The same listener as NODE_LISTENER, printing "PID PORT", optionally deaf to SIGTERM. */
export const DETACHED_LISTENER = (ignoreTerm = false): string => `
${ignoreTerm ? "process.on('SIGTERM', () => {});" : ''}
const s = require('net').createServer(() => {});
s.listen(0, '127.0.0.1', () => { console.log(process.pid + ' ' + s.address().port); process.stdout.end(); });
`;

/** A command prefix that runs what follows as user nobody, with no groups. */
export const AS_NOBODY: readonly string[] = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

/**
 * Python: connects to a listener of its own and closes first, so that its own end goes to TIME_WAIT (which
 * no process holds any more); prints that end's port, then lingers.
 */
export const TIME_WAIT_CLIENT = `
import socket, time
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen()
c = socket.create_connection(srv.getsockname()); a, _ = srv.accept()
port = c.getsockname()[1]
c.close(); time.sleep(0.05); a.close()
print(port, flush=True)
time.sleep(600)
`;
