import type { Delta, Snapshot, Socket } from '../../shared/model';
import { sameSocket } from '../../shared/compare';

/** Sockets by id. */
export type SocketMap = Map<string, Socket>;

export function indexSockets(sockets: readonly Socket[]): SocketMap {
  const map: SocketMap = new Map();
  for (const s of sockets) map.set(s.id, s);
  return map;
}

/** What changed from `prev` to `next`. */
export function diffSockets(prev: SocketMap, next: SocketMap, seq: number, takenAt: number): Delta {
  const added: Socket[] = [];
  const changed: Socket[] = [];
  const removed: string[] = [];
  for (const [id, s] of next) {
    const old = prev.get(id);
    if (old === undefined) added.push(s);
    else if (!sameSocket(old, s)) changed.push(s);
  }
  for (const id of prev.keys()) if (!next.has(id)) removed.push(id);
  return { seq, takenAt, added, removed, changed, closed: [] };
}

/** Applies a delta in place. */
export function applyDelta(map: SocketMap, delta: Delta): void {
  for (const id of delta.removed) map.delete(id);
  for (const s of delta.added) map.set(s.id, s);
  for (const s of delta.changed) map.set(s.id, s);
}

export function snapshotOf(map: SocketMap, meta: Omit<Snapshot, 'sockets'>): Snapshot {
  return { ...meta, sockets: [...map.values()] };
}
