import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import { koffiModule, socketLinkInode } from '../native/libc';
import { fsLinks, koffiLinks, type Links } from '../native/links';
import { ownTable, pidsAreOurs, type OwnerLookup } from '../owners';

/*
 * A one-off listing's descriptor walk: who holds each socket, read once from /proc/<pid>/fd by this thread and
 * a helper thread together, for `portwatch list`. Unlike OwnerIndex (which keeps every table for the next
 * poll) it keeps nothing but socket inode -> pids, and it is built to end early:
 *  - the helper thread is started first and boots (30 to 60 ms) while this thread dumps the kernel's tables,
 *    and walks meanwhile; this thread then walks what is left with it;
 *  - the work is split in chunks of descriptors, not whole processes: ten thousand sockets are often a handful
 *    of processes, and two threads splitting those by process end far apart;
 *  - a large table is read by descriptor number (0 up to its count, which st_size gives on Linux 6.2+) without
 *    listing it: a listing costs the kernel nearly what the readlinks do. Numbers past the count (a table with
 *    holes) are found by a listing afterwards, only for the tables whose count was not reached.
 * Results come back through shared memory: no message to clone, no event loop turn to wait for.
 *
 * `list --listen` wants the owners of a few dozen listeners among ten thousand descriptors, and a walk told
 * what it looks for (untilFound) stops once each has an owner, between passes: the first reads every small
 * table whole (where daemons keep their listeners) and the large ones' first FIRST_WINDOW descriptors (a
 * server opens its listener before its connections, and a forked worker inherits it at the same number, so
 * its worker is found in the same pass); then come the threads with tables of their own, then the large
 * tables' later windows, one pass each. A listener it cannot find may sit in a table it may not read
 * (another user's process, or one that forbids it even to root): when every listener still without an owner
 * belongs to (has the uid of) a process whose table was denied, the rest is not read either, since reading it
 * would most likely find nothing. What it leaves unread is the tail of tables of RANGED_FROM descriptors or
 * more: a second holder of a listener there (one passed late over a unix socket into a process that already
 * held hundreds of descriptors), or a listener created by one user and held only there by another, is missed.
 */

/** A table this large or larger is read in chunks by number (CHUNK descriptors each); smaller ones whole. */
const RANGED_FROM = 512;
const CHUNK = 256;
/** A walk told what it looks for (untilFound) reads large tables from this window first (see above). */
const FIRST_WINDOW = 64;
/**
 * Slots of `ctrl`: 0 the next chunk to take, then these: the helper is up (it has its work), it is idle (it
 * found no chunk left), how many pair slots it published, and GO: 1 its work was posted, 2 there is none. The
 * helper's code spells them as numbers (it is handed over as text).
 */
const UP = 1;
const IDLE = 2;
const PUBLISHED = 3;
const GO = 4;
const CTRL_SLOTS = 5;
/** How long a booted helper waits for its work before it ends by itself (its caller failed, or forgot it). */
const BOOTED_WAIT_MS = 10_000;
/**
 * A helper thread takes 30 to 60 ms to boot (longer on a busy machine); this thread walks some 8,000
 * descriptors in that time. Below this many the helper would come up to find little left, and its boot would
 * only compete with this thread for a core.
 */
const HELPER_FROM_FDS = 8000;
/** How long the caller waits for the helper's last chunk before doing it itself. */
const STALL_MS = 5000;

interface Shared {
  procRoot: string;
  /** Per chunk: pid, first descriptor number, end (exclusive); end -1: the whole table, listed. */
  chunks: Int32Array;
  ctrl: Int32Array;
  /** Per chunk: 0 until done, then 1 + how many descriptors it found (the caller's own are negative). */
  done: Int32Array;
  /** The helper's findings: pid, inode pairs; inode 0 marks a descriptor or table it may not read. */
  pairs: Uint32Array;
}

/**
 * Walks chunks taken from `s.ctrl[0]` until none are left or `stop()` says so; `emit(pid, inode)` gets
 * every socket found (inode 0: something unreadable, EACCES) and returns false when it has no room (the chunk
 * is then left undone). Self-contained: the helper thread runs it from its source text.
 */
