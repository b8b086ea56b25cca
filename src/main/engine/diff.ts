import type { Delta, ProcessInfo, Snapshot, Socket } from '../../shared/model';

function sameProcess(a: ProcessInfo | null, b: ProcessInfo | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return (
    a.pid === b.pid &&
    a.startTime === b.startTime &&
    a.name === b.name &&
    a.exe === b.exe &&
    a.user === b.user &&
    a.ppid === b.ppid &&
    a.cmdline.length === b.cmdline.length &&
    a.cmdline.every((arg, i) => arg === b.cmdline[i])
  );
}

/** True when nothing a consumer shows differs. The id already pins protocol and endpoints. */
export function sameSocket(a: Socket, b: Socket): boolean {
  if (a === b) return true;
  return (
    a.state === b.state &&
    a.pid === b.pid &&
    a.uid === b.uid &&
    a.user === b.user &&
    a.ownerHidden === b.ownerHidden &&
    a.incomplete === b.incomplete &&
    a.pids.length === b.pids.length &&
    a.pids.every((p, i) => p === b.pids[i]) &&
    sameProcess(a.process, b.process)
  );
}

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
  return { seq, takenAt, added, removed, changed };
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
