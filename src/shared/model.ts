/**
 * The Portwatch data model: what every source produces and every consumer (CLI, web, Electron UI) reads.
 * Types plus tiny pure helpers only: no node, electron or DOM imports.
 */

/**
 * The transport as the kernel names it. `raw` is a raw IP socket (its local port is the IP protocol number, as
 * `ss -w` shows it); `icmp` an unprivileged ICMP "ping" socket (ICMPv6 when family is 6); `mptcp` a Multipath
 * TCP socket (its subflows are listed as tcp).
 */
export type Protocol = 'tcp' | 'udp' | 'udplite' | 'raw' | 'icmp' | 'mptcp';
/** Which way a connection goes: `in` to a listener here, `out` from this host (shared/direction.ts decides). */
export type Direction = 'in' | 'out';
export const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'udplite', 'raw', 'icmp', 'mptcp'];
export type Family = 4 | 6;

/** TCP states, named as the Linux kernel and netstat name them. */
export const TCP_STATES = [
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  /** Bound to an address and port but neither listening nor connected: it holds the port (EADDRINUSE). */
  'BOUND',
] as const;
export type TcpState = (typeof TCP_STATES)[number];
/**
 * UDP, raw and ping sockets have no states; an unconnected one is 'UNCONN' (as `ss` says), a connected one
 * 'ESTABLISHED'.
 */
export type SocketState = TcpState | 'UNCONN';
export const SOCKET_STATES: readonly SocketState[] = [...TCP_STATES, 'UNCONN'];

/** A process that owns at least one socket. Cached by (pid, startTime): a recycled pid is a new process. */
export interface ProcessInfo {
  pid: number;
  ppid: number | null;
  /** Full name: the kernel's 15-character comm is replaced by the executable's or argv[0]'s name when cut. */
  name: string;
  /** Absolute path of the executable, or null when it cannot be read (permissions, kernel thread). */
  exe: string | null;
  cmdline: string[];
  uid: number | null;
  user: string | null;
  /** Process start, epoch milliseconds; null when the source cannot tell (systeminformation without details). */
  startTime: number | null;
}

/**
 * Why a socket has no visible owning process:
 * - `closed`: the kernel holds it after its owner closed it (TIME_WAIT, an orphaned FIN_WAIT, a request socket);
 *   it has no owning uid either;
 * - `hidden`: another user's process holds it and Portwatch runs without the rights to look;
 * - `pid-namespace`: Portwatch runs inside a pid namespace of its own, so processes outside it are not visible;
 * - `not-found`: every visible descriptor was read and none holds it (it appeared after the walk, or it is held
 *   only by a message in flight or by the kernel itself).
 */
export type NoOwner = 'closed' | 'hidden' | 'pid-namespace' | 'not-found';

/** What the UI and CLI say for a socket without a visible owner. */
export function describeNoOwner(reason: NoOwner): string {
  switch (reason) {
    case 'closed':
      return 'no owner (closed)';
    case 'hidden':
      return 'owner hidden: run elevated to see';
    case 'pid-namespace':
      return 'owner not visible: another pid namespace';
    case 'not-found':
      return 'owner not found';
  }
}

/** A socket's last owner (Socket.lastOwner), when it has no owner now and the reason is one a last owner explains. */
export function lastOwnerOf(s: Pick<Socket, 'process' | 'noOwner' | 'lastOwner'>): ProcessInfo | null {
  if (s.process || !s.lastOwner) return null;
  return s.noOwner === 'closed' || s.noOwner === 'not-found' ? s.lastOwner : null;
}

/**
 * The process whose group a socket sits in (and whose rows `proc:` finds): its owner, or, for a socket its owner
 * let go of (`not-found`, caught in its exit), the last one. Not a TIME_WAIT's last owner: the kernel's group
 * holds those.
 */
export function groupOwnerOf(s: Pick<Socket, 'process' | 'noOwner' | 'lastOwner'>): ProcessInfo | null {
  return s.process ?? (s.noOwner === 'not-found' ? (s.lastOwner ?? null) : null);
}

/** How a last owner is marked: `closed` (the kernel holds the connection), or `released` (no process holds it now). */
export function lastOwnerMark(s: Pick<Socket, 'noOwner'>): string {
  return s.noOwner === 'closed' ? 'closed' : 'released';
}