function walkChunks<H>(s: Shared, sign: number, links: Links<H>, emit: (pid: number, inode: number) => boolean, stop: () => boolean, after: () => void): void {
  const total = s.done.length;
  while (!stop()) {
    const c = Atomics.add(s.ctrl, 0 /* NEXT */, 1);
    if (c >= total) return;
    const pid = s.chunks[c * 3] as number;
    const lo = s.chunks[c * 3 + 1] as number;
    const hi = s.chunks[c * 3 + 2] as number;
    const dir = `${s.procRoot}/${pid}/fd`;
    let found = 0;
    let room = true;
    const names = hi < 0 ? links.list(dir) : null;
    const handle = hi >= 0 || (names !== null && names.length > 0) ? links.open(dir) : null;
    if (handle === null) {
      if ((hi >= 0 || names === null) && links.denied()) room = emit(pid, 0);
    } else {
      const n = names === null ? hi - lo : names.length;
      for (let i = 0; i < n && room; i++) {
        const r = links.link(handle, names === null ? String(lo + i) : (names[i] as string));
        if (r === -3 /* GONE */) continue; // closed meanwhile, or a hole in the numbers
        found++;
        if (r > 0) room = emit(pid, r);
        else if (r === -2 /* DENIED */) {
          // the kernel asks the same of every descriptor of a process (may this reader ptrace it?): the
          // others would be refused too, each a failed call (and, through node:fs, an exception)
          room = emit(pid, 0);
          break;
        }
      }
      links.close(handle);
    }
    if (names !== null) found = names.length;
    if (!room) return;
    after();
    Atomics.store(s.done, c, sign * (found + 1));
  }
}

/** Links through libc (koffi) for this thread, as the helper reads; null when koffi cannot load (then fsLinks). */
function nativeLinks(): Links<number> | null {
  try {
    return koffiLinks(koffiModule(), fs, socketLinkInode);
  } catch {
    return null;
  }
}

/**
 * The helper thread's program (given walkChunks and fsLinks): waits for its work (GO, then the message with
 * the shared arrays), tells it is up, walks, publishes, tells it is idle.
 */
function helperMain(walkChunksHere: typeof walkChunks, fsLinksHere: typeof fsLinks, koffiLinksHere: typeof koffiLinks, inodeOf: typeof socketLinkInode): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { workerData, receiveMessageOnPort } = require('node:worker_threads') as typeof import('node:worker_threads');
  const fsm = require('node:fs') as typeof fs;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const { ctrl, port, waitMs, koffiPath } = workerData as {
    ctrl: Int32Array;
    port: import('node:worker_threads').MessagePort;
    waitMs: number;
    koffiPath: string | null;
  };
  Error.stackTraceLimit = 0;
  if (Atomics.wait(ctrl, 4 /* GO */, 0, waitMs) === 'timed-out' || Atomics.load(ctrl, 4 /* GO */) !== 1) return;
  // posted before GO was set: it is in the port's queue by now
  const got = receiveMessageOnPort(port) as { message: Omit<Shared, 'ctrl'> } | undefined;
  if (got === undefined) return; // then the caller walks it all (it waits only for a helper that is up)
  const shared: Shared = { ...got.message, ctrl };
  const { pairs } = shared;
  let links: Links<unknown>;
  try {
    links = (koffiPath === null ? fsLinksHere(fsm) : koffiLinksHere(koffiPath, fsm, inodeOf)) as Links<unknown>;
  } catch {
    links = fsLinksHere(fsm) as Links<unknown>;
  }
  Atomics.store(ctrl, 1 /* UP */, 1);
  let at = 0;
  try {
    walkChunksHere(
      shared,
      1,
      links,
      (pid, inode) => {
        if (at + 2 > pairs.length) return false;
        pairs[at++] = pid;
        pairs[at++] = inode;
        return true;
      },
      () => false,
      () => Atomics.store(ctrl, 3 /* PUBLISHED */, at),
    );
  } finally {
    // what it took and did not finish, the caller does itself
    Atomics.store(ctrl, 2 /* IDLE */, 1);
    Atomics.notify(ctrl, 2 /* IDLE */);
  }
}

