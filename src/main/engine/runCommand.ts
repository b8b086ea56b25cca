import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { parseStat } from './processes';

export interface RunResult {
  code: number | null;
  /** The signal that ended it, when one did (then `code` is null). */
  signal?: string;
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
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, ...(signal ? { signal } : {}), spawnError: null, stdout, stderr, timedOut });
    });
  });
}

type Run = (cmd: string, args: string[]) => unknown;
const runQuietly: Run = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore', windowsHide: true, timeout: 5000 });

/**
 * Kills a process started with `detached: true` and everything it started. POSIX: its process group, with
 * SIGKILL. Windows has no process groups to signal: `taskkill /T /F` ends the process tree.
 */
export function killTree(pid: number, platform: NodeJS.Platform = process.platform, run: Run = runQuietly): void {
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

export interface ProcessRow {
  pid: number;
  ppid: number;
}

/** Every process's pid and parent pid: /proc on Linux, `ps -A -o pid=,ppid=` elsewhere (macOS, the BSDs). */
export function processRows(platform: NodeJS.Platform = process.platform): ProcessRow[] {
  if (platform === 'linux') {
    const rows: ProcessRow[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = parseStat(readFileSync(`/proc/${name}/stat`, 'latin1'));
        if (stat) rows.push({ pid: Number(name), ppid: stat.ppid });
      } catch {
        // gone meanwhile
      }
    }
    return rows;
  }
  const ps = spawnSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8', windowsHide: true, timeout: 5000 });
  return parsePsRows(ps.stdout ?? '');
}

/** `ps -o pid=,ppid=` output: two numbers a line. */
export function parsePsRows(text: string): ProcessRow[] {
  const rows: ProcessRow[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) rows.push({ pid: Number(m[1]), ppid: Number(m[2]) });
  }
  return rows;
}

export interface KillDescendantsDeps {
  platform?: NodeJS.Platform;
  rows?: () => ProcessRow[];
  signal?: (pid: number, signal: NodeJS.Signals) => void;
  run?: Run;
}

/** Rounds of looking for descendants started while the tree was being frozen. */
const MAX_FREEZE_ROUNDS = 10;

/**
 * Kills a process that is not the leader of a process group of its own (Electron's utility process: it shares
 * the app's group, which must live), with every process descended from it. The tree is found by parent pid and
 * frozen as found (SIGSTOP: a stopped process starts nothing more, and its children keep it as their parent),
 * looked at again until no new descendant shows up, then every process in it gets SIGKILL. Windows:
 * `taskkill /T /F`, which walks the tree the same way. Returns the pids signalled (POSIX).
 */
export function killDescendantTree(pid: number, deps: KillDescendantsDeps = {}): number[] {
  // kill(0) and kill(-1) signal a whole group, or everything: never
  if (!Number.isSafeInteger(pid) || pid <= 1) return [];
  const platform = deps.platform ?? process.platform;
  if (platform === 'win32') {
    (deps.run ?? runQuietly)('taskkill', ['/pid', String(pid), '/T', '/F']);
    return [];
  }
  const rows = deps.rows ?? ((): ProcessRow[] => processRows(platform));
  const signal =
    deps.signal ??
    ((p: number, s: NodeJS.Signals): void => {
      try {
        process.kill(p, s);
      } catch {
        // already gone
      }
    });
  const tree = new Set<number>([pid]);
  signal(pid, 'SIGSTOP');
  for (let round = 0; round < MAX_FREEZE_ROUNDS; round++) {
    const children = new Map<number, number[]>();
    for (const r of rows()) {
      const list = children.get(r.ppid);
      if (list) list.push(r.pid);
      else children.set(r.ppid, [r.pid]);
    }
    const found: number[] = [];
    const walk = [...tree];
    for (let p = walk.pop(); p !== undefined; p = walk.pop()) {
      for (const c of children.get(p) ?? []) {
        if (tree.has(c) || c === p) continue;
        tree.add(c);
        found.push(c);
        walk.push(c);
      }
    }
    if (found.length === 0) break;
    for (const c of found) signal(c, 'SIGSTOP');
  }
  for (const p of tree) signal(p, 'SIGKILL');
  return [...tree];
}
