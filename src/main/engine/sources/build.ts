import type { NoOwner, ProcessInfo, Socket } from '../../../shared/model';
import { OwnerIndex, type OwnerLookup, type OwnerStats } from '../owners';
import { ProcessTable } from '../processes';
import { socketId, uniqueIds } from '../socketId';
import { UserDirectory } from '../users';
import type { ProcNetRow } from './procNet';

/**
 * What a kernel source knows of a socket beyond /proc/net's columns. procfs rows have none of it (null); the
 * netlink source fills it from sock_diag.
 */
export interface KernelRow extends ProcNetRow {
  /** Name of the bound device or link-local scope. */
  iface?: string | null;
  v6only?: boolean | null;
  bytesIn?: number | null;
  bytesOut?: number | null;
  rttMs?: number | null;
  /** Another network namespace's id (null: Portwatch's own). */
  netns?: string | null;
  container?: string | null;
}

const NO_PIDS: readonly number[] = [];

export function kernelRowId(r: KernelRow): string {
  return socketId(r.protocol, r.localAddress, r.localPort, r.remoteAddress, r.remotePort, r.state, r.inode, r.netns ?? null);
}

function samePids(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether two sockets of a poll can share an id. Sockets with an inode cannot: a listener's or an unconnected
 * socket's id holds its inode, and no two live connections share a four-tuple. Only a socket the kernel keeps
 * without an inode (TIME_WAIT, a request socket, an orphan) can repeat a live connection's tuple; those are
 * `inodeless`, by id. Checking the ten thousand others against that short list is cheaper than hashing them all.
 */
function mayRepeatIds(sockets: readonly Socket[], inodeless: ReadonlyMap<string, Socket>): boolean {
  if (inodeless.size === 0) return false;
  // a socket with one of their ids has one of their local ports: a number looked up first, not the id hashed
  const ports = new Set<number>();
  for (const s of inodeless.values()) ports.add(s.localPort);
  let seen = 0;
  for (const s of sockets) if (ports.has(s.localPort) && inodeless.has(s.id) && ++seen > inodeless.size) return true;
  return seen !== inodeless.size;
}

/** A socket's owner fields, as SocketBuilder works them out for a row. */
interface OwnerFields {
  pid: number | null;
  pids: readonly number[];
  process: ProcessInfo | null;
  noOwner: NoOwner | null;
  ownerHidden: boolean;
}

/** SocketBuilder.prebuild()'s sockets, their rows (in the same order) and the inode-less ones by id. */
export interface PreBuilt {
  readonly rows: readonly KernelRow[];
  readonly sockets: Socket[];
  readonly byId: ReadonlyMap<string, Socket>;
}

/** A socket's owning uid: the kernel prints uid 0 for sockets nobody owns any more (no inode), which is no owner, not root. */
function socketUid(r: KernelRow): number | null {
  return r.inode === 0 ? null : r.uid;
}

/** Sets a socket's owner fields (a socket newSocket() made, not yet handed out). */
function setOwner(socket: Socket, o: OwnerFields): void {
  socket.pid = o.pid;
  socket.pids = o.pids;
  socket.ownerHidden = o.ownerHidden;
  socket.noOwner = o.noOwner;
  socket.process = o.process;
}

/** A Socket of what `r` says, without an owner yet (every socket has this shape, owner fields included). */
function newSocket(r: KernelRow, id: string, uid: number | null, user: string | null): Socket {
  return {
    id,
    protocol: r.protocol,
    family: r.family,
    localAddress: r.localAddress,
    localPort: r.localPort,
    remoteAddress: r.remoteAddress,
    remotePort: r.remotePort,
    state: r.state,
    listening: r.state === 'LISTEN' || r.state === 'UNCONN',
    pid: null,
    pids: NO_PIDS,
    uid,
    user,
    ownerHidden: false,
    noOwner: null,
    interface: r.iface ?? null,
    v6only: r.v6only ?? null,
    bytesIn: r.bytesIn ?? null,
    bytesOut: r.bytesOut ?? null,
    rttMs: r.rttMs ?? null,
    netns: r.netns ?? null,
    container: r.container ?? null,
    process: null,
  };
}

export interface BuilderOptions {
  procRoot: string;
  fullRefreshEvery?: number | undefined;
  users?: UserDirectory | undefined;
  /** Who Portwatch runs as, and whether inside a pid namespace of its own: they decide what "no owner" means. */
  euid?: number;
  nestedPidNamespace?: boolean;
  /** Keep this poll's Socket objects to hand out again next poll (default true; a one-off listing has none). */
  keep?: boolean;
}

/**
 * Rows of the kernel's socket tables -> Sockets with owners, shared by the netlink and procfs sources: owners
 * from the incremental descriptor index, details from the process table, and last poll's Socket objects handed
 * out again where nothing changed (less garbage, and the diff sees identical objects).
 */
export class SocketBuilder {
  readonly owners: OwnerIndex;
  readonly users: UserDirectory;
  readonly processes: ProcessTable;
  private readonly euid: number;
  private readonly nested: boolean;
  /**
   * Last poll's and this poll's sockets with an inode, with the last build that listed each. One map, pruned
   * after each build, rather than a new one filled each poll: ten thousand inserts into a growing Map cost a
   * steady poll more than everything else the build loop does for an unchanged socket.
   */
  private readonly built = new Map<number, { socket: Socket; seen: number }>();
  private builds = 0;
  private builtById = new Map<string, Socket>();
  private readonly keep: boolean;

  constructor(opts: BuilderOptions) {
    this.owners = new OwnerIndex(opts.procRoot, opts.fullRefreshEvery);
    this.users = opts.users ?? new UserDirectory();
    this.processes = new ProcessTable(this.users, opts.procRoot);
    this.euid = opts.euid ?? (typeof process.geteuid === 'function' ? process.geteuid() : -1);
    this.nested = opts.nestedPidNamespace ?? false;
    this.keep = opts.keep ?? true;
  }

  ownerStats(): OwnerStats {
    return this.owners.stats;
  }

  /** Why a socket with this inode and uid has no visible owner. */
  private noOwner(r: KernelRow): NoOwner {
    // no inode: the kernel keeps it after its owner let go (TIME_WAIT, orphans, request sockets)
    if (r.inode === 0) return 'closed';
    if (this.nested) return 'pid-namespace';
    // root reads every descriptor, and anyone reads their own processes': not seen means not there to see
    if (this.euid === 0 || r.uid === this.euid) return 'not-found';
    return 'hidden';
  }

  /** `found`: owners from a walk done elsewhere (a one-off listing's, see OneShotWalk) instead of the index's. */
  build(rows: readonly KernelRow[], warnings: string[], found?: OwnerLookup): { sockets: Socket[]; warnings: string[] } {
    this.users.refresh();
    const owners = found ?? this.owners.resolve(rows.map((r) => r.inode));
    this.processes.begin();
    const poll = this.ownerPoll(owners);
    const o = poll.out;
    const keep = this.keep;
    let lastUid: number | null = null;
    let lastUser: string | null = null;
    const sockets: Socket[] = [];
    const byId = new Map<string, Socket>();
    const built = this.built;
    const now = ++this.builds;
    for (const r of rows) {
      poll.of(r);
      const { pid, pids, process, noOwner } = o;
      const uid = socketUid(r);
      // nearly every socket has the uid of the one before
      if (uid !== lastUid) {
        lastUid = uid;
        lastUser = this.users.name(uid);
      }
      const user = lastUser;
      const iface = r.iface ?? null;
      const v6only = r.v6only ?? null;
      const bytesIn = r.bytesIn ?? null;
      const bytesOut = r.bytesOut ?? null;
      const netns = r.netns ?? null;
      let id: string | null = null;
      let before: Socket | undefined;
      let entry: { socket: Socket; seen: number } | undefined;
      if (r.inode !== 0) before = keep ? (entry = built.get(r.inode))?.socket : undefined;
      else before = this.builtById.get((id = kernelRowId(r)));
      if (
        before !== undefined &&
        before.state === r.state &&
        before.localPort === r.localPort &&
        before.remotePort === r.remotePort &&
        before.localAddress === r.localAddress &&
        before.remoteAddress === r.remoteAddress &&
        before.protocol === r.protocol &&
        before.uid === uid &&
        before.noOwner === noOwner &&
        before.process === process &&
        before.user === user &&
        before.pid === pid &&
        before.interface === iface &&
        before.v6only === v6only &&
        before.bytesIn === bytesIn &&
        before.bytesOut === bytesOut &&
        before.netns === netns &&
        samePids(before.pids, pids)
      ) {
        if (entry !== undefined) entry.seen = now;
        else if (r.inode === 0) byId.set(before.id, before);
        sockets.push(before);
        continue;
      }
      const socket = newSocket(r, id ?? kernelRowId(r), uid, user);
      setOwner(socket, o);
      // inode-less ones by id also for a one-off listing: mayRepeatIds needs them
      if (r.inode === 0) byId.set(socket.id, socket);
      else if (entry !== undefined) {
        entry.socket = socket;
        entry.seen = now;
      } else if (keep) built.set(r.inode, { socket, seen: now });
      sockets.push(socket);
    }
    // what this poll did not list is gone
    for (const [inode, e] of built) if (e.seen !== now) built.delete(inode);
    this.builtById = byId;
    this.processes.end();
    return { sockets: mayRepeatIds(sockets, byId) ? uniqueIds(sockets) : sockets, warnings };
  }

  /**
   * A one-off listing's sockets (a builder that keeps nothing) from `rows` before their owners are known: what
   * needs no owner is built while a walk's helper thread reads descriptors. complete() adds the owners.
   */
  prebuild(rows: readonly KernelRow[]): PreBuilt {
    this.users.refresh();
    let lastUid: number | null = null;
    let lastUser: string | null = null;
    const sockets: Socket[] = new Array<Socket>(rows.length);
    const byId = new Map<string, Socket>();
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as KernelRow;
      const uid = socketUid(r);
      if (uid !== lastUid) {
        lastUid = uid;
        lastUser = this.users.name(uid);
      }
      const socket = newSocket(r, kernelRowId(r), uid, lastUser);
      if (r.inode === 0) byId.set(socket.id, socket);
      sockets[i] = socket;
    }
    return { rows, sockets, byId };
  }

  /** prebuild()'s sockets with their owners from `found`, as build() would have built them. */
  complete(pre: PreBuilt, warnings: string[], found: OwnerLookup): { sockets: Socket[]; warnings: string[] } {
    this.processes.begin();
    const poll = this.ownerPoll(found);
    const o = poll.out;
    const { rows, sockets } = pre;
    for (let i = 0; i < rows.length; i++) {
      poll.of(rows[i] as KernelRow);
      setOwner(sockets[i] as Socket, o);
    }
    this.processes.end();
    return { sockets: mayRepeatIds(sockets, pre.byId) ? uniqueIds(sockets) : sockets, warnings };
  }

  /**
   * One poll's owner lookups: of(r) writes row r's owner fields into `out` (one object for every row), the
   * primary owner of each set of pids and each pid's process looked up once.
   */
  private ownerPoll(owners: OwnerLookup): { out: OwnerFields; of: (r: KernelRow) => void } {
    const primaryBySet = new Map<string, number>();
    // per pid, this poll: one lookup per socket instead of the table's several
    const processByPid = new Map<number, ProcessInfo | null>();
    const out: OwnerFields = { pid: null, pids: NO_PIDS, process: null, noOwner: null, ownerHidden: false };
    const of = (r: KernelRow): void => {
      const pids = owners.get(r.inode) ?? NO_PIDS;
      let pid: number | null = null;
      if (pids.length === 1) pid = pids[0] as number;
      else if (pids.length > 1) {
        const key = pids.join(',');
        pid = primaryBySet.get(key) ?? this.primaryOwner(pids);
        primaryBySet.set(key, pid);
      }
      let process: ProcessInfo | null = null;
      if (pid !== null) {
        const known = processByPid.get(pid);
        if (known !== undefined) process = known;
        else processByPid.set(pid, (process = this.processes.get(pid)));
      }
      const noOwner = pids.length === 0 ? this.noOwner(r) : null;
      out.pid = pid;
      out.pids = pids;
      out.process = process;
      out.noOwner = noOwner;
      out.ownerHidden = noOwner === 'hidden' || noOwner === 'pid-namespace';
    };
    return { out, of };
  }

  /**
   * The ancestor among a socket's owners (nginx's master among its workers): the owner none of whose ancestors
   * is also an owner. Unrelated owners (a descriptor passed over a unix socket): the lowest pid.
   */
  private primaryOwner(pids: readonly number[]): number {
    const owners = new Set(pids);
    for (const pid of pids) {
      let cur = this.processes.ppid(pid);
      let depth = 0;
      let hasOwnerAncestor = false;
      while (cur !== null && cur > 0 && depth++ < 64) {
        if (owners.has(cur)) {
          hasOwnerAncestor = true;
          break;
        }
        cur = this.processes.ppid(cur);
      }
      if (!hasOwnerAncestor) return pid;
    }
    return pids[0] as number;
  }
}
