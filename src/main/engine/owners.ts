import { readdirSync, readlinkSync, statSync } from 'node:fs';
import type { WalkedProcess } from './fdWalker';

export interface OwnerStats {
  /** readlink calls in the last resolve(): the cost that scales with descriptors. */
  readlinks: number;
  /** The same, per process read. */
  readlinksByPid: Map<number, number>;
  /** True when the last resolve() re-read every process. */
  fullWalk: boolean;
  /** Processes whose descriptors could not be read (EACCES): their sockets' owners are hidden. */
  permissionDenied: number;
}

/** What one process's fd directory held when last read: fd name -> socket inode, or -1 for anything else. */
type FdTable = Map<string, number>;

/** Owners of a socket inode, ascending; undefined when no visible process holds it. */
export interface OwnerLookup {
  get(inode: number): readonly number[] | undefined;
  has(inode: number): boolean;
}

/**
 * Who holds a socket: nearly always one descriptor of one process, kept as one small object; when more do
 * (a forked server, a passed descriptor), every descriptor by pid. Ten thousand sockets make ten thousand of
 * these on a cold poll: a Map and a Set each cost four allocations.
 */
type Holding = { pid: number; fd: string } | Map<number, Set<string>>;

/** Processes and descriptors vanish mid-walk all the time; their ENOENTs need no stack traces. */
function withoutStackTraces(fn: () => void): void {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    fn();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Marker for descriptors that are not sockets (files, pipes, eventfds). */
const NOT_SOCKET = -1;
/** Marker for descriptors listed but not readable (EACCES: another user's process, ptrace rules). */
const UNREADABLE = -2;

/**
 * socket inode -> every pid holding it, from /proc/<pid>/fd, kept incrementally so that a steady-state poll
 * costs what changed, not what exists (a readlink costs about 5 µs; ten thousand of them are the bulk of a
 * cold poll). Each poll:
 *  1. a new process is read whole; a gone one is forgotten;
 *  2. a descriptor whose socket left the kernel's tables is re-read (it is closed, or reused: the kernel hands
 *     out the lowest free number, so new sockets mostly land there);
 *  3. a process whose descriptor count (st_size of /proc/<pid>/fd, Linux 6.2+) no longer matches is re-listed,
 *     reading only names it has not seen: this catches new descriptors, closed inherited sockets and zombies;
 *  4. only while some socket still has no known owner, the likeliest processes (socket holders first) are
 *     re-listed with their non-socket descriptors re-read, until it is found.
 * The first poll reads everything. After that, a rolling share of the processes is read whole each poll so
 * that every one is read again at least every `fullRefreshEvery` polls: the backstop for whatever the steps
 * above miss, spread out so that no poll pays for all of it.
 */
export class OwnerIndex {
  private readonly procs = new Map<number, FdTable>();
  private readonly owners = new Map<number, Holding>();
  /** Sorted owner lists handed out for shared sockets, rebuilt only when an inode's holders change. */
  private readonly pidLists = new Map<number, number[]>();
  /** The one-owner lists, one per pid, shared by all its sockets (handed out read-only). */
  private readonly singleLists = new Map<number, readonly number[]>();
  private readonly lookup: OwnerLookup = {
    get: (inode) => this.ownersOf(inode),
    has: (inode) => this.ownersOf(inode) !== undefined,
  };
  private readonly denied = new Set<number>();
  private unresolved = new Set<number>();
  private polls = 0;
  private lastFull = false;
  /** Set by primed(): the next resolve() follows a full read and must not hunt for what it did not find. */
  private justPrimed = false;
  /** The inodes the tables listed last poll. */
  private lastWanted = new Set<number>();
  /** Next position of the rolling re-read in the sorted pid list. */
  private rollAt = 0;
  private readlinks = 0;
  private readlinksByPid = new Map<number, number>();
  stats: OwnerStats = { readlinks: 0, readlinksByPid: new Map(), fullWalk: false, permissionDenied: 0 };

  constructor(
    private readonly procRoot = '/proc',
    private readonly fullRefreshEvery = 30,
  ) {}

  /** Brings the index up to date for the live inodes (0 is ignored); then look owners up in what it returns. */
  resolve(wantedList: Iterable<number>): OwnerLookup {
    const wanted = new Set<number>();
    for (const inode of wantedList) if (inode !== 0) wanted.add(inode);
    this.lastFull = this.polls === 0;
    this.polls++;
    this.readlinks = 0;
    this.readlinksByPid = new Map();

    withoutStackTraces(() => this.update(wanted));
    for (const inode of this.unresolved) if (!wanted.has(inode)) this.unresolved.delete(inode);
    this.lastWanted = wanted;
    this.stats = { readlinks: this.readlinks, readlinksByPid: this.readlinksByPid, fullWalk: this.lastFull, permissionDenied: this.denied.size };
    return this.lookup;
  }

  private update(wanted: Set<number>): void {
    const full = this.lastFull;
    const live = this.listPids();
    for (const pid of [...this.procs.keys()]) if (!live.has(pid)) this.forget(pid);
    for (const pid of [...this.denied]) if (!live.has(pid)) this.denied.delete(pid);

    if (full) {
      this.unresolved.clear();
      for (const pid of live) this.readAll(pid);
      // whatever a full read did not find has no visible owner: do not hunt for it until the next one
      for (const inode of wanted) if (!this.owners.has(inode)) this.unresolved.add(inode);
    } else {
      for (const pid of live) if (!this.procs.has(pid) && !this.denied.has(pid)) this.readAll(pid);
      if (!this.justPrimed) this.rollingReread(live, wanted);
      this.recheckGoneSockets(wanted);
      for (const pid of [...this.procs.keys()]) this.relistIfCountChanged(pid);
      if (this.justPrimed) {
        // like after any full read: what it did not find has no visible owner for now
        for (const inode of wanted) if (!this.owners.has(inode)) this.unresolved.add(inode);
        this.justPrimed = false;
      } else {
        this.searchMissing(wanted, live);
      }
    }
  }

  private ownersOf(inode: number): readonly number[] | undefined {
    const holders = this.owners.get(inode);
    if (!holders) return undefined;
    if (!(holders instanceof Map)) {
      let list = this.singleLists.get(holders.pid);
      if (!list) this.singleLists.set(holders.pid, (list = [holders.pid]));
      return list;
    }
    const cached = this.pidLists.get(inode);
    if (cached) return cached;
    const list = [...holders.keys()].sort((a, b) => a - b);
    this.pidLists.set(inode, list);
    return list;
  }

  private rollingReread(live: Set<number>, wanted: Set<number>): void {
    const pids = [...live].sort((a, b) => a - b);
    // Infinity turns the backstop off (tests that count reads).
    const share = Number.isFinite(this.fullRefreshEvery) ? Math.ceil(pids.length / this.fullRefreshEvery) : 0;
    if (this.rollAt >= pids.length) {
      this.rollAt = 0;
      // a whole round is done: inodes nobody held get another search
      for (const inode of [...this.unresolved]) if (wanted.has(inode)) this.unresolved.delete(inode);
    }
    for (const pid of pids.slice(this.rollAt, this.rollAt + share)) this.readAll(pid);
    this.rollAt += share;
  }

  private recheckGoneSockets(wanted: Set<number>): void {
    // Only sockets that were in the tables last poll and are not now: unix and netlink sockets never are
    // in them, and must not be re-read every poll.
    const suspects: Array<[number, string]> = [];
    for (const inode of this.lastWanted) {
      if (wanted.has(inode)) continue;
      const holders = this.owners.get(inode);
      if (!holders) continue;
      if (!(holders instanceof Map)) suspects.push([holders.pid, holders.fd]);
      else for (const [pid, fds] of holders) for (const fd of fds) suspects.push([pid, fd]);
    }
    for (const [pid, fd] of suspects) {
      const table = this.procs.get(pid);
      if (!table) continue;
      const inode = this.readFd(pid, fd);
      if (inode === null) this.setFd(pid, table, fd, null);
      else this.setFd(pid, table, fd, inode);
    }
  }

  private relistIfCountChanged(pid: number): void {
    const table = this.procs.get(pid);
    if (!table) return;
    let size: number;
    try {
      size = statSync(`${this.procRoot}/${pid}/fd`).size;
    } catch {
      this.forget(pid);
      return;
    }
    // st_size 0: a kernel before 6.2 (no count) or no descriptors at all; either way, list it.
    if (size === table.size && size !== 0) return;
    if (size === 0 && table.size === 0) return;
    this.relist(pid, null);
  }

  private searchMissing(wanted: Set<number>, live: Set<number>): void {
    const missing = new Set<number>();
    for (const inode of wanted) if (!this.owners.has(inode) && !this.unresolved.has(inode)) missing.add(inode);
    if (missing.size === 0) return;
    // Socket holders open new sockets far more often than other processes do: look there first.
    const holders: number[] = [];
    const others: number[] = [];
    for (const pid of live) {
      const table = this.procs.get(pid);
      if (!table) continue;
      let holds = false;
      for (const v of table.values()) {
        if (v < 0) continue;
        holds = true;
        break;
      }
      (holds ? holders : others).push(pid);
    }
    for (const pid of [...holders, ...others]) {
      this.relist(pid, wanted);
      for (const v of this.procs.get(pid)?.values() ?? []) missing.delete(v);
      if (missing.size === 0) return;
    }
    for (const inode of missing) this.unresolved.add(inode);
  }

  /**
   * Takes over a first full read done elsewhere: `read(pid)` is called for each pid the caller walks itself,
   * `walked` holds what another thread read. The next resolve() then only catches up on what changed.
   */
  prime(walked: WalkedProcess[]): void {
    for (const w of walked) {
      const pid = w[0];
      this.forget(pid);
      if (w[1] === 'denied') {
        this.denied.add(pid);
        continue;
      }
      const values = w[2] as number[];
      const table: FdTable = new Map();
      this.procs.set(pid, table);
      w[1].forEach((fd, i) => this.setFd(pid, table, fd, values[i] as number));
      if (values.includes(UNREADABLE)) this.denied.add(pid);
    }
  }

  /** Reads one process whole, for a caller sharing a first full read with a walker thread (see prime). */
  read(pid: number): void {
    withoutStackTraces(() => this.readAll(pid));
  }

  /** Marks the first full read as done (by prime and read), so resolve() goes incremental at once. */
  primed(): void {
    if (this.polls === 0) this.polls = 1;
    this.justPrimed = true;
  }

  /**
   * Every pid on the machine now, those with the most descriptors first (st_size of /proc/<pid>/fd), so that
   * two threads sharing a walk end together instead of one waiting on the other's last big process.
   */
  pidsByDescriptors(): number[] {
    const sized = [...this.listPids()].map((pid) => {
      try {
        return [pid, statSync(`${this.procRoot}/${pid}/fd`).size] as const;
      } catch {
        return [pid, 0] as const;
      }
    });
    return sized.sort((a, b) => b[1] - a[1]).map(([pid]) => pid);
  }

  private listPids(): Set<number> {
    const pids = new Set<number>();
    for (const name of readdirSync(this.procRoot)) {
      const c = name.charCodeAt(0);
      if (c >= 48 && c <= 57) pids.add(Number(name));
    }
    return pids;
  }

  /** Lists the fd directory, or null when it cannot be (gone, or denied: then remembered as denied). */
  private listFds(pid: number): string[] | null {
    try {
      return readdirSync(`${this.procRoot}/${pid}/fd`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') this.denied.add(pid);
      this.forget(pid);
      return null;
    }
  }

  /** Socket inode behind a descriptor, NOT_SOCKET for other kinds, UNREADABLE, or null when it is closed. */
  private readFd(pid: number, fd: string): number | null {
    this.readlinks++;
    this.readlinksByPid.set(pid, (this.readlinksByPid.get(pid) ?? 0) + 1);
    let link: string;
    try {
      link = readlinkSync(`${this.procRoot}/${pid}/fd/${fd}`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM') return null;
      this.denied.add(pid);
      return UNREADABLE;
    }
    // "socket:[12345]"
    return link.charCodeAt(0) === 115 && link.startsWith('socket:[') ? Number(link.slice(8, -1)) : NOT_SOCKET;
  }

  private readAll(pid: number): void {
    this.denied.delete(pid);
    const names = this.listFds(pid);
    if (names === null) return;
    this.forget(pid);
    const table: FdTable = new Map();
    this.procs.set(pid, table);
    for (const fd of names) {
      const inode = this.readFd(pid, fd);
      if (inode !== null) this.setFd(pid, table, fd, inode);
    }
  }

  /**
   * Re-lists a process: drops closed descriptors and reads new names; with `live` (the tables' inodes), also
   * re-reads every descriptor not known to hold one of them (a reused number).
   */
  private relist(pid: number, live: Set<number> | null): void {
    const table = this.procs.get(pid);
    if (!table) return;
    const names = this.listFds(pid);
    if (names === null) return;
    const present = new Set(names);
    for (const fd of [...table.keys()]) if (!present.has(fd)) this.setFd(pid, table, fd, null);
    for (const fd of names) {
      const known = table.get(fd);
      if (known !== undefined && (live === null || known === UNREADABLE || live.has(known))) continue;
      this.setFd(pid, table, fd, this.readFd(pid, fd));
    }
  }

  /** Records what a descriptor now holds (null: closed), keeping inode -> owners in step. */
  private setFd(pid: number, table: FdTable, fd: string, inode: number | null): void {
    const old = table.get(fd);
    if (old === inode) return;
    if (old !== undefined && old >= 0) this.dropHolder(old, pid, fd);
    if (inode === null) {
      table.delete(fd);
      return;
    }
    table.set(fd, inode);
    if (inode >= 0) this.addHolder(inode, pid, fd);
  }

  private addHolder(inode: number, pid: number, fd: string): void {
    const holders = this.owners.get(inode);
    if (!holders) {
      this.owners.set(inode, { pid, fd });
      return;
    }
    this.pidLists.delete(inode);
    let all: Map<number, Set<string>>;
    if (holders instanceof Map) all = holders;
    else if (holders.pid === pid && holders.fd === fd) return;
    else this.owners.set(inode, (all = new Map([[holders.pid, new Set([holders.fd])]])));
    let fds = all.get(pid);
    if (!fds) all.set(pid, (fds = new Set()));
    fds.add(fd);
  }

  private dropHolder(inode: number, pid: number, fd: string): void {
    const holders = this.owners.get(inode);
    if (!holders) return;
    if (!(holders instanceof Map)) {
      if (holders.pid === pid && holders.fd === fd) this.owners.delete(inode);
      return;
    }
    this.pidLists.delete(inode);
    const fds = holders.get(pid);
    fds?.delete(fd);
    if (fds && fds.size === 0) holders.delete(pid);
    if (holders.size === 0) this.owners.delete(inode);
  }

  private forget(pid: number): void {
    const table = this.procs.get(pid);
    if (!table) return;
    for (const fd of [...table.keys()]) this.setFd(pid, table, fd, null);
    this.procs.delete(pid);
    this.singleLists.delete(pid);
  }
}