/**
 * A walk helper thread started before its work is known. A thread takes 30 to 60 ms to boot: a one-off
 * listing boots it first thing (bootWalkHelper), and it is ready by the time the kernel's tables are dumped and
 * the descriptors counted, when OneShotWalk hands it its share. One not handed to a walk ends by itself.
 */
export class WalkHelper {
  private constructor(
    readonly worker: Worker,
    readonly ctrl: Int32Array,
    private readonly port: import('node:worker_threads').MessagePort,
  ) {}

  /** Boots one; null when no thread can be started here. */
  static boot(): WalkHelper | null {
    try {
      // required here: list --listen, which walks alone, loads no node:worker_threads
      const { Worker, MessageChannel } = createRequire(__filename)('node:worker_threads') as typeof import('node:worker_threads');
      const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_SLOTS * 4));
      const { port1, port2 } = new MessageChannel();
      let koffiPath: string | null = null;
      try {
        koffiPath = koffiModule();
      } catch {
        // no koffi: the helper reads through node:fs
      }
      const program = [helperMain, walkChunks, fsLinks, koffiLinks, socketLinkInode].map((f) => f.toString());
      const worker = new Worker(`(${program[0]})(${program.slice(1).join(', ')})`, {
        eval: true,
        workerData: { ctrl, port: port2, waitMs: BOOTED_WAIT_MS, koffiPath },
        transferList: [port2],
        // it writes nothing: no stdio of its own to pipe to this thread's
        stdout: true,
        stderr: true,
      });
      worker.unref();
      port1.unref();
      worker.on('error', () => undefined); // a helper that fails leaves its chunks to its caller
      return new WalkHelper(worker, ctrl, port1);
    } catch {
      return null;
    }
  }

  /** Hands it its work: the shared arrays of a walk whose ctrl is this helper's. */
  start(work: Omit<Shared, 'ctrl'>): void {
    this.port.postMessage(work);
    Atomics.store(this.ctrl, GO, 1);
    Atomics.notify(this.ctrl, GO);
  }

  /** Ends it (it had no work, or its walk is over). */
  dispose(): void {
    if (Atomics.compareExchange(this.ctrl, GO, 0, 2) === 0) Atomics.notify(this.ctrl, GO);
    this.port.close();
    void this.worker.terminate();
  }
}

/** Each process's descriptor count: st_size of /proc/<pid>/fd (Linux 6.2+), 0 where it gives none or is gone. */
function descriptorCounts(procRoot: string): Array<[pid: number, size: number]> {
  const sized: Array<[number, number]> = [];
  for (const name of fs.readdirSync(procRoot)) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    let size = 0;
    try {
      size = fs.statSync(`${procRoot}/${pid}/fd`).size;
    } catch {
      // gone, or not ours to look at: listed whole (its error tells which)
    }
    sized.push([pid, size]);
  }
  return sized;
}

/** Where a one-off walk starts: every table's descriptor count, and a helper booting if they are enough for one. */
export interface WalkStart {
  readonly sized: Array<[pid: number, size: number]>;
  readonly helper: WalkHelper | null;
}

/**
 * Counts the descriptors first thing and, when there are enough to share (HELPER_FROM_FDS), boots the walk's
 * helper so that it is up when the walk begins; a machine with fewer starts no thread at all. OneShotWalk takes
 * both (the counts are not read again).
 */
export function startWalk(procRoot = '/proc', helperFromFds = HELPER_FROM_FDS): WalkStart {
  const sized = descriptorCounts(procRoot);
  let fds = 0;
  for (const [, size] of sized) fds += size;
  return { sized, helper: fds >= helperFromFds ? WalkHelper.boot() : null };
}

