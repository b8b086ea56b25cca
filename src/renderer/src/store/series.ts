import type { InterfaceRate } from '../../../shared/api';
import type { Socket } from '../../../shared/model';

/** Sockets per state at one moment: the history behind the state chart. */
export interface StatePoint {
  t: number;
  counts: Partial<Record<string, number>>;
}
/** Ten minutes at one point a second. */
export const HISTORY_POINTS = 600;

/** At most one point a second, bounded: a new array when a point was added, else the same one. */
export function withStatePoint(history: readonly StatePoint[], t: number, sockets: Iterable<Socket>): readonly StatePoint[] {
  const last = history[history.length - 1];
  if (last && t - last.t < 1000) return history;
  const counts: Partial<Record<string, number>> = {};
  for (const s of sockets) counts[s.state] = (counts[s.state] ?? 0) + 1;
  const next = history.length >= HISTORY_POINTS ? history.slice(1 - HISTORY_POINTS) : [...history];
  next.push({ t, counts });
  return next;
}

/** Machine throughput (every interface but loopback) at one moment. */
export interface RatePoint {
  t: number;
  rx: number;
  tx: number;
  /**
   * In plus out over every interface, loopback included: the ceiling of what sockets' rates can add up to (a
   * byte over loopback is out at one end and in at the other, as it is tx and rx of lo).
   */
  all: number;
}
/** Five minutes at one sample every two seconds. */
export const RATE_POINTS = 150;
export const RATE_SAMPLE_MS = 2000;

/**
 * The series with one more sample, bounded to RATE_POINTS. A sample within half a period of the last one (a
 * reconnect's extra sample) replaces none and is dropped: the same array comes back.
 */
export function withRatePoint(series: readonly RatePoint[], t: number, rates: readonly InterfaceRate[]): readonly RatePoint[] {
  const last = series[series.length - 1];
  if (last && t - last.t < RATE_SAMPLE_MS / 2) return series;
  const sum = (k: 'rxPerSec' | 'txPerSec'): number => rates.filter((x) => x.iface !== 'lo').reduce((a, x) => a + x[k], 0);
  const all = rates.reduce((a, x) => a + x.rxPerSec + x.txPerSec, 0);
  return [...series.slice(1 - RATE_POINTS), { t, rx: sum('rxPerSec'), tx: sum('txPerSec'), all }];
}
