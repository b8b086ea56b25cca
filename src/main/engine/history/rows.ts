import type { FlowIncrement, HistoryBatch, HistoryEvent } from './tracker';

// A batch as it crosses to the writer thread (HistoryWriter posts it, writerMain.ts hands it to the store): no
// libsql here, so that a host which only posts batches never loads the native module.

/**
 * An event as a row of the events table, its columns in EVENT_ROW_COLUMNS' order: what the writer thread is
 * handed (an array of values clones in about a third of the time of an object with twenty named fields) and what
 * is bound, rows at a time, to one INSERT.
 */
export type EventRow = [
  at: number,
  kind: HistoryEvent['kind'],
  socketId: string,
  protocol: HistoryEvent['protocol'],
  family: HistoryEvent['family'],
  localAddress: string,
  localPort: number,
  remoteAddress: string | null,
  remotePort: number | null,
  direction: HistoryEvent['direction'],
  pid: number | null,
  name: string | null,
  exe: string | null,
  user: string | null,
  uid: number | null,
  bytesIn: number | null,
  bytesOut: number | null,
  durationMs: number | null,
  netns: string | null,
  note: string | null,
];

export const EVENT_ROW_COLUMNS =
  'at, kind, socket_id, protocol, family, local_address, local_port, remote_address, remote_port, direction, pid, name, exe, user, uid, bytes_in, bytes_out, duration_ms, netns, note';
export const EVENT_ROW_WIDTH = 20;

/** A batch as the writer thread receives it: the events as rows. */
export interface PackedBatch {
  rows: EventRow[];
  flows: FlowIncrement[];
}

export function eventRow(e: HistoryEvent): EventRow {
  return [
    e.at,
    e.kind,
    e.socketId,
    e.protocol,
    e.family,
    e.localAddress,
    e.localPort,
    e.remoteAddress,
    e.remotePort,
    e.direction,
    e.pid,
    e.name,
    e.exe,
    e.user,
    e.uid,
    e.bytesIn,
    e.bytesOut,
    e.durationMs,
    e.netns,
    e.note,
  ];
}

export function packBatch(batch: HistoryBatch): PackedBatch {
  return { rows: batch.events.map(eventRow), flows: batch.flows };
}
