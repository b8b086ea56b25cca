import { HelperThread } from '../helperThread';
import { koffiModule } from '../native/libc';

/**
 * A helper thread that runs a poll's sock_diag dumps (the syscalls: the kernel builds the answer on the
 * caller's time, about 20 ms for ten thousand TCP sockets with tcp_info) into shared memory, while the caller's
 * thread parses each datagram as it lands. The same pattern as TableStream for /proc/net: the kernel's part of
 * a steady poll moves off its critical path.
 *
 * Descriptors are per process, so the helper receives on the caller's own sock_diag sockets: nothing to open,
 * and the namespace each socket was opened in still holds.
 *
 * Shared state (Int32 slots of `ctrl`):
 *   REQUEST  poll number, bumped by the caller to ask for the jobs
 *   JOBS     how many jobs `reqs` holds this time
 *   WRITTEN  bytes of `data` filled so far this poll (whole frames only)
 *   VERSION  bumped with every change the caller may wait on
 *   START+k  where job k's frames begin (-1: not yet)
 *   END+k    where they end (-1: still dumping; -2: failed or did not fit: the caller dumps it itself)
 * `data` holds frames: a u32 length (native order), the datagram, padding to 4 bytes.
 * `reqs` holds per job, at k * REQ_SLOT: the descriptor (i32), the request's length (i32), the request.
 */
const LAYOUT = { REQUEST: 0, JOBS: 1, WRITTEN: 2, VERSION: 3, START: 8, END: 72 } as const;
const { REQUEST, JOBS, WRITTEN, VERSION, START, END } = LAYOUT;
export const MAX_JOBS = END - START;
const SLOTS = END + MAX_JOBS;
const REQ_SLOT = 256;

/** Self-contained: handed to the Worker as source text, so it works the same from every bundle. */
function dumperMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const { data, reqs, ctrl, at, reqSlot, koffiPath, littleEndian } = workerData as {
    data: SharedArrayBuffer;
    reqs: SharedArrayBuffer;
    ctrl: Int32Array;
    at: typeof LAYOUT;
    reqSlot: number;
    koffiPath: string;
    littleEndian: boolean;
  };
  let koffi: Pick<typeof import('koffi'), 'load'>;
  try {
    koffi = require(koffiPath) as typeof koffi;
  } catch (e) {
    // the native module itself would not load (see koffiModule): the package finds the right one
    if (!koffiPath.endsWith('.node')) throw e;
    koffi = require(require.resolve('koffi', { paths: [koffiPath] })) as typeof koffi;
  }
  /* eslint-enable @typescript-eslint/no-require-imports */
  const lib = koffi.load('libc.so.6');
  const sendto = lib.func('intptr_t sendto(int, const void *, uintptr_t, int, const void *, uint32_t)');
  const recv = lib.func('intptr_t recv(int, void *, uintptr_t, int)');
  const MSG_TRUNC = 0x20;
  const bytes = Buffer.from(data);
  const req = Buffer.from(reqs);
  const nl = Buffer.alloc(12);
  nl.writeUInt16LE(16, 0); // AF_NETLINK, to the kernel
  const u32 = (b: Buffer, o: number): number => (littleEndian ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const bump = (): void => {
    Atomics.add(ctrl, at.VERSION, 1);
    Atomics.notify(ctrl, at.VERSION);
  };
  /** Whether a datagram ends the dump of sequence `seq` (DONE or ERROR), or -1 when it does not add up. */
  const ends = (off: number, len: number, seq: number): number => {
    for (let p = off; p + 16 <= off + len;) {
      const n = u32(bytes, p);
      if (n < 16 || n > off + len - p) return -1;
      const type = littleEndian ? bytes.readUInt16LE(p + 4) : bytes.readUInt16BE(p + 4);
      if ((type === 2 || type === 3) && u32(bytes, p + 8) === seq) return 1;
      p += (n + 3) & ~3;
    }
    return 0;
  };
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, at.REQUEST, seen);
    seen = Atomics.load(ctrl, at.REQUEST);
    const jobs = Atomics.load(ctrl, at.JOBS);
    let used = 0;
    for (let k = 0; k < jobs; k++) {
      const base = k * reqSlot;
      const fd = req.readInt32LE(base);
      const len = req.readInt32LE(base + 4);
      const body = req.subarray(base + 8, base + 8 + len);
      const seq = u32(body, 8);
      Atomics.store(ctrl, at.START + k, used);
      bump();
      let ok = false;
      if (Number(sendto(fd, body, len, 0, nl, 12)) === len) {
        for (;;) {
          const room = bytes.length - used - 4;
          if (room < 65536) break; // no room for a whole datagram: the caller dumps it itself
          const n = Number(recv(fd, bytes.subarray(used + 4), room, MSG_TRUNC));
          if (n <= 0 || n > room) break; // an error, a timeout (SO_RCVTIMEO) or a datagram cut short
          if (littleEndian) bytes.writeUInt32LE(n, used);
          else bytes.writeUInt32BE(n, used);
          const end = ends(used + 4, n, seq);
          used += 4 + ((n + 3) & ~3);
          Atomics.store(ctrl, at.WRITTEN, used);
          bump();
          if (end !== 0) {
            ok = end === 1;
            break;
          }
        }
      }
      Atomics.store(ctrl, at.WRITTEN, used);
      Atomics.store(ctrl, at.END + k, ok ? used : -2);
      bump();
      // a failed job leaves its socket mid-dump: the caller's in-thread retry drains it (another sequence)
    }
  }
}

