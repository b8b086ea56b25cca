import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import type { ProcessInfo } from '../../shared/model';
import type { UserDirectory } from './users';

/** The kernel cuts comm to 15 characters (TASK_COMM_LEN - 1). */
const COMM_MAX = 15;

interface StatLine {
  comm: string;
  /** R, S, D, Z (zombie: exited, not yet reaped), ... */
  state: string;
  ppid: number;
  startTicks: number;
}

/** Parses /proc/<pid>/stat. comm may hold spaces and parentheses: it runs to the last ')'. */
export function parseStat(text: string): StatLine | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  const ppid = Number(rest[1]);
  const startTicks = Number(rest[19]);
  if (!Number.isInteger(ppid) || !Number.isInteger(startTicks)) return null;
  return { comm: text.slice(open + 1, close), state: rest[0] ?? '', ppid, startTicks };
}

/**
 * The real process name, as psutil finds it: comm unless the kernel cut it, then the executable's or argv[0]'s
 * base name when it starts with comm.
 */
export function fullProcessName(comm: string, exe: string | null, cmdline: readonly string[]): string {
  if (comm.length < COMM_MAX) return comm;
  const candidates: string[] = [];
  const argv0 = cmdline[0];
  if (argv0) {
    candidates.push(basename(argv0));
    // processes that rewrite their title put everything in argv[0] ("nginx: worker process")
    if (argv0.includes(' ')) candidates.push(basename(argv0.split(' ')[0] as string));
  }
  if (exe) candidates.push(basename(exe.replace(/ \(deleted\)$/, '')));
  for (const c of candidates) if (c.length > comm.length && c.startsWith(comm)) return c;
  return comm;
}

let ticksPerSecond: number | null = null;

/** USER_HZ, asked once per process. */
function clockTicksPerSecond(): number {
  ticksPerSecond ??= askClockTicks();
  return ticksPerSecond;
}

function askClockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 1000 }).trim());
    if (Number.isInteger(n) && n > 0) return n;
  } catch {
    // getconf missing: every Linux architecture Portwatch runs on uses USER_HZ 100.
  }
  return 100;
}

const bootTimes = new Map<string, number>();

function readBootTimeMs(procRoot: string): number {
  const known = bootTimes.get(procRoot);
  if (known !== undefined) return known;
  const m = /^btime (\d+)$/m.exec(readFileSync(`${procRoot}/stat`, 'utf8'));
  if (!m) throw new Error(`${procRoot}/stat has no btime line`);
  bootTimes.set(procRoot, Number(m[1]) * 1000);
  return Number(m[1]) * 1000;
}

/** A process's start (epoch ms) from the clock ticks in /proc/<pid>/stat: one formula for details and kill checks. */
export function processStartTime(startTicks: number, procRoot = '/proc'): number {
  return readBootTimeMs(procRoot) + Math.round((startTicks * 1000) / clockTicksPerSecond());
}

/**
 * Process details from /proc, cached by (pid, start time) so a recycled pid never inherits another process's
 * details. Each poll calls `begin()`, then `get()` per owner pid, then `end()` to forget processes not seen.
 */
export class ProcessTable {
  private readonly cache = new Map<number, ProcessInfo>();
  private seen = new Set<number>();
  private readonly statCache = new Map<number, StatLine | null>();

  constructor(
    private readonly users: UserDirectory,
    private readonly procRoot = '/proc',
  ) {
    readBootTimeMs(procRoot); // fail early on a /proc without btime
  }

  begin(): void {
    this.seen = new Set();
    this.statCache.clear();
  }

  end(): void {
    for (const pid of this.cache.keys()) if (!this.seen.has(pid)) this.cache.delete(pid);
  }

  private stat(pid: number): StatLine | null {
    let s = this.statCache.get(pid);
    if (s !== undefined) return s;
    try {
      s = parseStat(readFileSync(`${this.procRoot}/${pid}/stat`, 'latin1'));
    } catch {
      s = null; // vanished between the fd walk and now
    }
    this.statCache.set(pid, s);
    return s;
  }

  /** Parent pid, or null when the process is gone. */
  ppid(pid: number): number | null {
    return this.stat(pid)?.ppid ?? null;
  }

  /** Details of a live process, or null when it vanished. */
  get(pid: number): ProcessInfo | null {
    const st = this.stat(pid);
    if (st === null) return null;
    this.seen.add(pid);
    const startTime = processStartTime(st.startTicks, this.procRoot);
    const cached = this.cache.get(pid);
    if (cached && cached.startTime === startTime) return cached;
    const info = this.read(pid, st, startTime);
    this.cache.set(pid, info);
    return info;
  }

  private read(pid: number, st: StatLine, startTime: number): ProcessInfo {
    const dir = `${this.procRoot}/${pid}`;
    let cmdline: string[] = [];
    try {
      const raw = readFileSync(`${dir}/cmdline`, 'utf8');
      cmdline = raw.split('\0');
      if (cmdline[cmdline.length - 1] === '') cmdline.pop();
    } catch {
      // unreadable or gone: details stay partial
    }
    let exe: string | null = null;
    try {
      exe = readlinkSync(`${dir}/exe`);
    } catch {
      // EACCES for other users' processes without privileges, ENOENT for kernel threads
    }
    let uid: number | null = null;
    try {
      const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`${dir}/status`, 'utf8'));
      if (m) uid = Number(m[1]);
    } catch {
      // gone
    }
    return {
      pid,
      ppid: st.ppid,
      name: fullProcessName(st.comm, exe, cmdline),
      exe,
      cmdline,
      uid,
      user: this.users.name(uid),
      startTime,
    };
  }
}
