import { endianness } from 'node:os';
import { LINUX_DEFAULT_PORTS, type HostPorts } from '../../../shared/direction';
import type { ClosedConnection, Family, Protocol, Socket, UdpCounters } from '../../../shared/model';
import { startWalker, WalkShare, type Walker } from '../fdWalker';
import { AF_NETLINK, ifIndexToName, libc, SOCK_CLOEXEC, SOCK_DGRAM } from '../native/libc';
import { DumpStream } from '../netlink/dumpStream';
import { DiagSocket, errnoText, type DumpOutcome } from '../netlink/transport';
import {
  ALL_STATES,
  BOUND_STATE,
  DiagParser,
  LISTEN_STATES,
  NETLINK_SOCK_DIAG,
  SKNLGRP_INET6_TCP_DESTROY,
  SKNLGRP_INET_TCP_DESTROY,
  type DiagRow,
  type DumpSpec,
} from '../netlink/sockDiag';
import { ConntrackCounters, parseConntrack, readConntrackAcct, readConntrackTable } from '../conntrack';
import { readHostPorts } from '../hostPorts';
import { inNetns, listNetNamespaces, netnsLabel, NetnsError } from '../netns';
import type { OwnerLookup, OwnerStats } from '../owners';
import { socketId } from '../socketId';
import type { UserDirectory } from '../users';
import { SocketBuilder, type KernelRow, type PreBuilt } from './build';
import { OneShotWalk, type WalkStart } from './procfsWalk';
import { readProcText } from './procfs';
import { AddressDecoder, parseProcNet } from './procNet';
import type { SocketSource, SourceResult } from './source';

const LITTLE_ENDIAN = endianness() === 'LE';

/** What one poll dumps: every family and protocol sock_diag knows. MPTCP and raw need modules that may be absent. */
const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'udplite', 'raw', 'mptcp'];
const FAMILIES: readonly Family[] = [4, 6];
/**
 * Tables read from /proc/net where sock_diag has no dump: ICMP "ping" sockets never have one, raw sockets when
 * the kernel lacks raw_diag (CONFIG_INET_RAW_DIAG). Both list what the reader's namespace holds.
 */
const PROC_TABLES: ReadonlyArray<{ file: string; protocol: Protocol; family: Family }> = [
  { file: 'icmp', protocol: 'icmp', family: 4 },
  { file: 'icmp6', protocol: 'icmp', family: 6 },
  { file: 'raw', protocol: 'raw', family: 4 },
  { file: 'raw6', protocol: 'raw', family: 6 },
];
/** Kernels answer these for a protocol without a sock_diag handler (module not built or not loadable). */
const UNSUPPORTED = new Set([2 /* ENOENT */, 22 /* EINVAL */, 93 /* EPROTONOSUPPORT */, 97 /* EAFNOSUPPORT */]);
/** Destroy events read per poll at most; more wait for the next one (the kernel queue holds them meanwhile). */
const MAX_CLOSED_PER_POLL = 50_000;
/** A protocol the kernel said it cannot dump is asked again after this many polls (a module may load). */
const RETRY_UNSUPPORTED_EVERY = 60;
/** Interface names are looked up again after this many polls (an index can be reused by a new device). */
const IFNAME_TTL_POLLS = 30;
const DESTROY_GROUPS = (1 << (SKNLGRP_INET_TCP_DESTROY - 1)) | (1 << (SKNLGRP_INET6_TCP_DESTROY - 1));

export interface NetlinkOptions {
  procRoot?: string;
  fullRefreshEvery?: number;
  users?: UserDirectory;
  /** Share the first poll's descriptor walk with a helper thread (default true). */
  helperThreads?: boolean;
  /** Listen for the kernel's TCP destroy events, reported as `closed` (default true). */
  closedEvents?: boolean;
  /** Only listeners (TCP LISTEN, unconnected UDP and raw): `list --listen` needs nothing else. */
  listenersOnly?: boolean;
  nestedPidNamespace?: boolean;
  /** A one-off listing: no destroy events, no rows kept for a next poll. */
  oneShot?: boolean;
  /**
   * A one-off listing's walk, started by the caller as early as it could (startWalk: the counts, and a helper
   * booting); the source owns it from then on: it hands it to the walk, or ends its helper.
   */
  walkStart?: WalkStart | null;
  /** Read every other network namespace too (default: when root, who alone may enter them). */
  namespaces?: boolean;
  /**
   * Ask for TCP's counters (bytes, RTT; default true). A one-off table that prints none of them saves the
   * kernel a socket lock per connection.
   */
  counters?: boolean;
}

