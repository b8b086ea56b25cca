import { describeUdpCounters, formatBytes, unmapIpv4, type ClosedConnection, type Socket, type SourceName, type UdpCounters } from './model';

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

/** Rates of some sockets added up, and how many of them could not be (for an honest total). */
export interface RateSum {
  rateIn: number;
  rateOut: number;
  /** Sockets with a rate in the sum. */
  counted: number;
  /** Sockets whose kernel keeps no byte counters (UDP without conntrack, another platform): not in the sum. */
  uncounted: number;
  /** Sockets with counters but no rate yet (first sight): in the sum from the next poll. */
  pending: number;
}

/** The kernel keeps byte counters for this socket (TCP; UDP where conntrack counts it). */
export function hasCounters(s: Pick<Socket, 'bytesIn' | 'bytesOut'>): boolean {
  return s.bytesIn !== null || s.bytesOut !== null;
}

/** Adds up sockets' rates (listeners too: a UDP server's traffic is on its unconnected socket). */
export function sumRates(sockets: Iterable<Socket>): RateSum {
  const r: RateSum = { rateIn: 0, rateOut: 0, counted: 0, uncounted: 0, pending: 0 };
  for (const s of sockets) addRate(r, s);
  return r;
}

/** One more socket into a RateSum. */
export function addRate(r: RateSum, s: Socket): void {
  if (!hasCounters(s)) {
    // a TCP listener has no counters to speak of: it carries no bytes itself, so it is no gap in the sum
    if (!(s.listening && s.protocol === 'tcp')) r.uncounted++;
    return;
  }
  if ((s.rateIn === null || s.rateIn === undefined) && (s.rateOut === null || s.rateOut === undefined)) {
    r.pending++;
    return;
  }
  r.counted++;
  r.rateIn += s.rateIn ?? 0;
  r.rateOut += s.rateOut ?? 0;
}

/**
 * A sum as a short text: `↓ 1.2 kB/s ↑ 300 B/s`; `n/a` when nothing in it has counters (never a fake 0), `…`
 * when what has counters was first seen this poll. A sum that leaves sockets out says so with `+n/a`.
 */
export function formatRateSum(r: RateSum): string {
  if (r.counted === 0) return r.pending > 0 ? '…' : r.uncounted > 0 ? 'n/a' : '';
  return `↓ ${formatRate(r.rateIn)} ↑ ${formatRate(r.rateOut)}${r.uncounted > 0 ? ' +n/a' : ''}`;
}

/** The tooltip of a sum: what it holds, and what it leaves out and why. */
export function describeRateSum(r: RateSum, noCounters: string): string {
  const parts: string[] = [];
  if (r.counted > 0)
    parts.push(`in ${formatRate(r.rateIn)}, out ${formatRate(r.rateOut)} over the last poll, from ${r.counted} socket${r.counted === 1 ? '' : 's'}`);
  if (r.pending > 0) parts.push(`${r.pending} first seen this poll (their rate comes with the next)`);
  if (r.uncounted > 0) parts.push(`${r.uncounted} not counted: ${noCounters}`);
  return parts.join('; ');
}

/**
 * Whether a source reads per-socket byte counters at all: netlink does (tcp_info); /proc/net and
 * systeminformation (macOS, Windows) have none, so their rate columns would be n/a on every row.
 */
export function sourceHasRates(source: SourceName | null): boolean {
  return source === null || source === 'netlink';
}

/** Why a UDP socket has no counters, from the status's `udpCounters`, for the n/a cells and sums. */
export function whyNoUdpCounters(state: UdpCounters | undefined): string {
  return state === 'conntrack' ? 'conntrack holds no flow of this socket (it counts only the connections it tracks)' : describeUdpCounters(state);
}