export interface Socket {
  /** Stable across polls: same socket, same id. */
  id: string;
  protocol: Protocol;
  family: Family;
  /** Complete, canonical (RFC 5952 for IPv6; IPv4-mapped as ::ffff:a.b.c.d). */
  localAddress: string;
  localPort: number;
  /** null for listeners and unconnected UDP. */
  remoteAddress: string | null;
  remotePort: number | null;
  state: SocketState;
  /** TCP LISTEN or UDP UNCONN. */
  listening: boolean;
  /** Primary owner: the ancestor among the owners. null when unknown. */
  pid: number | null;
  /** Every owning pid, ascending (fork-shared sockets have several). */
  pids: readonly number[];
  /**
   * Socket owner uid as the kernel reports it; null when the source cannot tell and for sockets no process owns
   * any more (TIME_WAIT and orphans: the kernel prints 0 for them, which is not root).
   */
  uid: number | null;
  user: string | null;
  /**
   * True when the socket has an owner that Portwatch cannot see (another user's process without privileges,
   * or a process in another pid namespace): `noOwner` is `hidden` or `pid-namespace`.
   */
  ownerHidden: boolean;
  /** Why no owning process is known; null when one is (or the source cannot tell). */
  noOwner: NoOwner | null;
  /**
   * The network device the socket is bound to (SO_BINDTODEVICE), or the scope of a link-local IPv6 address:
   * `0.0.0.0%lo` in ss's words. null when it is bound to none, or the source cannot tell.
   */
  interface: string | null;
  /** IPv6 listeners and unconnected sockets: true when IPv6-only (`[::]` in ss), false when dual-stack (`*`). */
  v6only: boolean | null;
  /** TCP: bytes received (delivered to the application) and sent (acknowledged by the peer); null elsewhere. */
  bytesIn: number | null;
  bytesOut: number | null;
  /** TCP: smoothed round-trip time in milliseconds; null elsewhere. Refreshed when the socket otherwise changes. */
  rttMs: number | null;
  /**
   * Bytes a second received and sent over the last poll, from the kernel's counters (TCP); null on first sight
   * and where the kernel keeps no counters (UDP). Absent where no poll loop computed it (a one-off listing).
   */
  rateIn?: number | null;
  rateOut?: number | null;
  /**
   * `in`: a remote end connected to a listener here; `out`: this host connected out. null for listeners and
   * sockets without a remote end; absent where not computed.
   */
  direction?: Direction | null;
  /** True when `direction` is a guess (see shared/direction.ts), not established from listeners and port ranges. */
  directionGuessed?: boolean;
  /** The network namespace, when it is not Portwatch's own: `net:[inode]`; null for Portwatch's own. */
  netns: string | null;
  /** The container whose namespace this is, when a process in it names one in its cgroup (a short id). */
  container: string | null;
  /** The primary owner's details, or null. */
  process: ProcessInfo | null;
  /**
   * The process that held the socket when a poll last saw it owned, on a socket no process holds now: a
   * connection the kernel keeps after its owner closed it (`noOwner` is `closed`: TIME_WAIT, an orphaned
   * FIN_WAIT), or one whose owner let go of it (`not-found`: caught while its process exits, the descriptors
   * gone before the socket). Shown marked as such (lastOwnerOf, lastOwnerMark); never a target.
   */
  lastOwner?: ProcessInfo;
  /**
   * Set when the source could only report part of an address (systeminformation truncates some IPv6
   * addresses): the address is shown as given and must not be trusted as complete.
   */
  incomplete?: true;
}

export type SourceName = 'netlink' | 'procfs' | 'systeminformation';

/**
 * What a socket's id is made from before anything tells apart sockets that share it: its namespace, protocol and
 * four-tuple (`tcp|127.0.0.1|80|*|*`). The engine adds a discriminator for listeners (engine/socketId.ts); the wire
 * layout sends an id as what it adds to this.
 */
export function socketIdBase(s: Pick<Socket, 'netns' | 'protocol' | 'localAddress' | 'localPort' | 'remoteAddress' | 'remotePort'>): string {
  return `${s.netns === null ? '' : `${s.netns}|`}${s.protocol}|${s.localAddress}|${s.localPort}|${s.remoteAddress ?? '*'}|${s.remotePort ?? '*'}`;
}

/**
 * A TCP connection the kernel freed, from its destroy event: also one that opened and closed between two polls.
 * Its owner is the last one a poll saw for its four-tuple.
 */
export interface ClosedConnection {
  /** The id the connection had (or would have had) in the socket list. */
  id: string;
  protocol: 'tcp';
  family: Family;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** State when freed (mostly CLOSE: after TIME_WAIT, or a reset). */
  state: SocketState;
  /** Last known owner, when a poll saw it. */
  pid: number | null;
  name: string | null;
  uid: number | null;
  bytesIn: number | null;
  bytesOut: number | null;
  /**
   * Of those, the bytes no poll saw: the final count minus the last poll's (all of them for a connection that
   * lived between two polls). What rates and totals add for the interval it closed in. Absent where not computed.
   */
  unseenBytesIn?: number | null;
  unseenBytesOut?: number | null;
  /** Epoch ms of the first poll that listed it; null when it lived between two polls. */
  firstSeen: number | null;
  /**
   * How the owner of one that lived between two polls was guessed (absent when a poll saw it, or nothing was
   * guessed): `listener`, the owner of the listener it came in to; `destination`, the owner of the last
   * connection a poll saw from this host to the same remote host and port.
   */
  ownerGuess?: 'listener' | 'destination';
  /** Epoch ms when the event was read. */
  closedAt: number;
  netns: string | null;
}