/**
 * An MPTCP socket's first subflow is a TCP socket with the same inode: listed once, as mptcp (what the
 * application opened), not twice.
 */
function withoutSubflows(rows: DiagRow[], anyMptcp: boolean): DiagRow[] {
  if (!anyMptcp) return rows;
  let mptcp: Set<number> | null = null;
  for (const r of rows) if (r.protocol === 'mptcp' && r.inode !== 0) (mptcp ??= new Set()).add(r.inode);
  if (mptcp === null) return rows;
  const inodes = mptcp;
  return rows.filter((r) => r.protocol !== 'tcp' || r.inode === 0 || !inodes.has(r.inode));
}

/**
 * MPTCP's two dumps cost the kernel about 0.8 ms each however few MPTCP sockets there are (it walks the token
 * and listener tables): they are skipped while /proc/net/protocols counts no MPTCP socket in the namespace,
 * and run anyway every this many polls to check that count (see NamespaceView.mptcpPlanned).
 */
const MPTCP_CHECK_EVERY = 30;

/**
 * MPTCP sockets in use by /proc/net/protocols (its `sockets` column, per network namespace: listeners and
 * connections, what the MPTCP dumps list), or null when the text has no MPTCP lines or they do not parse.
 */
export function mptcpInUse(protocols: string): number | null {
  let total: number | null = null;
  for (const line of protocols.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] !== 'MPTCP' && f[0] !== 'MPTCPv6') continue;
    if (f[2] === undefined || !/^\d+$/.test(f[2])) return null;
    total = (total ?? 0) + Number(f[2]);
  }
  return total;
}

/**
 * Appends to `got` the bound-only TCP rows of a dump of that state alone, taken beside `rest`, a dump of every
 * other state: a socket that listened or connected between the two walks is in both, and its row from `rest`
 * (the state it went on to) is the one kept. No socket is listed twice.
 */
export function addBoundRows(got: DiagRow[], rest: readonly DiagRow[], bound: readonly DiagRow[]): void {
  if (bound.length === 0) return;
  const seen = new Set<number>();
  for (const r of rest) if (r.inode !== 0) seen.add(r.inode);
  for (const r of bound) if (!seen.has(r.inode)) got.push(r);
}

/** Network namespaces are looked for again every this many polls (a container started since). */
const NAMESPACE_SCAN_EVERY = 5;

/**
 * One network namespace's sockets: a sock_diag socket opened inside it (it stays bound to that namespace), its
 * destroy events, its interface names, and the owners its connections had when last seen. Portwatch's own
 * namespace is one too, with `netns` null.
 */
class NamespaceView {
  private dumper: DiagSocket;
  events: DiagSocket | null = null;
  private readonly parser: DiagParser;
  private readonly eventParser = new DiagParser(LITTLE_ENDIAN, false);
  private readonly decoder = new AddressDecoder(LITTLE_ENDIAN);
  /** Dumps the kernel cannot do, by `protocol/family`, with the poll when it said so. */
  private readonly unsupported = new Map<string, number>();
  private readonly ifnames = new Map<number, string | null>();
  readonly notes: string[] = [];
  /** How many of the last poll's dumps the helper thread delivered (for tests and diagnostics). */
  fromHelper = 0;
  /** Rows the last poll's MPTCP dumps gave. */
  private mptcpRows = 0;
  /** TCP is dumped for both families at once (see DumpSpec), until the kernel refuses that request. */
  bothFamilies = true;
  /** Whether /proc/net/protocols' MPTCP count may decide that there is nothing to dump (see mptcpPlanned). */
  mptcpCountTrusted = true;
  /** MPTCP dumps in the last poll's plan (for tests and diagnostics). */
  mptcpDumps = 0;
  /** A second dump socket, for what this thread dumps while the helper uses the first (see boundHere). */
  private side: DiagSocket | null = null;

