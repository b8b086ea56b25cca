import type { Direction, Socket } from './model';

/*
 * Which way a connection goes: `in` when a remote end connected to one of this host's listeners, `out` when this
 * host connected out. Pure: the port ranges come from the engine (the host's sysctls), the listeners from the
 * same snapshot.
 */

export type { Direction };

export interface PortRange {
  min: number;
  max: number;
}

/** The port numbers a host's kernel works with, per network namespace (they are sysctls of the namespace). */
export interface HostPorts {
  /** Local ports the kernel picks for outgoing connections (`net.ipv4.ip_local_port_range`). */
  ephemeral: PortRange;
  /** Ports below this need root or CAP_NET_BIND_SERVICE (`net.ipv4.ip_unprivileged_port_start`). */
  unprivilegedStart: number;
  /** False when the host's values could not be read and these are the defaults. */
  known: boolean;
}

/** IANA's dynamic range (RFC 6335), which Windows and macOS use, and which Linux does not by default. */
export const IANA_EPHEMERAL: PortRange = { min: 49152, max: 65535 };
/** Linux's defaults, for when /proc/sys cannot be read. */
export const LINUX_DEFAULT_PORTS: HostPorts = { ephemeral: { min: 32768, max: 60999 }, unprivilegedStart: 1024, known: false };

export function inRange(port: number, r: PortRange): boolean {
  return port >= r.min && port <= r.max;
}

/** What a connection's direction is, and whether that was established or guessed. */
export interface DirectionVerdict {
  direction: Direction;
  guessed: boolean;
}

/** The listeners of a snapshot by namespace, protocol and port, for directionOf. */
export class ListenerIndex {
  private readonly byKey = new Map<string, string[]>();

  constructor(sockets: Iterable<Socket>) {
    for (const s of sockets) {
      if (!s.listening || s.remoteAddress !== null) continue;
      const key = ListenerIndex.key(s.netns, listenerProtocol(s.protocol), s.localPort);
      const list = this.byKey.get(key);
      if (list) list.push(s.localAddress);
      else this.byKey.set(key, [s.localAddress]);
    }
  }

  private static key(netns: string | null, protocol: string, port: number): string {
    return `${netns ?? ''}|${protocol}|${port}`;
  }

  /** A listener of this protocol on this port whose address takes connections to `address`. */
  accepts(netns: string | null, protocol: string, port: number, address: string): boolean {
    const list = this.byKey.get(ListenerIndex.key(netns, listenerProtocol(protocol), port));
    if (!list) return false;
    for (const a of list) if (a === address || isWildcard(a) || (a === '::' && address.startsWith('::ffff:')) || unmapped(a) === unmapped(address)) return true;
    return false;
  }
}

/** MPTCP's subflows are listed as TCP and its listener as mptcp: the same port space for this purpose. */
function listenerProtocol(p: string): string {
  return p === 'mptcp' ? 'tcp' : p;
}

function isWildcard(a: string): boolean {
  return a === '0.0.0.0' || a === '::' || a === '*';
}

function unmapped(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/**
 * `in` when the local port has a listener of the same protocol on a matching address (an accepted connection);
 * `out` when the remote end is a listener of this host, or when no listener takes the local port and it lies in
 * the host's ephemeral range (the kernel picked it for a connect); otherwise a guess: `out` when no listener takes the port (a client bound to a fixed port, or
 * a listener that closed), `in` when one does not but the remote port is the ephemeral-looking one. null for
 * listeners and sockets without a remote end.
 */
export function directionOf(s: Socket, listeners: ListenerIndex, ports: HostPorts): DirectionVerdict | null {
  if (s.listening || s.remoteAddress === null || s.remotePort === null) return null;
  if (listeners.accepts(s.netns, s.protocol, s.localPort, s.localAddress)) return { direction: 'in', guessed: false };
  // both ends on this host (loopback, or our own address): the end whose peer is a listener is the client
  if (listeners.accepts(s.netns, s.protocol, s.remotePort, s.remoteAddress)) return { direction: 'out', guessed: false };
  if (inRange(s.localPort, ports.ephemeral)) return { direction: 'out', guessed: !ports.known };
  // no listener takes this port: a client that bound a port of its choosing, unless the remote end looks like
  // the client (an ephemeral port against a low one) of a listener that has since closed
  const remoteLooksClient = inRange(s.remotePort, ports.ephemeral) && s.localPort < ports.unprivilegedStart;
  return { direction: remoteLooksClient ? 'in' : 'out', guessed: true };
}