/** One dump for the helper: the sock_diag socket to use and the request to send on it. */
export interface StreamJob {
  fd: number;
  request: Buffer;
}

export class DumpStream {
  private readonly data: SharedArrayBuffer;
  private readonly reqs = new SharedArrayBuffer(MAX_JOBS * REQ_SLOT);
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  private readonly helper: HelperThread;
  private poll = 0;

  constructor(
    private readonly littleEndian: boolean,
    capacityBytes = 48 << 20,
    private readonly stallMs = 5000,
  ) {
    this.data = new SharedArrayBuffer(capacityBytes);
    let koffiPath = '';
    try {
      koffiPath = koffiModule();
    } catch {
      // the helper then fails to start and is given up: dumps run in-thread (where koffi must load anyway)
    }
    this.helper = new HelperThread(dumperMain, { data: this.data, reqs: this.reqs, ctrl: this.ctrl, at: LAYOUT, reqSlot: REQ_SLOT, koffiPath, littleEndian });
  }

  /** Whether the helper can serve (it has not died or stalled). */
  get usable(): boolean {
    return this.helper.usable;
  }

  /**
   * Runs `jobs` on the helper and hands every datagram of job k to `consume(k, buf, len)` as it lands, in
   * order. Blocks this thread until done. Returns, per job, whether it was handed over whole; a job that failed
   * (the helper could not send, receive or fit it, or stopped answering) is the caller's to run itself, after
   * discarding what `consume` had of it. `meanwhile` runs right after the request, before the first datagram is
   * awaited.
   */
  run(jobs: readonly StreamJob[], consume: (k: number, buf: Buffer, len: number) => void, meanwhile?: () => void): boolean[] {
    const outcome = jobs.map(() => false);
    if (jobs.length === 0 || jobs.length > MAX_JOBS || !this.helper.start()) return outcome;
    const ctrl = this.ctrl;
    const req = Buffer.from(this.reqs);
    for (let k = 0; k < jobs.length; k++) {
      const j = jobs[k] as StreamJob;
      if (j.request.length > REQ_SLOT - 8) return outcome;
      req.writeInt32LE(j.fd, k * REQ_SLOT);
      req.writeInt32LE(j.request.length, k * REQ_SLOT + 4);
      j.request.copy(req, k * REQ_SLOT + 8);
      Atomics.store(ctrl, START + k, -1);
      Atomics.store(ctrl, END + k, -1);
    }
    Atomics.store(ctrl, WRITTEN, 0);
    Atomics.store(ctrl, JOBS, jobs.length);
    Atomics.store(ctrl, REQUEST, ++this.poll);
    Atomics.notify(ctrl, REQUEST);
    // work of the caller's that needs no dump, while the kernel builds the first answers
    meanwhile?.();

    const bytes = Buffer.from(this.data);
    const u32 = (o: number): number => (this.littleEndian ? bytes.readUInt32LE(o) : bytes.readUInt32BE(o));
    for (let k = 0; k < jobs.length; k++) {
      let at = -1;
      for (;;) {
        const version = Atomics.load(ctrl, VERSION);
        // WRITTEN before END: while END says "still dumping", every frame up to WRITTEN is this job's
        const written = Atomics.load(ctrl, WRITTEN);
        const start = Atomics.load(ctrl, START + k);
        const end = Atomics.load(ctrl, END + k);
        if (end === -2) break;
        if (start >= 0) {
          if (at < 0) at = start;
          const limit = end >= 0 ? end : written;
          while (at + 4 <= limit) {
            const n = u32(at);
            if (n > limit - at - 4) break; // cannot happen: frames are published whole
            consume(k, bytes.subarray(at + 4, at + 4 + n), n);
            at += 4 + ((n + 3) & ~3);
          }
          if (end >= 0) {
            outcome[k] = true;
            break;
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

  /** Ends the helper thread (a later run starts another). */
  close(): void {
    this.helper.close();
  }
}