  /**
   * `enter`: runs a function with this thread in the namespace (identity for our own). `procNet`: its
   * /proc/net directory (/proc/PID/net of a process inside), or null when no process of it is visible.
   */
  constructor(
    readonly netns: string | null,
    private readonly enter: <T>(fn: () => T) => T,
    private procNet: string | null,
    readonly container: string | null,
    private readonly listenersOnly: boolean,
    closedEvents: boolean,
    private readonly counters: boolean,
    /** The helper thread that runs this poll's dumps (steady polls), or null: here. */
    private readonly streamFor: (poll: number) => DumpStream | null = () => null,
    keepRows = true,
  ) {
    // rows kept between polls pay off from the second poll on: a one-off listing keeps none
    this.parser = new DiagParser(LITTLE_ENDIAN, keepRows);
    this.dumper = this.reopen();
    if (closedEvents) {
      try {
        this.events = new DiagSocket(DESTROY_GROUPS, this.opener());
      } catch (e) {
        this.notes.push(`closed connections are not reported: ${(e as Error).message}`);
      }
    }
  }

  /** This namespace's port sysctls (ephemeral range, unprivileged start), read inside it; see refreshPorts. */
  ports: HostPorts = LINUX_DEFAULT_PORTS;

  /** This namespace's conntrack accounting switch (null: no conntrack), read with the ports. */
  acct: boolean | null = null;
  private readonly udp = new ConntrackCounters();

  /** Reads the namespace's port sysctls (and conntrack's switch) again: they are per namespace, and an admin may change them. */
  refreshPorts(): void {
    try {
      [this.ports, this.acct] = this.enter(() => [readHostPorts(), readConntrackAcct()] as const);
    } catch {
      // the namespace went away between polls: its view is closed at the next scan
    }
  }

  /**
   * UDP counters from conntrack for this namespace's sockets, when accounting is on and the table is readable
   * (root). Says how it went: 'conntrack', or why not.
   */
  udpCounters(sockets: Socket[], warnings: string[]): { sockets: Socket[]; state: UdpCounters } {
    if (this.acct === null) return { sockets, state: 'no-conntrack' };
    if (!this.acct) return { sockets, state: 'acct-off' };
    let text: string | null = null;
    try {
      text = this.enter(() => readConntrackTable());
    } catch {
      // gone between polls
    }
    if (text === null) return { sockets, state: 'unreadable' };
    const { flows, skipped } = parseConntrack(text);
    if (skipped > 0) warnings.push(`${this.netns ?? 'conntrack'}: ${skipped} conntrack lines did not parse and were skipped`);
    return { sockets: this.udp.apply(sockets, flows, this.netns), state: 'conntrack' };
  }

  /** A dump socket in this view's namespace. */
  private reopen(): DiagSocket {
    return new DiagSocket(0, this.opener());
  }

