import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseStat, processStartTime } from './processes';
import type { UserDirectory } from './users';
import type { KillResult } from '../../shared/api';

/**
 * Ending processes, safely. Every guard is here, in the engine, whatever asks (UI, CLI):
 *  - never pid <= 0, pid 1, Portwatch itself, its ancestors (killing them kills it) or its own helper
 *    processes (its descendants);
 *  - the caller names the process by pid AND start time, and the start time is read again right before each
 *    signal: a pid that now belongs to another process is refused as "process changed";
 *  - success is reported only after seeing the process gone.
 * Node offers no pidfd (pidfd_open/pidfd_send_signal need native code): the start-time check before each
 * signal narrows the recycled-pid window to microseconds instead of closing it.
 */

export interface KillTarget {
  pid: number;
  /** Start time (epoch ms) as the caller saw it. */
  startTime: number | null;
}

export type KillOutcome = KillResult;

export interface KillerOptions {
  procRoot?: string;
  selfPid?: number;
  /** How long to watch for the process to go after a signal. */
  waitMs?: number;
  users?: UserDirectory;
  platform?: NodeJS.Platform;
}

interface Seen {
  startTime: number;
  ppid: number;
  zombie: boolean;
  uid: number | null;
}

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
    try {
      const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`${this.procRoot}/${pid}/status`, 'utf8'));
      if (m) uid = Number(m[1]);
    } catch {
      // gone between the two reads: the next look says so
    }
    return { startTime: processStartTime(stat.startTicks, this.procRoot), ppid: stat.ppid, zombie: stat.state === 'Z', uid };
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
    if (!Number.isInteger(pid) || pid <= 0) return `pid ${pid} is not a process`;
    if (pid === 1) return 'pid 1 is init: ending it ends the machine';
    if (pid === this.selfPid) return 'that is Portwatch itself';
    if (this.ancestors().has(pid)) return 'that is a parent of Portwatch: ending it ends Portwatch';
    // descendants of Portwatch are its own helpers (Electron's renderer and GPU processes, a browser it opened)
    let cur: number | undefined = pid;
    for (let i = 0; i < 128 && cur !== undefined && cur > 1; i++) {
      const seen = this.look(cur);
      if (!seen) break;
      if (seen.ppid === this.selfPid) return "that is one of Portwatch's own helper processes";
      cur = seen.ppid;
    }
    return null;
  }

  private refusePermission(pid: number, uid: number | null): KillOutcome {
    const owner = uid === null ? 'another user' : (this.opts.users?.name(uid) ?? `uid ${uid}`);
    return { result: 'refused', pid, code: 'permission', reason: `permission denied: owned by ${owner}; run Portwatch elevated` };
  }

  /**
   * SIGTERM (or SIGKILL with `force`), then watch up to waitMs for the process to go. The caller offers
   * Force when the answer is still-running.
   */
  async terminate(target: KillTarget, force = false): Promise<KillOutcome> {
    const { pid } = target;
    const why = this.guard(pid);
    if (why) return { result: 'refused', pid, code: Number.isInteger(pid) && pid > 0 ? 'protected' : 'invalid', reason: why };
    if (this.platform === 'win32') return this.taskkill(pid);
    if (this.platform !== 'linux') return { result: 'refused', pid, code: 'unsupported', reason: `killing is not supported on ${this.platform} yet` };
    const signal = force ? 'SIGKILL' : 'SIGTERM';
    const before = this.look(pid);
    if (!before || before.zombie) return { result: 'already-gone', pid };
    if (target.startTime === null || before.startTime !== target.startTime) {
      return { result: 'refused', pid, code: 'changed', reason: 'process changed: this pid now belongs to another process' };
    }
    try {
      process.kill(pid, signal);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ESRCH') return { result: 'already-gone', pid };
      if (code === 'EPERM') return this.refusePermission(pid, before.uid);
      throw e;
    }
    const started = Date.now();
    for (;;) {
      const now = this.look(pid);
      if (!now || now.zombie || now.startTime !== before.startTime) return { result: 'exited', pid, signal, afterMs: Date.now() - started };
      if (Date.now() - started >= this.waitMs) return { result: 'still-running', pid, signal, waitedMs: Date.now() - started };
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private taskkill(pid: number): Promise<KillOutcome> {
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

/** Start time (epoch ms) of a pid now, or null when it is gone: what a caller passes as KillTarget.startTime. */
export function startTimeOf(pid: number, procRoot = '/proc'): number | null {
  try {
    const stat = parseStat(readFileSync(`${procRoot}/${pid}/stat`, 'latin1'));
    return stat ? processStartTime(stat.startTicks, procRoot) : null;
  } catch {
    return null;
  }
}
