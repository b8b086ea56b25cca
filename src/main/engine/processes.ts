import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { endianness } from 'node:os';
import { basename } from 'node:path';
import type { ProcessInfo } from '../../shared/model';
import type { UserDirectory } from './users';

/** The kernel cuts comm to 15 bytes (TASK_COMM_LEN - 1), which may fall inside a multibyte character. */
const COMM_MAX = 15;

interface StatLine {
  comm: string;
  /** R, S, D, Z (zombie: exited, not yet reaped), ... */
  state: string;
  ppid: number;
  startTicks: number;
}

/** A stat line read from the file's bytes: comm decoded as UTF-8, and its bytes as the kernel keeps them. */
export interface StatBytes extends StatLine {
  commBytes: Buffer;
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
 * Parses /proc/<pid>/stat from its bytes. comm is whatever bytes a process gave prctl(PR_SET_NAME) or its
 * executable's name had: UTF-8 nearly always, shown with U+FFFD where it is not. Read as latin1 first (one
 * character per byte), so parseStat finds the same parentheses: no byte of a UTF-8 multibyte character is '(' or ')'.
 */
export function parseStatBytes(bytes: Buffer): StatBytes | null {
  const st = parseStat(bytes.toString('latin1'));
  if (st === null) return null;
  const commBytes = Buffer.from(st.comm, 'latin1');
  return { ...st, comm: commText(commBytes), commBytes };
}

/**
 * Length of a UTF-8 character cut short at the end of `b` (0 when the last one is whole, or not UTF-8 at all):
 * what the kernel's 15-byte cut leaves of a multibyte character.
 */
function cutTail(b: Uint8Array): number {
  let lead = b.length - 1;
  while (lead >= 0 && b.length - lead <= 3 && ((b[lead] as number) & 0xc0) === 0x80) lead--;
  if (lead < 0) return 0;
  const c = b[lead] as number;
  const length = c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc0 && c < 0xe0 ? 2 : 1;
  const have = b.length - lead;
  return have < length ? have : 0;
}

/** comm as text: UTF-8, U+FFFD for what is not, without the stub of a character the kernel's cut split. */
function commText(bytes: Uint8Array): string {
  const end = bytes.length >= COMM_MAX ? bytes.length - cutTail(bytes) : bytes.length;
  return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8');
}

/**
 * The real process name, as psutil finds it: comm unless the kernel cut it, then the executable's or argv[0]'s
 * base name when it starts with comm. comm as text (taken as UTF-8) or as the bytes /proc/<pid>/stat holds: the
 * cut is at 15 bytes, and a cut comm can end in part of a character, so both the cut and the match go by bytes.
 */
export function fullProcessName(comm: string | Uint8Array, exe: string | null, cmdline: readonly string[]): string {
  const bytes = typeof comm === 'string' ? Buffer.from(comm, 'utf8') : Buffer.from(comm.buffer, comm.byteOffset, comm.length);
  const shown = typeof comm === 'string' ? comm : commText(bytes);
  if (bytes.length < COMM_MAX) return shown;
  const candidates: string[] = [];
  const argv0 = cmdline[0];
  if (argv0) {
    candidates.push(basename(argv0));
    // processes that rewrite their title put everything in argv[0] ("nginx: worker process")
    if (argv0.includes(' ')) candidates.push(basename(argv0.split(' ')[0] as string));
  }
  if (exe) candidates.push(basename(exe.replace(/ \(deleted\)$/, '')));
  for (const c of candidates) {
    const b = Buffer.from(c, 'utf8');
    if (b.length > bytes.length && b.subarray(0, bytes.length).equals(bytes)) return c;
  }
  return shown;
}

let ticksPerSecond: number | null = null;

/** USER_HZ, asked once per process. */
function clockTicksPerSecond(): number {
  ticksPerSecond ??= askClockTicks();
  return ticksPerSecond;
}

/** AT_CLKTCK in the auxiliary vector: the kernel's USER_HZ as it told this process at exec. */
const AT_CLKTCK = 17;

/**
 * USER_HZ from /proc/self/auxv (what getconf CLK_TCK reads, without starting a process for it): pairs of
 * machine words, type then value, ending with type 0. Bounded by the buffer; anything odd means 100.
 */
export function clockTicksFromAuxv(auxv: Buffer, wordBytes = 8, littleEndian = true): number | null {
  const read = (at: number): number =>
    wordBytes === 8 ? Number(littleEndian ? auxv.readBigUInt64LE(at) : auxv.readBigUInt64BE(at)) : littleEndian ? auxv.readUInt32LE(at) : auxv.readUInt32BE(at);
  for (let at = 0; at + 2 * wordBytes <= auxv.length; at += 2 * wordBytes) {
    const type = read(at);
    if (type === 0) return null;
    if (type === AT_CLKTCK) {
      const v = read(at + wordBytes);
      return Number.isInteger(v) && v > 0 && v <= 100_000 ? v : null;
    }
  }
  return null;
}

function askClockTicks(): number {
  try {
    const v = clockTicksFromAuxv(readFileSync('/proc/self/auxv'), process.arch.endsWith('64') ? 8 : 4, endianness() === 'LE');
    if (v !== null) return v;
  } catch {
    // no /proc/self/auxv: every Linux architecture Portwatch runs on uses USER_HZ 100
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
  private readonly statCache = new Map<number, StatBytes | null>();

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

  private stat(pid: number): StatBytes | null {
    let s = this.statCache.get(pid);
    if (s !== undefined) return s;
    try {
      s = parseStatBytes(readFileSync(`${this.procRoot}/${pid}/stat`));
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

  /**
   * Where a process's cmdline and exe are: its own directory, or for a zombie leader whose other threads run on
   * (it called pthread_exit), one of theirs: the leader no longer has a memory map to show them from.
   */
  private detailsDir(pid: number, st: StatBytes): string {
    const dir = `${this.procRoot}/${pid}`;
    if (st.state !== 'Z') return dir;
    try {
      const other = readdirSync(`${dir}/task`).find((tid) => tid !== String(pid));
      if (other !== undefined) return `${dir}/task/${other}`;
    } catch {
      // gone
    }
    return dir;
  }

  private read(pid: number, st: StatBytes, startTime: number): ProcessInfo {
    const dir = `${this.procRoot}/${pid}`;
    const details = this.detailsDir(pid, st);
    let cmdline: string[] = [];
    try {
      const raw = readFileSync(`${details}/cmdline`, 'utf8');
      cmdline = raw.split('\0');
      if (cmdline[cmdline.length - 1] === '') cmdline.pop();
    } catch {
      // unreadable or gone: details stay partial
    }
    let exe: string | null = null;
    try {
      exe = readlinkSync(`${details}/exe`);
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
      name: fullProcessName(st.commBytes, exe, cmdline),
      exe,
      cmdline,
      uid,
      user: this.users.name(uid),
      startTime,
    };
  }
}