  /** How a sock_diag socket of this view's namespace is made: entering it first, unless it is our own. */
  private opener(): (() => number) | undefined {
    if (this.netns === null) return undefined;
    return () => this.enter(() => libc().socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  }

  setProcNet(dir: string | null): void {
    this.procNet = dir;
  }

  close(): void {
    this.dumper.close();
    this.side?.close();
    this.side = null;
    this.events?.close();
    this.events = null;
  }

  /** Every dump of this poll, and the destroy events queued since the last one. `poll`: the poll's number. */
  /** `meanwhile`: work that needs no dump, run while a helper thread dumps (if none does, not at all). */
  dump(poll: number, rows: KernelRow[], closed: DiagRow[], warnings: string[], meanwhile?: () => void): void {
    const where = this.netns === null ? '' : ` in ${this.netns}`;
    for (const n of this.notes.splice(0)) warnings.push(`${n}${where}`);
    // events first: a connection that closes during the dump is then reported next poll, never lost between
    if (this.events) {
      const start = closed.length;
      for (const e of this.events.drain(this.eventParser, 'tcp', closed, start + MAX_CLOSED_PER_POLL)) warnings.push(`destroy event${where}: ${e.reason}`);
      if (this.events.lost > 0) {
        warnings.push(`${this.events.lost} closed-connection events${where} were dropped by the kernel (queue full)`);
        this.events.lost = 0;
      }
    }
    if (poll % IFNAME_TTL_POLLS === 0) this.ifnames.clear();
    this.parser.rotate();
    const plan: DumpSpec[] = [];
    const mptcp = this.mptcpPlanned(poll);
    for (const protocol of PROTOCOLS) {
      if (protocol === 'mptcp' && !mptcp.dump) continue;
      const states = this.listenersOnly ? (protocol === 'tcp' || protocol === 'mptcp' ? LISTEN_STATES : 1 << 7) : ALL_STATES;
      // TCP in one dump of both families (TCPDIAG_GETSOCK), unless this kernel refused that one
      if (protocol === 'tcp' && this.bothFamilies) {
        plan.push({ family: 'both', protocol, states, info: this.counters });
        continue;
      }
      for (const family of FAMILIES) {
        const key = `${protocol}/${family}`;
        const said = this.unsupported.get(key);
        if (said !== undefined && poll - said < RETRY_UNSUPPORTED_EVERY) continue;
        this.unsupported.delete(key);
        plan.push({ family, protocol, states, info: this.counters });
      }
    }
    this.mptcpDumps = plan.filter((spec) => spec.protocol === 'mptcp').length;
    const got: DiagRow[] = [];
    const outcomes = this.dumpPlan(plan, got, this.streamFor(poll), meanwhile);
    const report = (spec: DumpSpec, out: DumpOutcome): void => {
      const name = `${spec.protocol}${spec.family === 6 ? '6' : ''}`;
      if (out.error !== null) {
        if (spec.family === 'both') {
          // a kernel without the original request: a dump per family, from now on and for this poll
          this.bothFamilies = false;
          for (const family of FAMILIES) {
            const one: DumpSpec = { ...spec, family };
            report(one, this.dumper.dump(one, this.parser, got));
          }
          return;
        }
        if (UNSUPPORTED.has(out.error)) {
          this.unsupported.set(`${spec.protocol}/${spec.family}`, poll);
          return;
        }
        throw new Error(`sock_diag dump of ${name}${where} refused: ${errnoText(out.error)}`);
      }
      if (out.interrupted) warnings.push(`the ${name} dump${where} kept changing under churn; listed as last read`);
      for (const e of out.errors) warnings.push(`sock_diag ${name}${where} at byte ${e.offset}: ${e.reason}`);
    };
    plan.forEach((spec, k) => report(spec, outcomes[k] as DumpOutcome));
    // a check that found MPTCP sockets the count did not: the count is not to be trusted here
    if (mptcp.counted === 0 && this.mptcpRows > 0) this.mptcpCountTrusted = false;
    for (const r of withoutSubflows(got, this.mptcpRows > 0)) rows.push(this.kernelRow(r));
    this.procTables(rows, warnings);
  }

  /**
   * Whether this poll dumps MPTCP, and the count that decided it (null: none read). Not when the namespace's
   * /proc/net/protocols counts no MPTCP socket, except every MPTCP_CHECK_EVERY polls, whose dump checks the
   * count. Without a readable count (no process of the namespace visible, an old kernel), always.
   */
  private mptcpPlanned(poll: number): { dump: boolean; counted: number | null } {
    if (!this.mptcpCountTrusted || this.procNet === null) return { dump: true, counted: null };
    let counted: number | null = null;
    try {
      counted = mptcpInUse(readProcText(`${this.procNet}/protocols`));
    } catch {
      // unreadable: dumped
    }
    const check = poll > 0 && poll % MPTCP_CHECK_EVERY === 0;
    return { dump: counted !== 0 || check, counted };
  }

  /**
   * The poll's dumps, into `got`: on the stream's helper thread where there is one (this thread parses as the
   * datagrams land), else here. A dump the helper could not finish, or that the kernel marked inconsistent, is
   * taken again here (whose retries make it consistent).
   */
  private dumpPlan(plan: readonly DumpSpec[], got: DiagRow[], stream: DumpStream | null, meanwhile?: () => void): DumpOutcome[] {
    this.fromHelper = 0;
    this.mptcpRows = 0;
    // here, counting what MPTCP gave (withoutSubflows has nothing to do without it)
    const dumpHere = (spec: DumpSpec): DumpOutcome => {
      const before = got.length;
      const out = this.dumper.dump(spec, this.parser, got);
      if (spec.protocol === 'mptcp') this.mptcpRows += got.length - before;
      return out;
    };
    if (!stream?.usable || plan.length === 0) return plan.map(dumpHere);
    // The kernel's walk of bound-only sockets (every bind bucket, about a fifth of a TCP dump's time at 10,000
    // connections) runs here on a socket of its own while the helper dumps the rest: both cores share the
    // kernel's part (see boundHere).
    const split = plan.findIndex((spec) => spec.family === 'both' && spec.states === ALL_STATES);
    const sent = split < 0 ? plan : plan.map((spec, k) => (k === split ? { ...spec, states: ALL_STATES & ~BOUND_STATE } : spec));
    const bound: { rows: DiagRow[]; out: DumpOutcome | null } = { rows: [], out: null };
    const requests = sent.map((spec) => this.dumper.nextRequest(spec));
    const parts = plan.map((): { rows: DiagRow[]; out: DumpOutcome; done: boolean } => ({
      rows: [],
      out: { error: null, interrupted: false, errors: [] },
      done: false,
    }));
    const fd = this.dumper.descriptor;
    const whole = stream.run(
      requests.map((r) => ({ fd, request: r.request })),
      (k: number, buf: Buffer, len: number) => {
        const part = parts[k] as (typeof parts)[number];
        const c = this.parser.parse(buf, len, (plan[k] as DumpSpec).protocol, (requests[k] as { seq: number }).seq, part.rows);
        if (c.interrupted) part.out.interrupted = true;
        if (c.error !== null && c.error !== 0) part.out.error = -c.error;
        for (const e of c.errors) if (part.out.errors.length < 20) part.out.errors.push(e);
        if (c.done) part.done = true;
      },
      () => {
        meanwhile?.();
        if (split >= 0) bound.out = this.boundHere(plan[split] as DumpSpec, bound.rows);
      },
    );
    if (!stream.usable) {
      // the helper stalled and may still sit in recv on this socket: dump on a new one from now on
      this.dumper.close();
      this.dumper = this.reopen();
    } else if (whole.some((w: boolean) => !w)) this.dumper.discardQueued();
    return plan.map((spec, k) => {
      const part = parts[k] as (typeof parts)[number];
      if (whole[k] && part.done && !part.out.interrupted) {
        for (const r of part.rows) got.push(r);
        if (spec.protocol === 'mptcp') this.mptcpRows += part.rows.length;
        this.fromHelper++;
        if (k === split && part.out.error === null) return this.addBound(spec, got, part.rows, bound, part.out);
        return part.out;
      }
      // taken again here whole, bound-only sockets included
      return dumpHere(spec);
    });
  }

  /**
   * This poll's bound-only TCP sockets, dumped on this thread's own socket while the helper dumps the rest;
   * null when that socket failed (addBound then dumps them on the main one).
   */
  private boundHere(spec: DumpSpec, rows: DiagRow[]): DumpOutcome | null {
    try {
      this.side ??= this.reopen();
      return this.side.dump({ ...spec, states: BOUND_STATE }, this.parser, rows);
    } catch {
      this.side?.close();
      this.side = null;
      rows.length = 0;
      return null;
    }
  }

  /**
   * Adds boundHere's rows to `got` (see addBoundRows), where `rest` is the helper's dump of every other TCP
   * state; when that socket failed or its dump did not finish, they are dumped again here.
   */
  private addBound(
    spec: DumpSpec,
    got: DiagRow[],
    rest: readonly DiagRow[],
    bound: { rows: DiagRow[]; out: DumpOutcome | null },
    out: DumpOutcome,
  ): DumpOutcome {
    let b = bound.out;
    let rows = bound.rows;
    if (b === null || b.error !== null || b.interrupted) {
      rows = [];
      b = this.dumper.dump({ ...spec, states: BOUND_STATE }, this.parser, rows);
    }
    addBoundRows(got, rest, rows);
    return { error: b.error, interrupted: b.interrupted || out.interrupted, errors: [...out.errors, ...b.errors].slice(0, 20) };
  }

  /** What sock_diag cannot dump, from /proc/net (see PROC_TABLES). */
  private procTables(rows: KernelRow[], warnings: string[]): void {
    if (this.procNet === null) return;
    for (const t of PROC_TABLES) {
      if (t.protocol !== 'icmp' && !this.unsupported.has(`${t.protocol}/${t.family}`)) continue;
      let text: string;
      try {
        text = readProcText(`${this.procNet}/${t.file}`);
      } catch {
        continue; // the table is absent (no IPv6), or the namespace's process is gone
      }
      const parsed = parseProcNet(text, t.protocol, t.family, this.decoder, t.file);
      for (const r of parsed.rows) {
        if (this.listenersOnly && r.state !== 'UNCONN') continue;
        rows.push(this.netns === null ? r : { ...r, netns: this.netns, container: this.container });
      }
      for (const e of parsed.errors.slice(0, 5)) warnings.push(`${this.procNet}/${e.file} line ${e.line}: ${e.reason}`);
    }
  }

  private kernelRow(r: DiagRow): KernelRow {
    // the row object is reused while the socket is unchanged: what it needs beyond the dump is set once
    const k = r as DiagRow & KernelRow;
    if (k.iface === undefined) {
      k.iface = r.ifindex === 0 ? null : this.ifname(r.ifindex);
      k.netns = this.netns;
      k.container = this.container;
    }
    return k;
  }

  private ifname(index: number): string | null {
    let name = this.ifnames.get(index);
    if (name === undefined) {
      try {
        name = this.enter(() => ifIndexToName(index)) ?? `if${index}`;
      } catch {
        name = `if${index}`;
      }
      this.ifnames.set(index, name);
    }
    return name;
  }

  /**
   * Destroy events -> records. The owner and first sighting are the monitor's to add: it holds the last poll's
   * sockets by id already (see Monitor).
   */
  closedConnections(events: readonly DiagRow[], now: number, out: ClosedConnection[]): void {
    for (const e of events) {
      // listeners and never-connected sockets are freed too: only connections are worth a record
      if (e.remotePort === null || e.remotePort === 0 || e.remoteAddress === null) continue;
      out.push({
        id: socketId('tcp', e.localAddress, e.localPort, e.remoteAddress, e.remotePort, e.state, null, this.netns),
        protocol: 'tcp',
        family: e.family,
        localAddress: e.localAddress,
        localPort: e.localPort,
        remoteAddress: e.remoteAddress,
        remotePort: e.remotePort,
        state: e.state,
        pid: null,
        name: null,
        uid: null,
        bytesIn: e.bytesIn,
        bytesOut: e.bytesOut,
        firstSeen: null,
        closedAt: now,
        netns: this.netns,
      });
    }
  }
}

/**
 * The Linux default: the kernel's socket tables over sock_diag netlink. One dump per family and protocol is a
 * consistent view (no row twice, unlike a /proc/net read under churn) and carries what /proc/net does not: the
 * bound interface, IPv6-only, and for TCP the byte counters and RTT. A second socket joined to the TCP destroy
 * groups hears of every connection the kernel frees, with its final bytes, also one that lived between two polls.
 * As root it reads every network namespace on the machine (containers, `ip netns`) through a sock_diag socket
 * opened inside each. Owners and process details come from /proc as in the procfs source (SocketBuilder).
 */
export class NetlinkSource implements SocketSource {
  readonly name = 'netlink' as const;
  private readonly procRoot: string;
  private readonly builder: SocketBuilder;
  private readonly own: NamespaceView;
  private readonly foreign = new Map<string, NamespaceView>();
  private readonly helperThreads: boolean;
  private readonly listenersOnly: boolean;
  private readonly closedEvents: boolean;
  private readonly oneShot: boolean;
  private readonly namespaces: boolean;
  private readonly counters: boolean;
  private stream: DumpStream | null = null;
  private walkStart: WalkStart | null;
  private othersSeen = 0;
  private polls = 0;