/**
 * A closed connection no poll listed, as a Socket (for the filter language, the history's bookkeeping, first
 * contacts): its tuple and counters from the kernel's record, the direction and owner the caller decided.
 */
export function closedAsSocket(c: ClosedConnection, direction: Direction, process: ProcessInfo | null, user: string | null): Socket {
  return {
    id: c.id,
    protocol: 'tcp',
    family: c.family,
    localAddress: c.localAddress,
    localPort: c.localPort,
    remoteAddress: c.remoteAddress,
    remotePort: c.remotePort,
    state: c.state,
    listening: false,
    pid: c.pid,
    pids: c.pid === null ? [] : [c.pid],
    uid: c.uid,
    user,
    ownerHidden: false,
    noOwner: null,
    interface: null,
    v6only: null,
    bytesIn: c.bytesIn,
    bytesOut: c.bytesOut,
    rttMs: null,
    direction,
    netns: c.netns,
    container: null,
    process,
  };
}

export interface Snapshot {
  seq: number;
  /** Epoch ms when the poll finished reading. */
  takenAt: number;
  source: SourceName;
  sockets: Socket[];
}

export interface Delta {
  seq: number;
  takenAt: number;
  added: Socket[];
  removed: string[];
  changed: Socket[];
  /** TCP connections freed since the last poll (netlink source; empty elsewhere). */
  closed: ClosedConnection[];
}

/**
 * Where UDP sockets' byte counters (and so their rates) come from: the kernel keeps none per UDP socket.
 * `conntrack`: netfilter's connection tracking, whose accounting is on (whole IP packets); `acct-off`: conntrack
 * is there but its accounting is off (`sysctl net.netfilter.nf_conntrack_acct=1` turns it on; Portwatch never
 * does by itself); `no-conntrack`: the kernel tracks no connections here; `unreadable`: only root may read the
 * table.
 */
export type UdpCounters = 'conntrack' | 'acct-off' | 'no-conntrack' | 'unreadable';

/** What the UI and CLI say where a UDP rate would be. */
export function describeUdpCounters(state: UdpCounters | undefined): string {
  switch (state) {
    case 'conntrack':
      return 'UDP counted by conntrack (whole packets)';
    case 'acct-off':
      return 'no UDP counters: conntrack accounting is off (sysctl net.netfilter.nf_conntrack_acct=1)';
    case 'unreadable':
      return 'no UDP counters: conntrack needs root';
    case 'no-conntrack':
    case undefined:
      return 'no UDP counters: the kernel keeps none per UDP socket';
  }
}

export type MonitorStatus =
  | {
      state: 'ok';
      source: SourceName;
      lastPollAt: number;
      pollMs: number;
      /** Bad input skipped, and notes such as a fallback from netlink to procfs. */
      warnings: string[];
      /** Network namespaces other than Portwatch's own: how many, and whether their sockets are listed (root). */
      namespaces?: { others: number; listed: boolean };
      /** Where UDP byte counters come from (netlink source). */
      udpCounters?: UdpCounters;
    }
  | { state: 'paused'; source: SourceName; lastPollAt: number | null }
  | {
      state: 'error';
      source: SourceName;
      /** What failed, in words a user can act on. */
      message: string;
      /** takenAt of the last good snapshot still being shown, or null if there never was one. */
      staleSince: number | null;
      /** When the first failure of this streak happened. */
      failingSince: number;
      failures: number;
    };

/** True for ::ffff:a.b.c.d: an IPv4 peer seen through an IPv6 socket. */
export function isIpv4Mapped(address: string): boolean {
  return /^::ffff:\d{1,3}(\.\d{1,3}){3}$/i.test(address);
}

/** The IPv4 address behind an IPv4-mapped IPv6 address; other addresses unchanged. */
export function unmapIpv4(address: string): string {
  return isIpv4Mapped(address) ? address.slice(7) : address;
}

/** `127.0.0.1:80`, `[::1]:80`, `*:53` style endpoint text. */
export function formatEndpoint(address: string | null, port: number | null, iface: string | null = null): string {
  if (address === null) return '*';
  const bracketed = address.includes(':') ? `[${address}]` : address;
  const host = iface === null ? bracketed : `${bracketed}%${iface}`;
  return port === null ? host : `${host}:${port}`;
}

/** The local end as ss writes it: `0.0.0.0%lo:80`, `[fe80::1]%veth0:80`, and `*:80` for a dual-stack `::`. */
export function formatLocal(s: Pick<Socket, 'localAddress' | 'localPort' | 'interface' | 'v6only'>): string {
  const address = s.localAddress === '::' && s.v6only === false ? '*' : s.localAddress;
  return formatEndpoint(address, s.localPort, s.interface);
}

/** `0 B`, `1.5 kB`, `12 MB` (SI units, as network tools count); `—` for unknown. */
export function formatBytes(n: number | null): string {
  if (n === null) return '—';
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u] as string}`;
}
