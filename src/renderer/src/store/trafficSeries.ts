import { unmapIpv4, type ClosedConnection, type ProcessInfo, type Socket } from '../../../shared/model';
import { processSummary } from '../../../shared/processSummary';
import { closedRate, hasCounters } from '../../../shared/traffic';
import { HISTORY_POINTS, type RatePoint } from './series';
import { processKey, sumByProcess } from './sparkHistory';

/** One share of a traffic point: a process (by processKey) or a remote host (by address), and its rate in + out. */
export interface TrafficShare {
  key: string;
  /** A process's summary and pid (`python3 app.py (412)`); for a host its address (the chart names it when it can). */
  label: string;
  rate: number;
}

/**
 * The traffic at one moment: the busiest processes and remote hosts (at most TRAFFIC_TOP each), and the rest
 * of each summed as `other`, so a point holds a bounded number of values however many processes there are.
 */
export interface TrafficPoint {
  t: number;
  processes: readonly TrafficShare[];
  otherProcesses: number;
  hosts: readonly TrafficShare[];
  otherHosts: number;
}

/** The shares a point keeps of each kind. */
export const TRAFFIC_TOP = 8;

const rateOf = (s: Socket): number => (hasCounters(s) ? (s.rateIn ?? 0) + (s.rateOut ?? 0) : 0);

/** Two processes running the same thing are told apart by their pid. */
const processLabel = (p: ProcessInfo): string => {
  const name = processSummary(p);
  // a legend has room for about 28 characters: the name gives way, the pid that tells it apart stays
  return `${name.length > 20 ? `${name.slice(0, 19)}…` : name} (${p.pid})`;
};

function add(map: Map<string, TrafficShare>, key: string, label: () => string, rate: number): void {
  const x = map.get(key);
  if (x) x.rate += rate;
  else map.set(key, { key, label: label(), rate });
}

function top(map: Map<string, TrafficShare>): { shares: TrafficShare[]; other: number } {
  const all = [...map.values()].filter((x) => x.rate > 0).sort((a, b) => b.rate - a.rate || (a.key < b.key ? -1 : 1));
  let other = 0;
  for (const x of all.slice(TRAFFIC_TOP)) other += x.rate;
  return { shares: all.slice(0, TRAFFIC_TOP), other };
}

/**
 * The series with one more point (at most one a second, ten minutes: HISTORY_POINTS), from the live sockets and
 * the connections that closed since the last poll (`intervalMs` spreads their unseen bytes). Sockets without a
 * rate add nothing (the chart says what it cannot count). The same array when no point was added.
 */
export function withTrafficPoint(
  series: readonly TrafficPoint[],
  t: number,
  sockets: Iterable<Socket>,
  closed: readonly ClosedConnection[],
  intervalMs: number,
): readonly TrafficPoint[] {
  const last = series[series.length - 1];
  if (last && t - last.t < 1000) return series;
  const processes = new Map<string, TrafficShare>();
  const hosts = new Map<string, TrafficShare>();
  const byPid = new Map<number, ProcessInfo>();
  // by object and raw address first (cheap at 10,000 sockets), then by key: a few hundred of each
  const byAddress = new Map<string, number>();
  const perProcess = sumByProcess(
    sockets,
    () => ({ rate: 0 }),
    (acc, s) => {
      const rate = rateOf(s);
      if (rate <= 0) return;
      acc.rate += rate;
      if (s.remoteAddress !== null) byAddress.set(s.remoteAddress, (byAddress.get(s.remoteAddress) ?? 0) + rate);
    },
    (a, b) => void (a.rate += b.rate),
  );
  for (const [key, { process: p, sum }] of perProcess) {
    byPid.set(p.pid, p);
    if (sum.rate > 0) add(processes, key, () => processLabel(p), sum.rate);
  }
  // sockets without an owner (kernel-held, hidden) still carried traffic to their hosts
  for (const s of sockets) {
    if (s.process || s.remoteAddress === null) continue;
    const rate = rateOf(s);
    if (rate > 0) byAddress.set(s.remoteAddress, (byAddress.get(s.remoteAddress) ?? 0) + rate);
  }
  for (const [address, rate] of byAddress) {
    const host = unmapIpv4(address);
    add(hosts, host, () => host, rate);
  }
  for (const c of closed) {
    const r = closedRate(c, intervalMs);
    const rate = r.rateIn + r.rateOut;
    if (rate <= 0) continue;
    const p = c.pid === null ? null : (byPid.get(c.pid) ?? null);
    if (p) add(processes, processKey(p), () => processLabel(p), rate);
    const host = unmapIpv4(c.remoteAddress);
    add(hosts, host, () => host, rate);
  }
  const ps = top(processes);
  const hs = top(hosts);
  const next = series.length >= HISTORY_POINTS ? series.slice(1 - HISTORY_POINTS) : [...series];
  next.push({ t, processes: ps.shares, otherProcesses: ps.other, hosts: hs.shares, otherHosts: hs.other });
  return next;
}