  constructor(opts: NetlinkOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.helperThreads = opts.helperThreads ?? true;
    this.listenersOnly = opts.listenersOnly ?? false;
    this.oneShot = opts.oneShot ?? false;
    this.closedEvents = !this.oneShot && (opts.closedEvents ?? !this.listenersOnly);
    this.namespaces = opts.namespaces ?? (typeof process.geteuid === 'function' && process.geteuid() === 0);
    this.counters = opts.counters ?? true;
    this.walkStart = opts.walkStart ?? null;
    // steady polls run the dumps on a helper thread, started with the first of them (a one-off listing needs none)
    const streamFor = (poll: number): DumpStream | null => {
      if (!this.helperThreads || poll === 0) return null;
      return (this.stream ??= new DumpStream(LITTLE_ENDIAN));
    };
    this.own = new NamespaceView(
      null,
      (fn) => fn(),
      `${this.procRoot}/net`,
      null,
      this.listenersOnly,
      this.closedEvents,
      this.counters,
      streamFor,
      !this.oneShot,
    );
    this.builder = new SocketBuilder({
      procRoot: this.procRoot,
      fullRefreshEvery: opts.fullRefreshEvery,
      users: opts.users,
      nestedPidNamespace: opts.nestedPidNamespace,
      keep: !this.oneShot,
    });
  }

