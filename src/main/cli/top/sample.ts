import { Monitor } from '../../engine/monitor';
import type { SocketSource } from '../../engine/sources/source';
import type { ClosedConnection, Delta, Snapshot, Socket } from '../../../shared/model';
import { processSummary } from '../../../shared/processSummary';
import { sumTraffic, totalTraffic, type TrafficSum } from '../../../shared/traffic';

/*
 * One sample of the traffic for scripts: two polls of the Monitor, one interval apart, so every socket that
 * lived through both has its rates (`top --once --json`, `list --rates`). Runs the Monitor in this thread: it
 * polls twice and stops.
 */

export interface TrafficSample {
  /** The second poll, its sockets with rateIn/rateOut/direction. */
  snapshot: Snapshot;
  /** Connections that closed between the polls, with the bytes no poll saw. */
  closed: ClosedConnection[];
  /** The time between the two polls' reads. */
  intervalMs: number;
  warnings: string[];
}

/** Polls `source` twice, `intervalMs` apart, and closes it. Throws the source's error when a poll fails. */
export async function sampleTraffic(source: SocketSource, intervalMs: number): Promise<TrafficSample> {
  const monitor = new Monitor({ source, intervalMs });
  const got: { delta: Delta | null } = { delta: null };
  const off = monitor.on('delta', (d) => (got.delta = d));
  try {
    await monitor.pollOnce();
    const first = monitor.getSnapshot();
    if (!first) throw new Error(failure(monitor));
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    await monitor.pollOnce();
    const second = monitor.getSnapshot();
    const d = got.delta;
    if (!second || d === null || second.seq === first.seq) throw new Error(failure(monitor));
    const status = monitor.getStatus();
    return { snapshot: second, closed: d.closed, intervalMs: second.takenAt - first.takenAt, warnings: status?.state === 'ok' ? status.warnings : [] };
  } finally {
    off();
    await monitor.stop();
  }
}

function failure(monitor: Monitor): string {
  const s = monitor.getStatus();
  return s && s.state === 'error' ? s.message : 'the source gave no sample';
}

export interface SampleProcess extends Omit<TrafficSum, 'key' | 'label'> {
  pid: number;
  /** The process's name, and the name as people think of it (`python3 app.py`). */
  name: string;
  summary: string;
  /** Its connections (listeners left out), busiest first; rateIn/rateOut null where the kernel keeps no counters. */
  sockets: Socket[];
}

/** `top --once --json`: the machine's totals, then each process with its rates and connections, busiest first. */
export function sampleJson(sample: TrafficSample): {
  takenAt: number;
  source: string;
  intervalMs: number;
  totals: Omit<TrafficSum, 'key' | 'label'>;
  processes: SampleProcess[];
} {
  const sockets = sample.snapshot.sockets;
  const byPid = new Map<number, Socket[]>();
  for (const s of sockets) {
    if (s.listening || s.pid === null) continue;
    let list = byPid.get(s.pid);
    if (!list) byPid.set(s.pid, (list = []));
    list.push(s);
  }
  const busy = (s: Socket): number => (s.rateIn ?? -1) + (s.rateOut ?? -1);
  const processes = sumTraffic('process', sockets, sample.closed, sample.intervalMs).map(({ key, label, ...sum }): SampleProcess => {
    const own = (byPid.get(Number(key)) ?? []).sort((a, b) => busy(b) - busy(a));
    const info = own.find((s) => s.process !== null)?.process ?? null;
    return { pid: Number(key), name: info?.name ?? label, summary: info ? processSummary(info) : label, ...sum, sockets: own };
  });
  const { key: _k, label: _l, ...totals } = totalTraffic(sockets, sample.closed, sample.intervalMs);
  return { takenAt: sample.snapshot.takenAt, source: sample.snapshot.source, intervalMs: sample.intervalMs, totals, processes };
}