/** What a walk found: owners by inode, and the processes whose descriptors it could not read. */
export interface WalkResult {
  owners: OwnerLookup;
  /** Pids with a table or a descriptor that could not be read (EACCES). */
  denied: ReadonlySet<number>;
}

/**
 * A walk of every process's descriptors, shared with a helper thread. Start it as early as possible (the
 * helper needs tens of milliseconds to boot), do the work that needs no owners, and call `finish()` when the
 * owners are needed. Without a helper (too few descriptors, or it could not start) this thread walks them all
 * in finish().
 */
export class OneShotWalk {
  private readonly shared: Shared;
  private readonly counts = new Map<number, number>();
  /** Whether kcmp(2) may compare this proc root's tasks (see pidsAreOurs). */
  private kcmpHere: boolean | undefined;
  private readonly worker: WalkHelper | null = null;
  /** This thread's own findings, pid, inode pairs as the helper's. */
  private readonly mine: number[] = [];
  private linksHere: Links<unknown> | null = null;
  /** What the walk found: socket inode -> its owner, or owners when more than one. */
  private readonly byInode = new Map<number, number | number[]>();
  private readonly denied = new Set<number>();

  /**
   * An untilFound walk's passes, each the index its chunks end at: the first (every small table, the large
   * ones' first windows), then one per window of the large tables. It stops only between passes.
   */
  private readonly passes: number[] = [];
  private readonly untilFound: boolean;
  /** Set by finish(): the walk stopped with chunks unread, every wanted socket having an owner. */
  private stoppedEarly = false;

  /**
   * `helper`: share the walk with a helper thread; 'auto' (the default): when there are enough descriptors.
   * `untilFound`: finish() stops walking once every socket it is given has an owner (see the file's comment),
   * in this thread alone (a helper would only be booting by then).
   */
  constructor(
    private readonly procRoot = '/proc',
    helper: boolean | 'auto' = 'auto',
    opts: { untilFound?: boolean; start?: WalkStart | null } = {},
  ) {
    this.untilFound = opts.untilFound === true;
    const sized = opts.start?.sized ?? descriptorCounts(procRoot);
    for (const [pid, size] of sized) this.counts.set(pid, size);
    const chunks: number[] = [];
    let fds = 0;
    for (const [, size] of sized) fds += size;
    if (this.untilFound) this.passes = searchOrder(sized, chunks);
    else {
      // the largest first, so that the last chunks are small ones and both threads end together
      sized.sort((a, b) => b[1] - a[1]);
      for (const [pid, size] of sized) {
        if (size < RANGED_FROM) chunks.push(pid, 0, -1);
        else for (let lo = 0; lo < size; lo += CHUNK) chunks.push(pid, lo, Math.min(size, lo + CHUNK));
      }
    }
    const n = chunks.length / 3;
    const wanted = !(this.untilFound || helper === false || (helper === 'auto' && fds < HELPER_FROM_FDS) || n < 2);
    const booted = opts.start?.helper ?? null;
    const worker = wanted ? (booted ?? WalkHelper.boot()) : null;
    if (!wanted) booted?.dispose();
    this.shared = {
      procRoot,
      chunks: new Int32Array(new SharedArrayBuffer(Math.max(1, chunks.length) * 4)),
      ctrl: worker?.ctrl ?? new Int32Array(new SharedArrayBuffer(CTRL_SLOTS * 4)),
      done: new Int32Array(new SharedArrayBuffer(Math.max(1, n) * 4)),
      // every descriptor a socket, and room for some more opened meanwhile
      pairs: new Uint32Array(new SharedArrayBuffer((2 * fds + 8192) * 4)),
    };
    this.shared.chunks.set(chunks);
    if (worker === null) return;
    const { chunks: c, done, pairs } = this.shared;
    worker.start({ procRoot, chunks: c, done, pairs });
    this.worker = worker;
  }

