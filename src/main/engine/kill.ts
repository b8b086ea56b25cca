import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { EPERM, ESRCH, libc, type Libc } from './native/libc';
import { parseStat, processStartTime } from './processes';
import type { UserDirectory } from './users';
import type { KillResult } from '../../shared/api';

/**
 * Ending processes, safely. Every guard is here, in the engine, whatever asks (UI, CLI):
 *  - never pid <= 0, pid 1, a thread id (signalling a thread ends its whole process, so a thread of Portwatch
 *    would end Portwatch), Portwatch itself, its ancestors (killing them kills it) or its own helper
 *    processes (its descendants);
 *  - the caller names the process by pid AND start time; the signal goes through a pidfd (Linux 5.3+), which
 *    stands for one process and never for whatever later reuses its pid. The pidfd is opened by `pin` when the
 *    caller resolves the target (the CLI, before asking "Kill ...?"), or else at the start of `terminate`; the
 *    start time is checked once, through that pidfd's process: a pid that now belongs to another process is
 *    refused as "process changed";
 *  - where there is no pidfd (koffi cannot load, ENOSYS), the start time is read again right before the signal:
 *    that narrows the recycled-pid window to microseconds instead of closing it;
 *  - success is reported only after seeing the process gone.
 */

export interface KillTarget {
  pid: number;
  /** Start time (epoch ms) as the caller saw it. */
  startTime: number | null;
}

/**
 * A target resolved by `ProcessKiller.pin`: the process that held the pid then, held by a pidfd so that
 * `terminate` can only ever signal that process. Close it when done with it.
 */
export interface PinnedTarget extends KillTarget {
  /** False where no pidfd could be had (no koffi, an old kernel): `terminate` falls back to the start-time check. */
  readonly pinned: boolean;
  close(): void;
}

class Pin implements PinnedTarget {
  constructor(
    readonly pid: number,
    readonly startTime: number | null,
    private pidfd: number | null,
  ) {}

  get pinned(): boolean {
    return this.pidfd !== null;
  }

  get fd(): number | null {
    return this.pidfd;
  }

  close(): void {
    if (this.pidfd !== null) closeFd(this.pidfd);
    this.pidfd = null;
  }
}

// not (yet) exported by native/libc
const EINVAL = 22;
const ENOENT = 2;

/** What pidfd_open(2) said about a pid. */
type Opened = { kind: 'open'; fd: number } | { kind: 'gone' } | { kind: 'not-a-process'; errno: number } | { kind: 'unavailable' };

function openPidfd(pid: number, enabled: boolean): Opened {
  if (!enabled) return { kind: 'unavailable' };
  let c: Libc;
  try {
    c = libc();
  } catch {
    return { kind: 'unavailable' };
  }
  const fd = c.pidfdOpen(pid);
  if (fd >= 0) return { kind: 'open', fd };
  const errno = c.errno();
  if (errno === ESRCH) return { kind: 'gone' };
  // a thread id (no thread group of its own): EINVAL on older kernels, ENOENT on newer ones (6.18 here)
  if (errno === EINVAL || errno === ENOENT) return { kind: 'not-a-process', errno };
  // ENOSYS (before 5.3), EMFILE, a seccomp filter: the start-time check is what is left
  return { kind: 'unavailable' };
}

function closeFd(fd: number): void {
  libc().close(fd);
}

/** Whether the pidfd's process has not been reaped yet (a zombie counts): while so, its pid is its own. */
function pidfdHolds(fd: number): boolean {
  const c = libc();
  if (c.pidfdSendSignal(fd, 0) === 0) return true;
  // EPERM: it exists, it is just not ours to signal
  return c.errno() !== ESRCH;
}

export interface KillerOptions {
  /** The procfs of Portwatch's own pid namespace (pids are signalled, and pidfds opened, in that namespace). */
  procRoot?: string;
  selfPid?: number;
  /** How long to watch for the process to go after a signal. */
  waitMs?: number;
  users?: UserDirectory;
  platform?: NodeJS.Platform;
  /** False: never use pidfds, as where the kernel or koffi have none (the start-time check alone). */
  pidfds?: boolean;
  /** The effective uid Portwatch runs as (process.geteuid() unless given): root's refusals are worded apart. */
  euid?: number;
}

interface Seen {
  startTime: number;
  ppid: number;
  zombie: boolean;
  uid: number | null;
  /** The process this id belongs to: the id itself unless it is a thread's. */
  tgid: number | null;
}

type Refusal = { code: 'invalid' | 'protected'; reason: string };

export class ProcessKiller {
  private readonly procRoot: string;
  private readonly selfPid: number;
  private readonly waitMs: number;
  private readonly platform: NodeJS.Platform;

