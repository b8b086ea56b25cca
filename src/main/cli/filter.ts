import type { Delta, Snapshot, Socket } from '../../shared/model';
import { matchesQuery, type QueryTerm } from '../../shared/query';
import { matchesQuickFilters, type QuickFilters } from '../../shared/quickFilters';

/** The CLI's filter flags: the quick filters (`--listen` is `listening`), a pid, a port and a query. */
export interface SocketFilter extends QuickFilters {
  pid?: number;
  /** Matches the local or the remote port. */
  port?: number;
  /** Parsed --filter query (the UI's search language). */
  query?: QueryTerm[];
}

/** A predicate for the CLI's filter flags. Both of a pair (--tcp --udp, -4 -6) means either. */
export function socketMatcher(f: SocketFilter): (s: Socket) => boolean {
  return (s) => {
    if (!matchesQuickFilters(f, s)) return false;
    if (f.pid !== undefined && !s.pids.includes(f.pid)) return false;
    if (f.port !== undefined && s.localPort !== f.port && s.remotePort !== f.port) return false;
    if (f.query && !matchesQuery(f.query, s)) return false;
    return true;
  };
}

/**
 * Keeps a filtered view of a snapshot-then-deltas stream consistent: a socket that starts matching (its owner
 * changed) arrives as added, one that stops matching leaves as removed.
 */
export class DeltaFilter {
  private visible = new Set<string>();
  constructor(private readonly match: (s: Socket) => boolean) {}

  snapshot(s: Snapshot): Snapshot {
    const sockets = s.sockets.filter(this.match);
    this.visible = new Set(sockets.map((x) => x.id));
    return { ...s, sockets };
  }

  delta(d: Delta): Delta {
    const added: Socket[] = [];
    const changed: Socket[] = [];
    const removed: string[] = [];
    for (const id of d.removed) if (this.visible.delete(id)) removed.push(id);
    for (const s of d.added) {
      if (!this.match(s)) continue;
      this.visible.add(s.id);
      added.push(s);
    }
    for (const s of d.changed) {
      const was = this.visible.has(s.id);
      const is = this.match(s);
      if (is && was) changed.push(s);
      else if (is) {
        this.visible.add(s.id);
        added.push(s);
      } else if (was) {
        this.visible.delete(s.id);
        removed.push(s.id);
      }
    }
    return { seq: d.seq, takenAt: d.takenAt, added, removed, changed, closed: d.closed };
  }
}
