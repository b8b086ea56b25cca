/**
 * The Portwatch data model: what every source produces and every consumer (CLI, web, Electron UI) reads.
 * Types plus tiny pure helpers only: no node, electron or DOM imports.
 */

export type Protocol = 'tcp' | 'udp';
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
] as const;
export type TcpState = (typeof TCP_STATES)[number];
/** UDP has no states; an unconnected UDP socket is 'UNCONN' (as `ss` says), a connected one 'ESTABLISHED'. */
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
  /** Socket owner uid as the kernel reports it; null when the source cannot tell. */
  uid: number | null;
  user: string | null;
  /**
   * True when the socket has an owner that Portwatch cannot see (another user's process without privileges,
   * or a process in another pid namespace): the UI says "owner hidden: run elevated to see".
   */
  ownerHidden: boolean;
  /** The primary owner's details, or null. */
  process: ProcessInfo | null;
  /**
   * Set when the source could only report part of an address (systeminformation truncates some IPv6
   * addresses): the address is shown as given and must not be trusted as complete.
   */
  incomplete?: true;
}

export type SourceName = 'procfs' | 'systeminformation';

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
}

export type MonitorStatus =
  | { state: 'ok'; source: SourceName; lastPollAt: number; pollMs: number; warnings: string[] }
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
export function formatEndpoint(address: string | null, port: number | null): string {
  if (address === null) return '*';
  const host = address.includes(':') ? `[${address}]` : address;
  return port === null ? host : `${host}:${port}`;
}