  /**
   * Why netlink cannot serve on this machine (koffi or libc missing, netlink refused by seccomp or an old
   * kernel), or null when a real dump works.
   */
  static unavailable(): string | null {
    if (process.platform !== 'linux') return `not Linux (${process.platform})`;
    let s: DiagSocket | null = null;
    try {
      s = new DiagSocket();
      const out: DiagRow[] = [];
      const r = s.dump({ family: 4, protocol: 'tcp', states: LISTEN_STATES }, new DiagParser(LITTLE_ENDIAN, false), out);
      if (r.error !== null) return `the kernel refused a sock_diag dump: ${errnoText(r.error)}`;
      return null;
    } catch (e) {
      return (e as Error).message;
    } finally {
      s?.close();
    }
  }

  lastOwnerStats(): OwnerStats {
    return this.builder.ownerStats();
  }

  /** How many MPTCP dumps the last poll of Portwatch's own namespace planned (0: /proc/net/protocols counted none). */
  get mptcpDumps(): number {
    return this.own.mptcpDumps;
  }

  /** How many of the last poll's dumps of Portwatch's own namespace came from the helper thread. */
  get dumpsFromHelper(): number {
    return this.own.fromHelper;
  }

  close(): void {
    this.walkStart?.helper?.dispose();
    this.walkStart = null;
    this.stream?.close();
    this.stream = null;
    this.own.close();
    for (const v of this.foreign.values()) v.close();
    this.foreign.clear();
  }