  /**
   * Walks what is left here, waits for the helper's last chunk, and returns what the walk found. `wanted`: the
   * socket inodes listed; those the walk did not find are looked for in processes that started since it began
   * and in threads with descriptor tables of their own (see OwnerIndex), as a poll would.
   */
  finish(wanted: Iterable<number>, uidOf?: (inode: number) => number | null): WalkResult {
    if (this.untilFound) return this.finishWhenFound(wanted, uidOf);
    const { ctrl, done } = this.shared;
    this.walkHere(() => false);
    if (this.worker !== null && Atomics.load(ctrl, UP) === 1 && Atomics.wait(ctrl, IDLE, 0, STALL_MS) === 'timed-out') {
      this.worker.dispose();
    }
    // chunks nobody finished (the helper stalled, or ran out of room): done here
    for (let c = 0; c < done.length; c++) {
      if (Atomics.load(done, c) === 0) this.chunk(c);
    }
    this.worker?.dispose();
    const pairs = this.shared.pairs;
    const published = Atomics.load(ctrl, PUBLISHED);
    for (let i = 0; i < published; i += 2) this.add(pairs[i] as number, pairs[i + 1] as number);
    for (let i = 0; i < this.mine.length; i += 2) this.add(this.mine[i] as number, this.mine[i + 1] as number);
    this.holes();
    const missing = new Set<number>();
    for (const inode of wanted) if (inode !== 0 && !this.byInode.has(inode)) missing.add(inode);
    if (missing.size > 0) this.lookFurther(missing);
    return { owners: lookup(this.byInode), denied: this.denied };
  }

  /**
   * finish() of an untilFound walk: the first pass, the threads and processes started since, then the rest,
   * each only while some wanted socket has no owner yet (and, for the rest, one not explained by a denied
   * table: see the file's comment; `uidOf` gives a wanted socket's uid).
   */
  private finishWhenFound(wanted: Iterable<number>, uidOf?: (inode: number) => number | null): WalkResult {
    const missing = new Set<number>();
    for (const inode of wanted) if (inode !== 0) missing.add(inode);
    const { ctrl, done } = this.shared;
    const links = this.links();
    const emit = (pid: number, inode: number): boolean => {
      this.add(pid, inode);
      missing.delete(inode);
      return true;
    };
    const walk = (until: number): void =>
      walkChunks(
        this.shared,
        -1,
        links,
        emit,
        () => Atomics.load(ctrl, 0) >= until,
        () => undefined,
      );
    // a pass is read whole: a forked worker inherits a listener at its server's number, in the same window
    walk(this.passes[0] ?? 0);
    if (missing.size > 0) this.lookFurther(missing);
    if (missing.size > 0 && !(uidOf !== undefined && this.deniedCouldHold(missing, uidOf))) {
      for (let p = 1; p < this.passes.length && missing.size > 0; p++) walk(this.passes[p] as number);
    }
    if (Atomics.load(ctrl, 0) < done.length) this.stoppedEarly = true;
    else {
      this.holes();
      // what the rest of the walk did not find either: processes started since the first look
      if (missing.size > 0) this.lookFurther(missing);
    }
    return { owners: lookup(this.byInode), denied: this.denied };
  }

  /** Whether each of `missing` has the uid of some process whose table could not be read. */
  private deniedCouldHold(missing: ReadonlySet<number>, uidOf: (inode: number) => number | null): boolean {
    if (this.denied.size === 0) return false;
    const uids = new Set<number>();
    for (const pid of this.denied) {
      try {
        uids.add(fs.statSync(`${this.procRoot}/${pid}`).uid);
      } catch {
        // gone
      }
    }
    for (const inode of missing) {
      const uid = uidOf(inode);
      if (uid === null || !uids.has(uid)) return false;
    }
    return true;
  }

  private add(pid: number, inode: number): void {
    if (inode === 0) {
      this.denied.add(pid);
      return;
    }
    const had = this.byInode.get(inode);
    if (had === undefined) this.byInode.set(inode, pid);
    else if (typeof had === 'number') {
      if (had !== pid) this.byInode.set(inode, [had, pid]);
    } else if (!had.includes(pid)) had.push(pid);
  }

