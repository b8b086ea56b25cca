import { readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import type { WalkedProcess } from './fdWalker';
import { libc, LINK_DENIED, LINK_GONE, LINK_NOT_SOCKET, linkInodeAt, openDirectory, sameFdTable } from './native/libc';

export interface OwnerStats {
  /** readlink calls in the last resolve(): the cost that scales with descriptors. */
  readlinks: number;
  /** The same, per process read. */
  readlinksByPid: Map<number, number>;
  /** True when the last resolve() re-read every process. */
  fullWalk: boolean;
  /** Processes whose descriptors could not be read (EACCES): their sockets' owners are hidden. */
  permissionDenied: number;
  /** Threads looked at in the last resolve() for descriptor tables of their own (0 unless a socket was unowned). */
  threadsChecked: number;
}

/**
 * What one descriptor table held when last read: fd name -> socket inode, or -1 for anything else. A thread's
 * table of its own names its descriptors "TID/FD", so that they never mix with the leader's under the one pid.
 */
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

/** The inode of the initial pid namespace's ns/pid link, fixed since Linux 3.8 (PROC_PID_INIT_INO). */
const INIT_PID_NS = 0xeffffffc;

/**
 * Whether this process runs in a child pid namespace (a container's), where processes outside ours are
 * invisible: a socket only they hold shows no owner for that reason, not for want of privileges. Two signs,
 * either enough: the NSpid line of /proc/self/status lists our pid in more than one namespace (it lists them
 * from the namespace of the proc mount down, so only when /proc is an outer namespace's); or /proc/self/ns/pid
 * is not the initial namespace, whose inode is fixed (the one sign a container with its own /proc shows).
 * False when it cannot tell (no NSpid line before Linux 4.1, nothing readable).
 */
export function inNestedPidNamespace(procRoot = '/proc'): boolean {
  try {
    const m = /^NSpid:[ \t]*(.*)$/m.exec(readFileSync(`${procRoot}/self/status`, 'utf8'));
    if (m !== null && (m[1] as string).trim().split(/\s+/).length > 1) return true;
  } catch {
    // unreadable: the namespace link may still tell
  }
  try {
    const m = /^pid:\[(\d+)\]$/.exec(readlinkSync(`${procRoot}/self/ns/pid`));
    return m !== null && Number(m[1]) !== INIT_PID_NS;
  } catch {
    return false;
  }
}

/**
 * Whether a table must be listed again, from its directory's st_size: the count of descriptors on Linux 6.2+.
 * 0 means a kernel without counts or no descriptors at all: either way, list it unless it was empty already.
 */
function countChanged(size: number, table: FdTable): boolean {
  return size === 0 ? table.size !== 0 : size !== table.size;
}

/** Whether two listings of fd names hold the same names (each lists a name once). */
function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const inB = new Set(b);
  return a.every((n) => inB.has(n));
}

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
 * Whether the processes under `procRoot` are this pid namespace's (kcmp(2) takes pids of the caller's): /proc
 * itself, or a root whose entry for this process is /proc's (tests build roots of links into /proc).
 */
export function pidsAreOurs(procRoot: string): boolean {
  if (procRoot === '/proc') return true;
  try {
    return realpathSync(`${procRoot}/${process.pid}`) === `/proc/${process.pid}`;
  } catch {
    return false;
  }
}

/**
 * Whether thread `tid` of `pid` has a descriptor table of its own, as the kernel says (kcmp): not the leader's
 * and none of the thread tables already known (`known` tids); null when kcmp cannot say (then counts decide).
 */
export function ownTable(pid: number, tid: number, known: Iterable<number>): boolean | null {
  const shared = sameFdTable(pid, tid);
  if (shared !== false) return shared === null ? null : false;
  for (const other of known) if (sameFdTable(other, tid) === true) return false;
  return true;
}

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
 *
 * Threads nearly always share their process's descriptor table, and /proc/<pid>/fd is the leader thread's.
 * Two kinds do not: a thread that called unshare(CLONE_FILES), and every thread of a process whose leader
 * exited (a zombie leader lists no descriptors while the others run on). Reading every thread's descriptors
 * would multiply the cold poll by the thread count, so only a socket still unowned after the steps above sends
 * the index looking at threads (searchThreads), and the tables it finds are remembered and then kept up like
 * the leaders' (steps 2 and 3, the rolling re-read); their sockets belong to the process, by its pid.
 */
