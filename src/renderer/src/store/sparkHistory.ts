import type { ClosedConnection, ProcessInfo, Socket } from '../../../shared/model';
import { addRate, closedRate, type RateSum } from '../../../shared/traffic';

/** One poll of a process's traffic: in plus out, bytes a second; null when none of its sockets has a rate. */
export interface SparkPoint {
  t: number;
  v: number | null;
}

/** What a sparkline spans. */
export const SPARK_WINDOW_MS = 60_000;
/** At most this many points per process (60 s at the fastest poll, 250 ms, would be 240: every other is enough). */
export const SPARK_MAX_POINTS = 120;

/**
 * A process as the table's process groups tell it apart: pid and start time (a recycled pid is another
 * process). The group key of process grouping is this.
 */
export function processKey(p: Pick<ProcessInfo, 'pid' | 'startTime'>): string {
  return `p:${p.pid}:${p.startTime ?? ''}`;
}

/**
 * Sums per process object first (a Map keyed by object is cheap; 10,000 sockets a poll), then per process key:
 * two objects may describe one process (each message carries its own process table).
 */
export function sumByProcess<T>(
  sockets: Iterable<Socket>,
  empty: () => T,
  add: (acc: T, s: Socket) => void,
  merge: (into: T, from: T) => void,
): Map<string, { process: ProcessInfo; sum: T }> {
  const byObject = new Map<ProcessInfo, T>();
  for (const s of sockets) {
    const p = s.process;
    if (!p) continue;
    let acc = byObject.get(p);
    if (acc === undefined) byObject.set(p, (acc = empty()));
    add(acc, s);
  }
  const out = new Map<string, { process: ProcessInfo; sum: T }>();
  for (const [p, acc] of byObject) {
    const key = processKey(p);
    const known = out.get(key);
    if (known) merge(known.sum, acc);
    else out.set(key, { process: p, sum: acc });
  }
  return out;
}

/**
 * The last 60 s of each process's traffic, one point a poll, for the sparklines of the process groups. Kept
 * outside React, bounded (SPARK_MAX_POINTS a process), and pruned: a process that holds no socket any more
 * is dropped at the next poll. A connection that closed during the interval adds the bytes no poll saw.
 */
export class SparkHistory {
  private series = new Map<string, readonly SparkPoint[]>();
  private lastT: number | null = null;

  /** Every process's series now: a new map after each record; a series is a new array when it got a point. */
  get current(): ReadonlyMap<string, readonly SparkPoint[]> {
    return this.series;
  }

  /** One poll: `sockets` is the whole live state, `closed` the connections that closed since the last. */
  record(t: number, sockets: Iterable<Socket>, closed: readonly ClosedConnection[] = []): ReadonlyMap<string, readonly SparkPoint[]> {
    const byKey = sumByProcess<RateSum>(
      sockets,
      () => ({ rateIn: 0, rateOut: 0, counted: 0, uncounted: 0, pending: 0 }),
      addRate,
      (a, b) => {
        a.rateIn += b.rateIn;
        a.rateOut += b.rateOut;
        a.counted += b.counted;
        a.uncounted += b.uncounted;
        a.pending += b.pending;
      },
    );
    const sums = new Map<string, RateSum>();
    const byPid = new Map<number, string>();
    for (const [key, { process, sum }] of byKey) {
      sums.set(key, sum);
      byPid.set(process.pid, key);
    }
    const intervalMs = this.lastT === null ? 0 : t - this.lastT;
    for (const c of closed) {
      const r = c.pid === null ? undefined : sums.get(byPid.get(c.pid) ?? '');
      if (!r) continue;
      const add = closedRate(c, intervalMs);
      r.counted++;
      r.rateIn += add.rateIn;
      r.rateOut += add.rateOut;
    }
    this.lastT = t;
    const next = new Map<string, readonly SparkPoint[]>();
    for (const [key, r] of sums) {
      const before = this.series.get(key) ?? [];
      // only TCP listeners so far: nothing that carries bytes, so no line and no `n/a` (a process that had
      // connections keeps its series, with a gap)
      if (before.length === 0 && r.counted + r.uncounted + r.pending === 0) continue;
      let from = 0;
      while (from < before.length && (t - (before[from] as SparkPoint).t > SPARK_WINDOW_MS || before.length - from >= SPARK_MAX_POINTS)) from++;
      next.set(key, [...before.slice(from), { t, v: r.counted > 0 ? r.rateIn + r.rateOut : null }]);
    }
    this.series = next;
    return next;
  }
}

/** A sparkline's size in CSS pixels. */
export const SPARK_WIDTH = 64;
export const SPARK_HEIGHT = 16;

/**
 * The polyline of a series over the sparkline's 60 s, newest at the right edge, scaled to its own peak; a
 * point without a rate breaks the line. Pure, for tests.
 */
export function sparkPath(points: readonly SparkPoint[], width = SPARK_WIDTH, height = SPARK_HEIGHT): { d: string; peak: number } {
  const last = points[points.length - 1];
  if (!last) return { d: '', peak: 0 };
  let peak = 0;
  for (const p of points) if (p.v !== null && p.v > peak) peak = p.v;
  const scale = peak > 0 ? (height - 2) / peak : 0;
  let d = '';
  let pen = false;
  let drawn = 0;
  for (const p of points) {
    if (p.v === null) {
      pen = false;
      continue;
    }
    const x = width - ((last.t - p.t) / SPARK_WINDOW_MS) * width;
    const y = (height - 1 - p.v * scale).toFixed(1);
    // a point alone would be invisible: the first one starts as a short tick ending at it
    d += pen ? `L${x.toFixed(1)} ${y}` : drawn === 0 && points.length === 1 ? `M${(x - 2).toFixed(1)} ${y}L${x.toFixed(1)} ${y}` : `M${x.toFixed(1)} ${y}`;
    pen = true;
    drawn++;
  }
  return { d, peak };
}
