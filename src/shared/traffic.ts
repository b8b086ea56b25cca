import { formatBytes, unmapIpv4, type ClosedConnection, type Socket } from './model';

/*
 * Traffic summed the ways people ask about it: per process, per remote host, per local port, and for the machine.
 * Pure; the rates come from the poll loop (Socket.rateIn/rateOut), and a connection that closed during the last
 * interval adds the bytes no poll saw (ClosedConnection.unseenBytes*), so short connections count.
 */

export type TrafficKey = 'process' | 'remote-host' | 'local-port';

export interface TrafficSum {
  /** The group: a pid, a remote address, or `tcp:8080`. */
  key: string;
  /** A name to show: the process name, the address, the port. */
  label: string;
  /** Bytes a second over the last poll, in and out. */
  rateIn: number;
  rateOut: number;
  /** Bytes the kernel counted so far on the group's open connections, plus the closed ones' final counts this interval. */
  bytesIn: number;
  bytesOut: number;
  /** Open connections in the group, and those that closed during the interval. */
  connections: number;
  closed: number;
  /** Sockets of the group without counters (UDP and others): their traffic is not in the numbers. */
  uncounted: number;
}

function keyOf(by: TrafficKey, s: Pick<Socket, 'pid' | 'remoteAddress' | 'protocol' | 'localPort'>): string | null {
  switch (by) {
    case 'process':
      return s.pid === null ? null : String(s.pid);
    case 'remote-host':
      return s.remoteAddress === null ? null : unmapIpv4(s.remoteAddress);
    case 'local-port':
      return `${s.protocol}:${s.localPort}`;
  }
}

function empty(key: string, label: string): TrafficSum {
  return { key, label, rateIn: 0, rateOut: 0, bytesIn: 0, bytesOut: 0, connections: 0, closed: 0, uncounted: 0 };
}

function addSocket(t: TrafficSum, s: Socket): void {
  t.connections++;
  if (s.bytesIn === null && s.bytesOut === null) {
    t.uncounted++;
    return;
  }
  t.rateIn += s.rateIn ?? 0;
  t.rateOut += s.rateOut ?? 0;
  t.bytesIn += s.bytesIn ?? 0;
  t.bytesOut += s.bytesOut ?? 0;
}

/**
 * What a connection that closed during the last interval adds to a rate: the bytes no poll saw, spread over the
 * interval (`intervalMs`; one second when unknown).
 */
export function closedRate(c: Pick<ClosedConnection, 'unseenBytesIn' | 'unseenBytesOut'>, intervalMs: number): { rateIn: number; rateOut: number } {
  const seconds = intervalMs > 0 ? intervalMs / 1000 : 1;
  return { rateIn: Math.round((c.unseenBytesIn ?? 0) / seconds), rateOut: Math.round((c.unseenBytesOut ?? 0) / seconds) };
}

function addClosed(t: TrafficSum, c: ClosedConnection, intervalMs: number): void {
  const r = closedRate(c, intervalMs);
  t.closed++;
  t.rateIn += r.rateIn;
  t.rateOut += r.rateOut;
  t.bytesIn += c.bytesIn ?? 0;
  t.bytesOut += c.bytesOut ?? 0;
}

/**
 * The traffic of each group, busiest first (rate in plus out, then bytes). `intervalMs`: the time the closed
 * records' unseen bytes are spread over (the last poll interval). Listeners are left out, and so are sockets
 * without a key in that grouping (no owner, no remote end).
 */
export function sumTraffic(by: TrafficKey, sockets: Iterable<Socket>, closed: readonly ClosedConnection[], intervalMs: number): TrafficSum[] {
  const sums = new Map<string, TrafficSum>();
  const at = (key: string, label: string): TrafficSum => {
    let t = sums.get(key);
    if (!t) sums.set(key, (t = empty(key, label)));
    return t;
  };
  for (const s of sockets) {
    if (s.listening) continue;
    const key = keyOf(by, s);
    if (key !== null) addSocket(at(key, by === 'process' ? (s.process?.name ?? key) : by === 'remote-host' ? key : String(s.localPort)), s);
  }
  for (const c of closed) {
    const key = keyOf(by, c);
    if (key !== null) addClosed(at(key, by === 'process' ? (c.name ?? key) : by === 'remote-host' ? key : String(c.localPort)), c, intervalMs);
  }
  return [...sums.values()].sort(
    (a, b) => b.rateIn + b.rateOut - (a.rateIn + a.rateOut) || b.bytesIn + b.bytesOut - (a.bytesIn + a.bytesOut) || a.key.localeCompare(b.key),
  );
}

/** The machine's total over every connection, closed ones of the interval included. */
export function totalTraffic(sockets: Iterable<Socket>, closed: readonly ClosedConnection[], intervalMs: number): TrafficSum {
  const t = empty('all', 'all');
  for (const s of sockets) if (!s.listening) addSocket(t, s);
  for (const c of closed) addClosed(t, c, intervalMs);
  return t;
}

/** `1.5 kB/s`, `0 B/s` (formatBytes a second); `—` where there is no rate (first sight, no counters). */
export function formatRate(bytesPerSecond: number | null | undefined): string {
  return bytesPerSecond === null || bytesPerSecond === undefined ? '—' : `${formatBytes(bytesPerSecond)}/s`;
}