  async list(): Promise<SourceResult> {
    if (this.oneShot && this.polls === 0) return this.listOnce();
    const owners = this.builder.owners;
    if (this.polls > 0 || !this.helperThreads) return this.finish(this.dumpAll());
    // First poll: every process's descriptors must be read; a helper thread shares that walk while this one dumps.
    const pids = owners.pidsByDescriptors();
    const share = new WalkShare(pids.length);
    let walker: Walker;
    try {
      walker = startWalker(this.procRoot, pids, share, []);
    } catch {
      return this.finish(this.dumpAll());
    }
    walker.tables.catch(() => undefined);
    walker.walked.catch(() => undefined);
    // the walker boots while this thread dumps (a thread takes longer to start than the dump); then both walk,
    // this thread the large tables, the walker the small ones (see WalkShare)
    const dumped = this.dumpAll();
    for (let i = share.next(); i >= 0; i = share.next()) owners.read(pids[i] as number);
    try {
      owners.prime(await walker.walked);
    } catch {
      // the walker died: what it had claimed is read as new processes by resolve()
    }
    owners.primed();
    return this.finish(dumped);
  }

  /**
   * A one-off listing: this thread dumps while the walk's helper thread boots and starts on the descriptors,
   * then walks the rest with it; nothing is kept for a next poll.
   */
  private listOnce(): SourceResult {
    // a listeners-only dump takes a few milliseconds: nothing here to overlap a helper's boot with, which would
    // then only compete with this thread's walk for a core (measured: slower); its walk ends once every
    // listener has an owner (see OneShotWalk)
    const start = this.walkStart;
    this.walkStart = null;
    const walk = new OneShotWalk(this.procRoot, this.helperThreads && !this.listenersOnly ? 'auto' : false, { untilFound: this.listenersOnly, start });
    let dumped: ReturnType<NetlinkSource['dumpAll']>;
    try {
      dumped = this.dumpAll();
    } catch (e) {
      walk.close();
      throw e;
    }
    let uids: Map<number, number> | null = null;
    const uidOf = (inode: number): number | null => {
      uids ??= new Map(dumped.rows.map((r) => [r.inode, r.uid]));
      return uids.get(inode) ?? null;
    };
    // what needs no owner is built while the helper walks (this thread joins the walk after)
    const pre = this.builder.prebuild(dumped.rows);
    const found = walk.finish(
      dumped.rows.map((r) => r.inode),
      uidOf,
    );
    return this.finish(dumped, found.owners, pre);
  }