/** The series the chart stacks: the busiest over the whole window, then `other` for everything else. */
export interface TrafficStack {
  /**
   * Busiest first; `other` last when anything falls in it. `id` is the series' field in `data` (`s0`, `s1` ...,
   * `other`): process keys and addresses hold colons and dots, which a chart would read as paths.
   */
  series: Array<{ id: string; key: string; label: string }>;
  /** One row per point: `t`, and each series' rate by its id. */
  data: Array<Record<string, number>>;
}

/** The key of the stack's remainder. */
export const OTHER = 'other';

/**
 * The chart's stack of one kind: the `n` busiest over the window (by their summed rate), and what every point
 * had beyond them as `other` (its own remainder included): a bounded number of series whatever came and went.
 */
export function trafficStack(
  points: readonly TrafficPoint[],
  kind: 'processes' | 'hosts',
  n = 5,
  label: (key: string, label: string) => string = (_k, l) => l,
): TrafficStack {
  const totals = new Map<string, { label: string; sum: number }>();
  for (const p of points)
    for (const x of p[kind]) {
      const e = totals.get(x.key);
      if (e) {
        e.sum += x.rate;
        e.label = x.label;
      } else totals.set(x.key, { label: x.label, sum: x.rate });
    }
  const chosen = [...totals].sort((a, b) => b[1].sum - a[1].sum || (a[0] < b[0] ? -1 : 1)).slice(0, n);
  const ids = new Map(chosen.map(([k], i) => [k, `s${i}`]));
  let anyOther = false;
  const data = points.map((p) => {
    const row: Record<string, number> = { t: p.t };
    let other = kind === 'processes' ? p.otherProcesses : p.otherHosts;
    for (const id of ids.values()) row[id] = 0;
    for (const x of p[kind]) {
      const id = ids.get(x.key);
      if (id !== undefined) row[id] = x.rate;
      else other += x.rate;
    }
    row[OTHER] = other;
    if (other > 0) anyOther = true;
    return row;
  });
  const series = chosen.map(([key, e], i) => ({ id: `s${i}`, key, label: label(key, e.label) }));
  if (anyOther) series.push({ id: OTHER, key: OTHER, label: 'other' });
  return { series, data };
}

/**
 * Each row of the stack with the interfaces' throughput at that time (the last sample at or before it): the
 * ceiling that sockets' rates add up to at most. Pure, for tests.
 */
export function withCeiling(data: ReadonlyArray<Record<string, number>>, rates: readonly RatePoint[]): Array<Record<string, number>> {
  let j = 0;
  return data.map((row) => {
    const t = row.t ?? 0;
    while (j + 1 < rates.length && (rates[j + 1] as RatePoint).t <= t) j++;
    const r = rates[j];
    return r && r.t <= t ? { ...row, ceiling: r.all } : { ...row };
  });
}
