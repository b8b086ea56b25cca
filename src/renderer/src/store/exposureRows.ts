import { serviceLabel, type ServiceLabel } from '../../../shared/devPorts';
import { classifyPort, compareListeners, exposureOf, type Exposure, type PortClass } from '../../../shared/exposure';
import type { Socket } from '../../../shared/model';
import type { Row } from './rows';
import { formatAge } from './view';

/** Pure logic of the Exposure view: which rows it lists, what "open since" honestly says, and its sort. */

export const EXPOSURE_COLUMNS = ['exposure', 'process', 'local', 'service', 'risk', 'open', 'expected'] as const;
export type ExposureColumn = (typeof EXPOSURE_COLUMNS)[number];

/** How long a listener has been open, as far as this window knows. */
export interface OpenSince {
  text: string;
  /** The reasoning, for a tooltip. */
  title: string;
  /** `seen`: this window saw it open; `process`: it was there at the first look, bounded by its process's start; `before`: it was there, no more known. */
  basis: 'seen' | 'process' | 'before';
  /** When it opened, or the best bound known (epoch ms): what the column sorts by. */
  at: number;
}

export interface ListenerRow {
  row: Row;
  exposure: Exposure;
  cls: PortClass;
  service: ServiceLabel | null;
  expected: boolean | null;
}

const clock = (t: number): string => new Date(t).toLocaleString();

/**
 * "Open since" without claiming more than is known. A listener this window saw appear is as old as that. One
 * that was there at the first look (Portwatch just started, or this page just loaded) opened earlier: at
 * least that long ago, and, when its process's start time is known, at most as long ago as the process started
 * (unless it inherited the socket from a parent), which is the useful estimate.
 */
export function openSince(row: Row, now: number): OpenSince {
  if (row.seenOpen)
    return { text: formatAge(now - row.firstSeen), title: `Portwatch saw it open at ${clock(row.firstSeen)}`, basis: 'seen', at: row.firstSeen };
  const atLeast = `already listening at Portwatch's first look (${clock(row.firstSeen)}), so open at least ${formatAge(now - row.firstSeen)}`;
  const start = row.socket.process?.startTime ?? null;
  if (start !== null && start <= row.firstSeen) {
    return {
      text: `${formatAge(now - start)}, since process start`,
      title: `Not seen opening: ${atLeast}. Its process started at ${clock(start)}: the listener is no older, unless it was inherited.`,
      basis: 'process',
      at: start,
    };
  }
  return { text: `at least ${formatAge(now - row.firstSeen)}`, title: `Not seen opening: ${atLeast}.`, basis: 'before', at: row.firstSeen };
}

/** The listeners among `rows` (already filtered by the filter bar), still open, in the report order (widest first). */
export function listenerRows(rows: readonly Row[], expected: (s: Socket) => boolean | null): ListenerRow[] {
  const out: ListenerRow[] = [];
  for (const row of rows) {
    const s = row.socket;
    if (!s.listening || row.change === 'closed') continue;
    const exposure = exposureOf(s);
    if (exposure === null) continue;
    out.push({ row, exposure, cls: classifyPort(s.localPort, s.protocol), service: serviceLabel(s.localPort, s.protocol), expected: expected(s) });
  }
  return out.sort(byReport);
}

function byReport(a: ListenerRow, b: ListenerRow): number {
  return (
    compareListeners(
      { exposure: a.exposure, expected: a.expected, localPort: a.row.socket.localPort, protocol: a.row.socket.protocol },
      { exposure: b.exposure, expected: b.expected, localPort: b.row.socket.localPort, protocol: b.row.socket.protocol },
    ) || (a.row.socket.id < b.row.socket.id ? -1 : a.row.socket.id > b.row.socket.id ? 1 : 0)
  );
}

/** Rows from `listenerRows`, sorted by a column (ties in the report order). `open` sorts the youngest first. */
export function sortListeners(list: readonly ListenerRow[], col: ExposureColumn, dir: 1 | -1, now: number): ListenerRow[] {
  if (col === 'exposure') return dir === 1 ? [...list] : [...list].reverse();
  const key = (l: ListenerRow): string | number => {
    const s = l.row.socket;
    switch (col) {
      case 'process':
        return `${s.process?.name ?? '\uffff'}\u0000${String(s.process?.pid ?? s.pid ?? 0).padStart(10, '0')}`;
      case 'local':
        return `${s.localAddress}\u0000${String(s.localPort).padStart(5, '0')}\u0000${s.protocol}`;
      case 'service':
        return l.service?.text.toLowerCase() ?? '\uffff';
      case 'risk':
        return l.cls.risk === null ? '\uffff' : l.cls.risk;
      case 'open':
        return -openSince(l.row, now).at;
      case 'expected':
        return l.expected === true ? 2 : l.expected === null ? 1 : 0;
    }
  };
  const keyed = list.map((l, i) => ({ l, k: key(l), i }));
  keyed.sort((a, b) => dir * (a.k < b.k ? -1 : a.k > b.k ? 1 : 0) || a.i - b.i);
  return keyed.map((x) => x.l);
}

/** Listeners still open among the rows: the Exposure view's total, before the filter bar. */
export function countListeners(rows: readonly Row[]): number {
  let n = 0;
  for (const r of rows) if (r.socket.listening && r.change !== 'closed') n++;
  return n;
}