  constructor(private readonly opts: KillerOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.selfPid = opts.selfPid ?? process.pid;
    this.waitMs = opts.waitMs ?? 3000;
    this.platform = opts.platform ?? process.platform;
  }

  /** What the process is now, or null when it is gone. */
  private look(pid: number): Seen | null {
    let stat;
    try {
      stat = parseStat(readFileSync(`${this.procRoot}/${pid}/stat`, 'latin1'));
    } catch {
      return null;
    }
    if (!stat) return null;
    let uid: number | null = null;
    let tgid: number | null = null;
    try {
      const status = readFileSync(`${this.procRoot}/${pid}/status`, 'utf8');
      const u = /^Uid:\s+(\d+)/m.exec(status);
      if (u) uid = Number(u[1]);
      const t = /^Tgid:\s+(\d+)/m.exec(status);
      if (t) tgid = Number(t[1]);
    } catch {
      // gone between the two reads: the next look says so
    }
    return { startTime: processStartTime(stat.startTicks, this.procRoot), ppid: stat.ppid, zombie: stat.state === 'Z', uid, tgid };
  }

  /** Pids Portwatch must not kill: itself and every ancestor up to init. */
  private ancestors(): Set<number> {
    const out = new Set<number>([this.selfPid]);
    let pid = this.selfPid;
    for (let i = 0; i < 128 && pid > 1; i++) {
      const seen = this.look(pid);
      if (!seen) break;
      pid = seen.ppid;
      out.add(pid);
    }
    return out;
  }

  /** Why this pid may not be signalled, or null. */
  guard(pid: number): string | null {
    return this.refusal(pid)?.reason ?? null;
  }

  private refusal(pid: number): Refusal | null {
    if (!Number.isInteger(pid) || pid <= 0) return { code: 'invalid', reason: `pid ${pid} is not a process` };
    if (pid === 1) return { code: 'protected', reason: 'pid 1 is init: ending it ends the machine' };
    // kill(2) of a thread id signals the thread's whole process: a thread of Portwatch would pass every check below
    const tgid = this.look(pid)?.tgid ?? null;
    if (tgid !== null && tgid !== pid) return { code: 'invalid', reason: `${pid} is a thread of process ${tgid}, not a process` };
    const protect = (reason: string): Refusal => ({ code: 'protected', reason });
    if (pid === this.selfPid) return protect('that is Portwatch itself');
    if (this.ancestors().has(pid)) return protect('that is a parent of Portwatch: ending it ends Portwatch');
    // descendants of Portwatch are its own helpers (Electron's renderer and GPU processes, a browser it opened)
    let cur: number | undefined = pid;
    for (let i = 0; i < 128 && cur !== undefined && cur > 1; i++) {
      const seen = this.look(cur);
      if (!seen) break;
      if (seen.ppid === this.selfPid) return protect("that is one of Portwatch's own helper processes");
      cur = seen.ppid;
    }
    return null;
  }

  /**
   * The process holding `pid` now, pinned by a pidfd: what the caller resolves when the user looks, so that the
   * process the user confirms is the only one `terminate` can signal, whatever reuses the pid meanwhile. Its
   * start time is read through the pidfd's process. Without pidfds it records the start time only.
   */
  pin(pid: number): PinnedTarget {
    if (this.platform !== 'linux' || !Number.isInteger(pid) || pid <= 0) return new Pin(pid, startTimeOf(pid, this.procRoot), null);
    const opened = openPidfd(pid, this.opts.pidfds ?? true);
    if (opened.kind === 'unavailable') return new Pin(pid, startTimeOf(pid, this.procRoot), null);
    // gone, or a thread: nothing to pin, and a start time of null is never matched
    if (opened.kind !== 'open') return new Pin(pid, null, null);
    const seen = this.look(pid);
    // read after the pidfd was opened, and the process not yet reaped after the read: the read was of its process
    if (!seen || seen.zombie || !pidfdHolds(opened.fd)) {
      closeFd(opened.fd);
      return new Pin(pid, null, null);
    }
    return new Pin(pid, seen.startTime, opened.fd);
  }

  private refusePermission(pid: number, uid: number | null): KillResult {
    const owner = uid === null ? 'another user' : (this.opts.users?.name(uid) ?? `uid ${uid}`);
    // root refused is not a matter of running elevated: the process is beyond this root (another user
    // namespace: a rootless container's root), or a security module keeps it
    if ((this.opts.euid ?? process.geteuid?.()) === 0) {
      return {
        result: 'refused',
        pid,
        code: 'permission',
        reason: `permission denied even as root: owned by ${owner}, in a user namespace this root does not govern (a container's), or protected by a security module`,
      };
    }
    return { result: 'refused', pid, code: 'permission', reason: `permission denied: owned by ${owner}; run Portwatch elevated` };
  }

