import { HelperThread } from '../helperThread';

/**
 * A helper thread that reads /proc files into shared memory while the caller's thread parses what has arrived.
 * The kernel formats /proc/net tables on the reader's time, a page per read call (about 25 ms for ten
 * thousand sockets on a 2-core VM); parsing on another core as the pages come in takes the parse off a steady
 * poll's critical path.
 *
 * Shared state (Int32 slots of `ctrl`):
 *   REQUEST  poll number, bumped by the caller to ask for a read
 *   MASK     which of the paths to read, a bit each
 *   WRITTEN  bytes of `data` filled so far this poll
 *   VERSION  bumped with every change the caller may wait on
 *   START+k  where path k's bytes begin (-1: not yet)
 *   END+k    where they end (-1: still reading; -2: failed or did not fit, the caller reads it itself)
 */
const LAYOUT = { REQUEST: 0, MASK: 1, WRITTEN: 2, VERSION: 3, START: 8, END: 24 } as const;
const { REQUEST, MASK, WRITTEN, VERSION, START, END } = LAYOUT;
const MAX_PATHS = END - START;
const SLOTS = END + MAX_PATHS;

/** Self-contained: handed to the Worker as source text, so it works the same from every bundle. */
function readerMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const fs = require('node:fs') as typeof import('node:fs');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const { data, ctrl, paths, at } = workerData as { data: SharedArrayBuffer; ctrl: Int32Array; paths: string[]; at: typeof LAYOUT };
  const bytes = new Uint8Array(data);
  Error.stackTraceLimit = 0;
  const bump = (): void => {
    Atomics.add(ctrl, at.VERSION, 1);
    Atomics.notify(ctrl, at.VERSION);
  };
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, at.REQUEST, seen);
    seen = Atomics.load(ctrl, at.REQUEST);
    const mask = Atomics.load(ctrl, at.MASK);
    let used = 0;
    let told = 0;
    for (let k = 0; k < paths.length; k++) {
      if ((mask & (1 << k)) === 0) continue;
      Atomics.store(ctrl, at.START + k, used);
      bump();
      let ok = false;
      try {
        const fd = fs.openSync(paths[k] as string, 'r');
        try {
          for (;;) {
            if (used === bytes.length) break; // does not fit: the caller reads it
            const n = fs.readSync(fd, bytes, used, bytes.length - used, null);
            if (n === 0) {
              ok = true;
              break;
            }
            used += n;
            // a wake-up per page would cost the parsing thread more than it saves: every 64 KiB
            if (used - told >= 65536) {
              Atomics.store(ctrl, at.WRITTEN, used);
              bump();
              told = used;
            }
          }
        } finally {
          fs.closeSync(fd);
        }
      } catch {
        // the caller reads it again itself, and reports what is wrong
      }
      Atomics.store(ctrl, at.WRITTEN, used);
      Atomics.store(ctrl, at.END + k, ok ? used : -2);
      bump();
    }
  }
}

export class TableStream {
  private readonly data: SharedArrayBuffer;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  private readonly helper: HelperThread;
  private poll = 0;

  /**
   * @param paths the files it may be asked for, by index (at most MAX_PATHS)
   * @param capacityBytes shared memory for one poll's files together; a file that does not fit is left to the caller
   * @param stallMs how long the caller waits for progress before it gives up on the helper for good
   */
  constructor(
    private readonly paths: readonly string[],
    capacityBytes = 32 << 20,
    private readonly stallMs = 5000,
  ) {
    if (paths.length > MAX_PATHS) throw new Error(`at most ${MAX_PATHS} paths`);
    this.data = new SharedArrayBuffer(capacityBytes);
    this.helper = new HelperThread(readerMain, { data: this.data, ctrl: this.ctrl, paths: this.paths, at: LAYOUT });
  }

  /**
   * Asks the helper for the files `which` (indexes into paths), then hands each file to `consume` in order, in pieces that end with a whole line (the last piece: whatever is left), as they
   * arrive. Blocks this thread until done. A file that failed or did not fit, or every file when the helper
   * cannot run or stops answering, comes back false: `consume` may have had part of it, which the caller
   * discards, then reads the file itself. Returns, per file of `which`, whether it was handed over whole.
   */
  read(which: readonly number[], consume: (index: number, text: string, last: boolean) => void): boolean[] {
    const outcome = which.map(() => false);
    if (!this.start()) return outcome;
    const ctrl = this.ctrl;
    let mask = 0;
    for (const k of which) mask |= 1 << k;
    for (let k = 0; k < this.paths.length; k++) {
      Atomics.store(ctrl, START + k, -1);
      Atomics.store(ctrl, END + k, -1);
    }
    Atomics.store(ctrl, WRITTEN, 0);
    Atomics.store(ctrl, MASK, mask);
    Atomics.store(ctrl, REQUEST, ++this.poll);
    Atomics.notify(ctrl, REQUEST);

    const bytes = Buffer.from(this.data);
    for (let w = 0; w < which.length; w++) {
      const k = which[w] as number;
      let parsed = -1;
      let carry = '';
      for (;;) {
        const version = Atomics.load(ctrl, VERSION);
        // WRITTEN before END: while END says "still reading", every byte up to WRITTEN is this file's
        const written = Atomics.load(ctrl, WRITTEN);
        const start = Atomics.load(ctrl, START + k);
        const end = Atomics.load(ctrl, END + k);
        if (end === -2) break;
        if (start >= 0) {
          if (parsed < 0) parsed = start;
          const limit = end >= 0 ? end : written;
          if (limit > parsed || end >= 0) {
            const text = carry + bytes.toString('latin1', parsed, limit);
            parsed = limit;
            if (end >= 0) {
              consume(k, text, true);
              outcome[w] = true;
              break;
            }
            const nl = text.lastIndexOf('\n');
            carry = text.slice(nl + 1);
            if (nl >= 0) consume(k, text.slice(0, nl + 1), false);
            continue;
          }
        }
        if (Atomics.wait(ctrl, VERSION, version, this.stallMs) === 'timed-out') {
          this.helper.giveUp();
          return outcome;
        }
      }
    }
    return outcome;
  }

  /** Ends the helper thread (a later read starts another). */
  close(): void {
    this.helper.close();
  }

  /** Starts the helper now, so that it is up by the first read (a thread takes about 30 ms to start). */
  start(): boolean {
    return this.helper.start();
  }
}