export class OwnerIndex {
  private readonly procs = new Map<number, FdTable>();
  /** Threads' own descriptor tables: pid -> tid -> table (see the class comment). */
  private readonly threadTables = new Map<number, Map<number, FdTable>>();
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
  /** Set once libc could not be loaded: descriptors are read through node:fs alone. */
  private noLibc = false;
  private readlinksByPid = new Map<number, number>();
  private threadsChecked = 0;
  /**
   * Socket inodes a known table stopped holding this poll (the descriptor closed or reused, the process gone):
   * what a churning process lets go of while the kernel still lists it, being torn down (see searchMissing).
   */
  private letGo = new Set<number>();
  /** Processes re-listed this poll because their descriptor count changed: the ones that churn. */
  private countMoved = new Set<number>();
  /** Whether the proc root's pids are this pid namespace's, so that kcmp(2) may compare its tasks (pidsAreOurs). */
  private kcmpHere: boolean | undefined;
  stats: OwnerStats = { readlinks: 0, readlinksByPid: new Map(), fullWalk: false, permissionDenied: 0, threadsChecked: 0 };

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
    // prepare() started this poll's counts already
    if (this.prepared === null) this.resetCounts();

    withoutStackTraces(() => this.update(wanted));
    for (const inode of this.unresolved) if (!wanted.has(inode)) this.unresolved.delete(inode);
    this.lastWanted = wanted;
    this.stats = {
      readlinks: this.readlinks,
      readlinksByPid: this.readlinksByPid,
      fullWalk: this.lastFull,
      permissionDenied: this.denied.size,
      threadsChecked: this.threadsChecked,
    };
    return this.lookup;
  }

  /**
   * The part of a steady poll's work that needs no socket table: processes that came or went, the rolling
   * re-read, and re-listing processes whose descriptor count changed. A caller may run it while the tables are
   * being read (the netlink source does, while a helper thread dumps); resolve() then does the rest. Doing it
   * before the gone-socket re-check changes nothing: a re-list reads only names it has not seen, and a closed
   * descriptor is simply no longer there to re-check.
   */
  prepare(): void {
    if (this.polls === 0 || this.justPrimed || this.prepared !== null) return;
    this.resetCounts();
    withoutStackTraces(() => (this.prepared = this.tableFree()));
  }

  private resetCounts(): void {
    this.readlinks = 0;
    this.readlinksByPid = new Map();
    this.threadsChecked = 0;
    this.letGo.clear();
    this.countMoved.clear();
  }

  /** The live pids; processes gone since the last look are forgotten. */
  private sweep(): Set<number> {
    const live = this.listPids();
    for (const pid of [...this.procs.keys()]) if (!live.has(pid)) this.forget(pid);
    for (const pid of [...this.denied]) if (!live.has(pid)) this.denied.delete(pid);
    return live;
  }

  private prepared: Set<number> | null = null;
  /** Set when the rolling re-read finished a round: inodes nobody held get another search (needs the table). */
  private roundDone = false;

  private tableFree(): Set<number> {
    const live = this.sweep();
    for (const pid of live) if (!this.procs.has(pid) && !this.denied.has(pid)) this.readAll(pid);
    this.rollingReread(live);
    for (const pid of [...this.procs.keys()]) this.relistIfCountChanged(pid);
    return live;
  }

  private update(wanted: Set<number>): void {
    const full = this.lastFull;
    if (full) {
      const live = this.sweep();
      this.unresolved.clear();
      for (const pid of live) this.readAll(pid);
      // whatever a full read and the threads did not show has no visible owner: do not hunt for it until the next
      this.giveUpOn(this.searchThreads(this.unowned(wanted), live));
    } else if (this.justPrimed) {
      const live = this.sweep();
      for (const pid of live) if (!this.procs.has(pid) && !this.denied.has(pid)) this.readAll(pid);
      this.recheckGoneSockets(wanted);
      for (const pid of [...this.procs.keys()]) this.relistIfCountChanged(pid);
      // like after any full read
      this.giveUpOn(this.searchThreads(this.unowned(wanted), live));
      this.justPrimed = false;
    } else {
      const live = this.prepared ?? this.tableFree();
      this.prepared = null;
      if (this.roundDone) {
        this.roundDone = false;
        for (const inode of [...this.unresolved]) if (wanted.has(inode)) this.unresolved.delete(inode);
      }
      this.recheckGoneSockets(wanted);
      this.searchMissing(wanted, live);
    }
  }

  /** The wanted inodes no known table holds. */
  private unowned(wanted: Set<number>): Set<number> {
    const missing = new Set<number>();
    for (const inode of wanted) if (!this.owners.has(inode)) missing.add(inode);
    return missing;
  }

  private giveUpOn(missing: Set<number>): void {
    for (const inode of missing) this.unresolved.add(inode);
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

  private rollingReread(live: Set<number>): void {
    const pids = [...live].sort((a, b) => a - b);
    // Infinity turns the backstop off (tests that count reads).
    const share = Number.isFinite(this.fullRefreshEvery) ? Math.ceil(pids.length / this.fullRefreshEvery) : 0;
    if (this.rollAt >= pids.length) {
      this.rollAt = 0;
      // a whole round is done: inodes nobody held get another search (in update, which has the table)
      this.roundDone = true;
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
      const table = this.tableHolding(pid, fd);
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
    if (countChanged(size, table)) {
      this.countMoved.add(pid);
      this.relist(pid, null, null);
    }
    const threads = this.threadTables.get(pid);
    if (!threads) return;
    for (const [tid, own] of [...threads]) {
      let n: number;
      try {
        n = statSync(this.fdDir(pid, tid)).size;
      } catch {
        this.dropThread(pid, tid); // the thread ended
        continue;
      }
      if (countChanged(n, own)) this.relist(pid, tid, null);
    }
  }

  private searchMissing(wanted: Set<number>, live: Set<number>): void {
    const missing = new Set<number>();
    for (const inode of wanted) if (!this.owners.has(inode) && !this.unresolved.has(inode)) missing.add(inode);
    // A socket its known holder closed this poll, which the dump still listed (a churning process closes
    // hundreds a second, some between the dump and the re-list): it is on its way out, and looking for it in
    // every process's descriptors, and every thread's, cost a whole walk each poll. If it is still there next
    // poll, it is looked for then (not given up on): handed to another process (SCM_RIGHTS, a fork) before the
    // close, that process's changed count has it re-listed already; at worst its owner shows a poll late.
    for (const inode of this.letGo) missing.delete(inode);
    if (missing.size === 0) return;
    // What is missing was mostly opened after this poll's re-list, by a process that churns: those whose count
    // changed this poll first, then other socket holders, who open new sockets far more often than the rest.
    const churning: number[] = [];
    const holders: number[] = [];
    const others: number[] = [];
    for (const pid of live) {
      const table = this.procs.get(pid);
      if (!table) continue;
      if (this.countMoved.has(pid)) {
        churning.push(pid);
        continue;
      }
      let holds = false;
      for (const v of table.values()) {
        if (v < 0) continue;
        holds = true;
        break;
      }
      (holds ? holders : others).push(pid);
    }
    for (const pid of [...churning, ...holders, ...others]) {
      this.relist(pid, null, wanted);
      for (const v of this.procs.get(pid)?.values() ?? []) missing.delete(v);
      for (const tid of [...(this.threadTables.get(pid)?.keys() ?? [])]) {
        this.relist(pid, tid, wanted);
        for (const v of this.threadTables.get(pid)?.get(tid)?.values() ?? []) missing.delete(v);
      }
      if (missing.size === 0) return;
    }
    this.giveUpOn(this.searchThreads(missing, live));
  }

  /**
   * Looks for `missing` inodes in the descriptor tables of threads that seem not to share their leader's, and
   * remembers those it reads; returns what is still missing. Costs a listing of each process's threads and a
   * stat of each thread's fd directory (about 6 µs: 20 ms at 3,000 threads), a fraction of the leaders' re-listing
   * that comes before it, and reads only the tables that seem to be their own (see seemsOwnTable). Threads found
   * sharing are not remembered as such: a search starts when a socket appears that nobody is known to hold,
   * which is just when a thread may have taken a table of its own.
   */
  private searchThreads(missing: Set<number>, live: Set<number>): Set<number> {
    if (missing.size === 0) return missing;
    for (const pid of live) {
      if (this.denied.has(pid) || !this.procs.has(pid)) continue;
      let tids: string[];
      try {
        tids = readdirSync(`${this.procRoot}/${pid}/task`);
      } catch {
        continue; // gone
      }
      if (tids.length < 2) continue;
      const leaderCount = this.fdCount(pid, null);
      if (leaderCount === null) continue;
      let leaderNames: string[] | null | undefined;
      const leader = (): string[] | null => {
        if (leaderNames === undefined) leaderNames = this.listFds(pid, null);
        return leaderNames;
      };
      for (const name of tids) {
        const tid = Number(name);
        if (tid === pid || this.threadTables.get(pid)?.has(tid)) continue;
        this.threadsChecked++;
        const table = this.seemsOwnTable(pid, tid, leaderCount, leader) ? this.readThread(pid, tid) : null;
        if (!this.procs.has(pid)) break; // gone while we looked
        for (const v of table?.values() ?? []) missing.delete(v);
        if (missing.size === 0) return missing;
      }
    }
    return missing;
  }

  /**
   * Whether a thread seems to have a descriptor table of its own. kcmp(2) says so where it can (ownTable); else,
   * since no file says so, one of its own shows as a descriptor count (st_size, Linux 6.2+), or before 6.2 a listing, unlike the leader's and
   * unlike every table already known for the process. A copy that matches by chance (unshared, then one
   * descriptor opened on each side) passes for shared: the price of not reading every thread's every
   * descriptor. Taking a shared table for one of its own costs reads, never a wrong owner: both are the pid's.
   */
  private seemsOwnTable(pid: number, tid: number, leaderCount: number, leaderNames: () => string[] | null): boolean {
    this.kcmpHere ??= pidsAreOurs(this.procRoot);
    const own = this.kcmpHere ? ownTable(pid, tid, this.threadTables.get(pid)?.keys() ?? []) : null;
    if (own !== null) return own;
    const count = this.fdCount(pid, tid);
    if (count === null) return false;
    const known = [...(this.threadTables.get(pid)?.values() ?? [])];
    if (count !== 0) return count !== leaderCount && known.every((t) => t.size !== count);
    // no count: a kernel before 6.2, or no descriptors (then nothing to find)
    const names = this.listFds(pid, tid);
    if (names === null || names.length === 0) return false;
    const leader = leaderNames();
    if (leader !== null && sameNames(names, leader)) return false;
    return known.every(
      (t) =>
        !sameNames(
          names,
          [...t.keys()].map((fd) => fd.slice(fd.indexOf('/') + 1)),
        ),
    );
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

  /** A table's directory: the leader's (tid null), which /proc/<pid>/fd shows, or a thread's. */
  private fdDir(pid: number, tid: number | null): string {
    return tid === null ? `${this.procRoot}/${pid}/fd` : `${this.procRoot}/${pid}/task/${tid}/fd`;
  }

  /** How many descriptors a table holds (st_size; 0 before Linux 6.2), or null when it is gone. */
  private fdCount(pid: number, tid: number | null): number | null {
    try {
      return statSync(this.fdDir(pid, tid)).size;
    } catch {
      return null;
    }
  }

  /**
   * Lists a table's directory, or null when it cannot be: a process gone, or denied (then remembered as
   * denied), is forgotten; a thread gone, only its table.
   */
  private listFds(pid: number, tid: number | null): string[] | null {
    try {
      return readdirSync(this.fdDir(pid, tid));
    } catch (e) {
      if (tid !== null) {
        this.dropThread(pid, tid);
        return null;
      }
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
      const slash = fd.indexOf('/');
      link = readlinkSync(slash < 0 ? `${this.procRoot}/${pid}/fd/${fd}` : `${this.fdDir(pid, Number(fd.slice(0, slash)))}/${fd.slice(slash + 1)}`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM') return null;
      this.denied.add(pid);
      return UNREADABLE;
    }
    // "socket:[12345]"
    return link.charCodeAt(0) === 115 && link.startsWith('socket:[') ? Number(link.slice(8, -1)) : NOT_SOCKET;
  }

  /** readFd for a descriptor of the leader's table open as `dirfd` (see linkInodeAt). */
  private readFdAt(pid: number, dirfd: number, fd: string): number | null {
    this.readlinks++;
    this.readlinksByPid.set(pid, (this.readlinksByPid.get(pid) ?? 0) + 1);
    const r = linkInodeAt(dirfd, fd);
    if (r === LINK_GONE) return null;
    if (r === LINK_DENIED) {
      this.denied.add(pid);
      return UNREADABLE;
    }
    return r === LINK_NOT_SOCKET ? NOT_SOCKET : r;
  }

  /** The leader's table's directory, open for readFdAt; -1 when it cannot be (no libc: readFd then). */
  private openFdDir(pid: number): number {
    if (this.noLibc) return -1;
    try {
      return openDirectory(`${this.procRoot}/${pid}/fd`);
    } catch {
      this.noLibc = true;
      return -1;
    }
  }

  /** Reads a process whole: its leader's table and the threads' own tables known for it. */
  private readAll(pid: number): void {
    this.denied.delete(pid);
    const names = this.listFds(pid, null);
    if (names === null) return;
    this.dropTable(pid, this.procs.get(pid));
    const table: FdTable = new Map();
    this.procs.set(pid, table);
    // a cold poll reads every descriptor on the machine here: through one open directory where libc loads
    const dirfd = names.length > 0 ? this.openFdDir(pid) : -1;
    try {
      for (const fd of names) {
        const inode = dirfd >= 0 ? this.readFdAt(pid, dirfd, fd) : this.readFd(pid, fd);
        if (inode !== null) this.setFd(pid, table, fd, inode);
      }
    } finally {
      if (dirfd >= 0) libc().close(dirfd);
    }
    for (const tid of [...(this.threadTables.get(pid)?.keys() ?? [])]) this.readThread(pid, tid);
  }

  /**
   * Reads a thread's table whole and remembers it, unless it holds just what the leader's does (shared after
   * all: the leader changed between the two counts); null when it is not remembered.
   */
  private readThread(pid: number, tid: number): FdTable | null {
    // only beside a leader's table: forget(), which drops both, goes by the leaders
    if (!this.procs.has(pid)) return null;
    const names = this.listFds(pid, tid);
    if (names === null) return null;
    let threads = this.threadTables.get(pid);
    if (!threads) this.threadTables.set(pid, (threads = new Map()));
    this.dropTable(pid, threads.get(tid));
    const table: FdTable = new Map();
    threads.set(tid, table);
    for (const name of names) {
      const fd = `${tid}/${name}`;
      const inode = this.readFd(pid, fd);
      if (inode !== null) this.setFd(pid, table, fd, inode);
    }
    const leader = this.procs.get(pid);
    if (leader && leader.size === table.size && [...table].every(([fd, v]) => leader.get(fd.slice(fd.indexOf('/') + 1)) === v)) {
      this.dropThread(pid, tid);
      return null;
    }
    return table;
  }

  /**
   * Re-lists a process's table (`tid` null: the leader's) or a thread's own: drops closed descriptors and reads
   * new names; with `live` (the tables' inodes), also re-reads every descriptor not known to hold one of them
   * (a reused number).
   */
  private relist(pid: number, tid: number | null, live: Set<number> | null): void {
    const table = tid === null ? this.procs.get(pid) : this.threadTables.get(pid)?.get(tid);
    if (!table) return;
    const listed = this.listFds(pid, tid);
    if (listed === null) return;
    const names = tid === null ? listed : listed.map((n) => `${tid}/${n}`);
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
    if (old !== undefined && old >= 0) {
      this.dropHolder(old, pid, fd);
      this.letGo.add(old);
    }
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

  /** The table a holder's descriptor name is in: a thread's own ("TID/FD") or the leader's. */
  private tableHolding(pid: number, fd: string): FdTable | undefined {
    const slash = fd.indexOf('/');
    return slash < 0 ? this.procs.get(pid) : this.threadTables.get(pid)?.get(Number(fd.slice(0, slash)));
  }

  /** Drops what a table's descriptors held from inode -> owners. */
  private dropTable(pid: number, table: FdTable | undefined): void {
    if (!table) return;
    for (const fd of [...table.keys()]) this.setFd(pid, table, fd, null);
  }

  private dropThread(pid: number, tid: number): void {
    const threads = this.threadTables.get(pid);
    this.dropTable(pid, threads?.get(tid));
    threads?.delete(tid);
    if (threads?.size === 0) this.threadTables.delete(pid);
  }

  /** Forgets a process: its leader's table and its threads'. */
  private forget(pid: number): void {
    this.dropTable(pid, this.procs.get(pid));
    this.procs.delete(pid);
    for (const tid of [...(this.threadTables.get(pid)?.keys() ?? [])]) this.dropThread(pid, tid);
    this.singleLists.delete(pid);
  }
}
