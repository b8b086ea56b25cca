import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { EWOULDBLOCK, libc, LOCK_EX, LOCK_NB, LOCK_SH } from '../native/libc';

/**
 * One writer per history database: `<db>.lock` beside it, held with flock(2) for as long as the writer runs.
 * The kernel releases a flock when its descriptor closes or its process dies (kill -9 included), so a lock is
 * never stale and never needs breaking. The file also says who holds it ({pid, command, since}), for a second
 * Portwatch to name the process that is recording. The file is left in place when released: deleting it would
 * race with a writer that just opened it.
 */

export interface LockHolder {
  pid: number;
  command: string;
  /** Epoch ms when it took the lock. */
  since: number;
}

export type LockResult = { ok: true; lock: HistoryLock } | { ok: false; holder: LockHolder | null; message: string };

/** O_NOFOLLOW: a planted link is ELOOP; O_NONBLOCK: a FIFO opens at once (and is refused by the fstat). */
const OPEN_FLAGS = constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

function openLockFile(path: string, write: boolean): number {
  const fd = openSync(path, (write ? constants.O_RDWR | constants.O_CREAT : constants.O_RDONLY) | OPEN_FLAGS, 0o600);
  const st = fstatSync(fd);
  const uid = process.geteuid?.();
  if (!st.isFile() || (uid !== undefined && st.uid !== uid && st.uid !== 0)) {
    closeSync(fd);
    throw new Error(`${path} is not a regular file of yours: remove it`);
  }
  return fd;
}

function readHolder(fd: number): LockHolder | null {
  const buf = Buffer.alloc(4096);
  const n = readSync(fd, buf, 0, buf.length, 0);
  try {
    const v = JSON.parse(buf.toString('utf8', 0, n)) as Partial<LockHolder>;
    if (typeof v.pid === 'number' && typeof v.command === 'string' && typeof v.since === 'number') return { pid: v.pid, command: v.command, since: v.since };
  } catch {
    // written by hand, or half-written: nobody named
  }
  return null;
}

/** flock(fd, LOCK_EX or LOCK_SH | LOCK_NB): true when taken, false when another descriptor holds it. */
function tryLock(fd: number, shared = false): boolean {
  const c = libc();
  if (c.flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) === 0) return true;
  const e = c.errno();
  if (e === EWOULDBLOCK) return false;
  throw new Error(`flock failed (errno ${e})`);
}

export class HistoryLock {
  private constructor(
    private fd: number | null,
    readonly path: string,
  ) {}

  /** Takes the lock for this process, recording who holds it; refuses, naming the holder, when another has it. */
  static acquire(path: string, command: string, now: () => number = Date.now): LockResult {
    let fd: number;
    try {
      fd = openLockFile(path, true);
    } catch (e) {
      return { ok: false, holder: null, message: `cannot open the lock ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
    }
    try {
      if (!tryLock(fd)) {
        const holder = readHolder(fd);
        closeSync(fd);
        return { ok: false, holder, message: `another Portwatch is recording into this history: ${describeHolder(holder)}` };
      }
      ftruncateSync(fd, 0);
      writeSync(fd, JSON.stringify({ pid: process.pid, command, since: now() }) + '\n', 0);
      return { ok: true, lock: new HistoryLock(fd, path) };
    } catch (e) {
      closeSync(fd);
      return { ok: false, holder: null, message: `cannot lock ${path}: ${(e as Error).message}` };
    }
  }

  /** Who is recording (the lock is held), or null when nobody is. Never takes the lock for long: only to test it. */
  static holder(path: string): LockHolder | 'unknown' | null {
    let fd: number;
    try {
      fd = openLockFile(path, false);
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ENOENT' ? null : 'unknown';
    }
    try {
      // shared: two readers asking at once do not take each other for writers
      if (tryLock(fd, true)) return null; // closing fd below releases it at once
      return readHolder(fd) ?? 'unknown';
    } catch {
      return 'unknown';
    } finally {
      closeSync(fd);
    }
  }

  /** Releases the lock (closing the descriptor is what releases a flock). */
  release(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}

/** `pid 1234 (portwatch record --db x), since 2026-12-01T10:00:00.000Z`. */
export function describeHolder(h: LockHolder | 'unknown' | null): string {
  if (h === null) return 'nobody';
  if (h === 'unknown') return 'a process that did not say who it is';
  return `pid ${h.pid} (${h.command}), since ${new Date(h.since).toISOString()}`;
}