  /** Reads a table whole (a leader's, or a thread's own), adding its sockets to `pid`; its names, or null. */
  private readTable(pid: number, dir: string): string[] | null {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') this.add(pid, 0);
      return null;
    }
    for (const name of names) this.readOne(pid, `${dir}/${name}`);
    return names;
  }

  private readOne(pid: number, path: string): void {
    try {
      const link = fs.readlinkSync(path);
      if (link.startsWith('socket:[')) this.add(pid, Number(link.slice(8, -1)));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') this.add(pid, 0);
    }
  }

  /**
   * Sockets the walk did not find an owner for: processes that started since it listed them are read, then
   * the threads of every process whose descriptor count (or, before Linux 6.2, listing) is not its leader's:
   * such a thread has a table of its own (unshare(CLONE_FILES), or a leader that exited), whose sockets are
   * the process's.
   */
  private lookFurther(missing: Set<number>): void {
    const found = (): boolean => {
      for (const inode of missing) if (this.byInode.has(inode)) missing.delete(inode);
      return missing.size === 0;
    };
    const pids: number[] = [];
    try {
      for (const name of fs.readdirSync(this.procRoot)) {
        const c = name.charCodeAt(0);
        if (c >= 48 && c <= 57) pids.push(Number(name));
      }
    } catch {
      return;
    }
    for (const pid of pids) if (!this.counts.has(pid)) this.readTable(pid, `${this.procRoot}/${pid}/fd`);
    if (found()) return;
    this.kcmpHere ??= pidsAreOurs(this.procRoot);
    for (const pid of pids) {
      if (this.denied.has(pid)) continue;
      let tids: string[];
      let leaderCount: number;
      try {
        tids = fs.readdirSync(`${this.procRoot}/${pid}/task`);
        if (tids.length < 2) continue;
        leaderCount = fs.statSync(`${this.procRoot}/${pid}/fd`).size;
      } catch {
        continue; // gone
      }
      let leaderNames: string[] | null = null;
      const ownRead: number[] = [];
      for (const tid of tids) {
        if (Number(tid) === pid) continue;
        const dir = `${this.procRoot}/${pid}/task/${tid}/fd`;
        // the kernel's answer where it gives one: counts race with a busy process's table (a browser's threads
        // open and close descriptors all the time), and each wrong guess reads a whole table again
        const kernel = this.kcmpHere ? ownTable(pid, Number(tid), ownRead) : null;
        if (kernel === false) continue;
        let own: boolean;
        if (kernel === true) own = true;
        else
          try {
            const count = fs.statSync(dir).size;
            if (count !== 0) own = count !== leaderCount;
            else {
              // no count: a kernel before 6.2 (or no descriptors at all)
              const names = fs.readdirSync(dir);
              leaderNames ??= fs.readdirSync(`${this.procRoot}/${pid}/fd`);
              own = names.length !== 0 && !sameNames(names, leaderNames);
            }
          } catch {
            continue; // the thread ended
          }
        if (!own) continue;
        ownRead.push(Number(tid));
        this.readTable(pid, dir);
        if (found()) return;
      }
    }
  }

  private walkHere(stop: () => boolean): void {
    const mine = this.mine;
    walkChunks(
      this.shared,
      -1,
      this.links(),
      (pid, inode) => {
        mine.push(pid, inode);
        return true;
      },
      stop,
      () => undefined,
    );
  }

  /** How this thread reads descriptors: through libc where it loads. */
  private links(): Links<unknown> {
    this.linksHere ??= (nativeLinks() ?? fsLinks(fs)) as Links<unknown>;
    return this.linksHere;
  }

  /** Walks one chunk here, whoever had taken it. */
  private chunk(c: number): void {
    const one: Shared = { ...this.shared, chunks: this.shared.chunks.subarray(c * 3, c * 3 + 3), ctrl: new Int32Array(CTRL_SLOTS), done: new Int32Array(1) };
    const mine = this.mine;
    walkChunks(
      one,
      -1,
      this.links(),
      (pid, inode) => (mine.push(pid, inode), true),
      () => false,
      () => undefined,
    );
    Atomics.store(this.shared.done, c, one.done[0] as number);
  }

  /**
   * Descriptors past a table's count: read by number up to its count, a table with holes has some beyond it.
   * Only those tables are listed, and only the names past what was read are read.
   */
  private holes(): void {
    const { chunks, done } = this.shared;
    const found = new Map<number, number>();
    const end = new Map<number, number>();
    for (let c = 0; c < done.length; c++) {
      const hi = chunks[c * 3 + 2] as number;
      if (hi < 0) continue;
      const pid = chunks[c * 3] as number;
      found.set(pid, (found.get(pid) ?? 0) + Math.abs(done[c] as number) - 1);
      end.set(pid, Math.max(end.get(pid) ?? 0, hi));
    }
    for (const [pid, n] of found) {
      if (n >= (this.counts.get(pid) ?? 0)) continue;
      const from = end.get(pid) as number;
      let names: string[];
      try {
        names = fs.readdirSync(`${this.procRoot}/${pid}/fd`);
      } catch {
        continue; // gone
      }
      for (const name of names) if (Number(name) >= from) this.readOne(pid, `${this.procRoot}/${pid}/fd/${name}`);
    }
  }

  /**
   * How the chunks were shared so far (for tests and diagnostics); `helperIdle`: it found none left;
   * `stoppedEarly`: an untilFound walk ended with chunks unread.
   */
  stats(): { chunks: number; byHelper: number; here: number; helperUp: boolean; helperIdle: boolean; stoppedEarly: boolean } {
    let byHelper = 0;
    let here = 0;
    for (const d of this.shared.done) {
      if (d > 0) byHelper++;
      else if (d < 0) here++;
    }
    const { ctrl } = this.shared;
    return {
      chunks: this.shared.done.length,
      byHelper,
      here,
      helperUp: Atomics.load(ctrl, UP) === 1,
      helperIdle: Atomics.load(ctrl, IDLE) === 1,
      stoppedEarly: this.stoppedEarly,
    };
  }

  /** Lets go of the helper (a walk never finished). */
  close(): void {
    this.worker?.dispose();
  }
}