  /** Opens views of namespaces that appeared, closes those of namespaces that are gone. */
  private scanNamespaces(warnings: string[]): void {
    const found = listNetNamespaces(this.procRoot);
    this.othersSeen = found.others.length;
    if (!this.namespaces) return;
    const live = new Set<string>();
    for (const ns of found.others) {
      live.add(ns.id);
      const procNet = ns.pid === null ? null : `${this.procRoot}/${ns.pid}/net`;
      const known = this.foreign.get(ns.id);
      if (known) {
        known.setProcNet(procNet);
        continue;
      }
      try {
        const enter = <T>(fn: () => T): T => inNetns(ns.path, fn, ns.id);
        this.foreign.set(
          ns.id,
          new NamespaceView(ns.id, enter, procNet, ns.container, this.listenersOnly, this.closedEvents, this.counters, () => null, !this.oneShot),
        );
      } catch (e) {
        // it may have gone between the listing and now; a stranded thread cannot go on polling
        if (e instanceof NetnsError && e.code === 'stranded') throw e;
        warnings.push(`cannot read network namespace ${netnsLabel(ns)}: ${(e as Error).message}`);
      }
    }
    for (const [id, view] of this.foreign) {
      if (live.has(id)) continue;
      view.close();
      this.foreign.delete(id);
    }
  }

  private dumpAll(): { rows: KernelRow[]; warnings: string[]; closed: Array<[NamespaceView, DiagRow[]]> } {
    const warnings: string[] = [];
    if (this.polls % NAMESPACE_SCAN_EVERY === 0) {
      this.scanNamespaces(warnings);
      for (const view of [this.own, ...this.foreign.values()]) view.refreshPorts();
    }
    const rows: KernelRow[] = [];
    const closed: Array<[NamespaceView, DiagRow[]]> = [];
    for (const view of [this.own, ...this.foreign.values()]) {
      const events: DiagRow[] = [];
      try {
        // while a helper thread dumps our namespace, this one does the owner work that needs no table
        view.dump(this.polls, rows, events, warnings, view === this.own ? () => this.builder.owners.prepare() : undefined);
      } catch (e) {
        if (view === this.own) throw e;
        warnings.push(`${view.netns}: ${(e as Error).message}`);
      }
      if (events.length) closed.push([view, events]);
    }
    return { rows, warnings, closed };
  }

  /** `owners` found by a one-off listing's walk, `pre` its sockets built before (both, or neither). */
  private finish({ rows, warnings, closed }: ReturnType<NetlinkSource['dumpAll']>, owners?: OwnerLookup, pre?: PreBuilt): SourceResult {
    this.polls++;
    const now = Date.now();
    const built = pre && owners ? this.builder.complete(pre, warnings, owners) : this.builder.build(rows, warnings, owners);
    let udpCounters: UdpCounters = 'no-conntrack';
    for (const view of [this.own, ...this.foreign.values()]) {
      const got = view.udpCounters(built.sockets, built.warnings);
      built.sockets = got.sockets;
      if (view === this.own) udpCounters = got.state;
    }
    const records: ClosedConnection[] = [];
    for (const [view, events] of closed) view.closedConnections(events, now, records);
    const ports: Record<string, HostPorts> = { '': this.own.ports };
    for (const [id, view] of this.foreign) ports[id] = view.ports;
    return { ...built, closed: records, namespaces: { others: this.othersSeen, listed: this.namespaces }, ports, udpCounters };
  }
}