  /**
   * SIGTERM (or SIGKILL with `force`), then watch up to waitMs for the process to go. The caller offers
   * Force when the answer is still-running.
   */
  async terminate(target: KillTarget, force = false): Promise<KillResult> {
    const { pid } = target;
    if (this.platform !== 'linux') {
      const why = this.refusal(pid);
      if (why) return { result: 'refused', pid, ...why };
      if (this.platform === 'win32') return this.taskkill(pid);
      return { result: 'refused', pid, code: 'unsupported', reason: `killing is not supported on ${this.platform} yet` };
    }
    if (!Number.isInteger(pid) || pid <= 0) return { result: 'refused', pid, code: 'invalid', reason: `pid ${pid} is not a process` };
    const pinned = target instanceof Pin ? target.fd : null;
    const opened = pinned === null ? openPidfd(pid, this.opts.pidfds ?? true) : null;
    try {
      return await this.signal(target, pinned ?? (opened?.kind === 'open' ? opened.fd : null), opened, force);
    } finally {
      if (opened?.kind === 'open') closeFd(opened.fd);
    }
  }

  /** Checks and signals on Linux; `pidfd`, when there is one, stands for the process the caller means. */
  private async signal(target: KillTarget, pidfd: number | null, opened: Opened | null, force: boolean): Promise<KillResult> {
    const { pid } = target;
    const gone: KillResult = { result: 'already-gone', pid };
    if (opened?.kind === 'gone' || (pidfd !== null && !pidfdHolds(pidfd))) return gone;
    // Every /proc read from here to the pidfdHolds below is of the pidfd's process: it held the pid until then.
    const why = this.refusal(pid);
    if (why) return { result: 'refused', pid, ...why };
    if (opened?.kind === 'not-a-process')
      return { result: 'refused', pid, code: 'invalid', reason: `pid ${pid} is not a process (pidfd_open: errno ${opened.errno})` };
    const before = this.look(pid);
    if (!before || before.zombie || (pidfd !== null && !pidfdHolds(pidfd))) return gone;
    if (target.startTime === null || before.startTime !== target.startTime) {
      return { result: 'refused', pid, code: 'changed', reason: 'process changed: this pid now belongs to another process' };
    }
    const signal = force ? 'SIGKILL' : 'SIGTERM';
    const sent = pidfd !== null ? this.sendThroughPidfd(pidfd, signal) : sendByPid(pid, signal);
    if (sent === 'ESRCH') return gone;
    if (sent === 'EPERM') return this.refusePermission(pid, before.uid);
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    for (;;) {
      const now = pidfd !== null && !pidfdHolds(pidfd) ? null : this.look(pid);
      if (!now || now.zombie || now.startTime !== before.startTime) return { result: 'exited', pid, signal, afterMs: elapsed() };
      if (elapsed() >= this.waitMs) return { result: 'still-running', pid, signal, waitedMs: elapsed() };
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private sendThroughPidfd(pidfd: number, signal: 'SIGTERM' | 'SIGKILL'): 'ok' | 'ESRCH' | 'EPERM' {
    const c = libc();
    if (c.pidfdSendSignal(pidfd, constants.signals[signal]) === 0) return 'ok';
    const errno = c.errno();
    if (errno === ESRCH) return 'ESRCH';
    if (errno === EPERM) return 'EPERM';
    throw new Error(`pidfd_send_signal(${signal}) failed: errno ${errno}`);
  }

  private taskkill(pid: number): Promise<KillResult> {
    return new Promise((resolve) => {
      execFile('taskkill', ['/PID', String(pid), '/T', '/F'], (err, _out, stderr) => {
        if (!err) return resolve({ result: 'exited', pid, signal: 'SIGKILL', afterMs: 0 });
        if (/not found/i.test(stderr)) return resolve({ result: 'already-gone', pid });
        if (/denied/i.test(stderr)) return resolve(this.refusePermission(pid, null));
        resolve({ result: 'refused', pid, code: 'unsupported', reason: stderr.trim() || err.message });
      });
    });
  }
}

function sendByPid(pid: number, signal: 'SIGTERM' | 'SIGKILL'): 'ok' | 'ESRCH' | 'EPERM' {
  try {
    process.kill(pid, signal);
    return 'ok';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ESRCH' || code === 'EPERM') return code;
    throw e;
  }
}

/** Start time (epoch ms) of a pid now, or null when it is gone: what a caller passes as KillTarget.startTime. */
export function startTimeOf(pid: number, procRoot = '/proc'): number | null {
  try {
    const stat = parseStat(readFileSync(`${procRoot}/${pid}/stat`, 'latin1'));
    return stat ? processStartTime(stat.startTicks, procRoot) : null;
  } catch {
    return null;
  }
}