/**
 * The chunks of an untilFound walk into `chunks`: every table under RANGED_FROM whole, smallest first, and the
 * large tables' first windows; then their later ones, window by window across tables. Returns where each pass
 * ends (a chunk index): the first, then one per window.
 */
function searchOrder(sized: ReadonlyArray<readonly [number, number]>, chunks: number[]): number[] {
  const small = sized.filter(([, size]) => size < RANGED_FROM).sort((a, b) => a[1] - b[1]);
  const large = sized.filter(([, size]) => size >= RANGED_FROM).sort((a, b) => a[0] - b[0]);
  for (const [pid] of small) chunks.push(pid, 0, -1);
  for (const [pid] of large) chunks.push(pid, 0, FIRST_WINDOW);
  const passes = [chunks.length / 3];
  for (let lo = FIRST_WINDOW; large.some(([, size]) => lo < size); lo += CHUNK) {
    for (const [pid, size] of large) if (lo < size) chunks.push(pid, lo, Math.min(size, lo + CHUNK));
    passes.push(chunks.length / 3);
  }
  return passes;
}

/** Whether two listings of a directory hold the same names. */
function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const inB = new Set(b);
  return a.every((n) => inB.has(n));
}

/** inode -> pids as an OwnerLookup: ascending pid lists, one shared list per single owner. */
function lookup(byInode: Map<number, number | number[]>): OwnerLookup {
  const single = new Map<number, readonly number[]>();
  const get = (inode: number): readonly number[] | undefined => {
    const had = byInode.get(inode);
    if (had === undefined) return undefined;
    if (typeof had !== 'number') return had.sort((a, b) => a - b);
    let list = single.get(had);
    if (list === undefined) single.set(had, (list = [had]));
    return list;
  };
  return { get, has: (inode) => byInode.has(inode) };
}
