import { sameApartFromRates, sameSocket } from '../../../shared/compare';
import type { Delta, Socket } from '../../../shared/model';

export type Change = 'new' | 'closed' | 'changed';

/** A socket as shown: with its highlight and when this window first saw it. */
export interface Row {
  socket: Socket;
  change: Change | null;
  /** When the highlight ends (a closed row then leaves). */
  until: number;
  firstSeen: number;
  /**
   * This window saw it appear (a delta, or a later state compared), so `firstSeen` is when it opened, give
   * or take a poll. False for what the first state already held: that opened at some time before.
   */
  seenOpen: boolean;
}

/** How long each highlight lasts. A closed row stays this long, then leaves. */
export const HIGHLIGHT_MS: Record<Change, number> = { new: 4000, closed: 5000, changed: 1500 };

/**
 * The rows on screen and their highlights: new (green), changed (yellow), closed (red, staying a few seconds
 * before it leaves). They follow the engine's sockets unless the view is frozen; unfreezing compares and
 * highlights what happened meanwhile.
 */
export class RowTracker {
  private readonly shown = new Map<string, Row>();
  private first = true;

  constructor(private readonly now: () => number) {}

  /** Before the first state: that one is shown plain, without highlights. */
  get fresh(): boolean {
    return this.first;
  }

  rows(): Row[] {
    return [...this.shown.values()];
  }

  /** A whole new state: the first one plain, a later one (reconnect, restart) compared and highlighted. */
  replace(live: Iterable<Socket>, has: (id: string) => boolean, takenAt: number): void {
    if (this.first) {
      this.first = false;
      for (const x of live) this.shown.set(x.id, { socket: x, change: null, until: 0, firstSeen: takenAt, seenOpen: false });
      return;
    }
    this.catchUp(live, has);
  }

  /** One delta, highlighted. */
  apply(d: Delta): void {
    const now = this.now();
    for (const id of d.removed) this.markClosed(id, now);
    for (const s of d.added) this.markNew(s, now);
    for (const s of d.changed) this.markChanged(s, now);
  }

  /** Brings the rows to `live` by comparison (after a freeze or a resync). */
  catchUp(live: Iterable<Socket>, has: (id: string) => boolean): void {
    const now = this.now();
    for (const [id, row] of this.shown) if (!has(id) && row.change !== 'closed') this.markClosed(id, now);
    for (const s of live) {
      const row = this.shown.get(s.id);
      if (!row || row.change === 'closed') this.markNew(s, now);
      else if (!sameSocket(row.socket, s)) this.markChanged(s, now);
      else if (row.socket !== s) this.shown.set(s.id, { ...row, socket: s });
    }
  }

  /** Ends highlights that are due (`graceMs` ago or earlier); closed rows leave. True when a row changed. */
  expire(graceMs = 0): boolean {
    const now = this.now() - graceMs;
    let changed = false;
    for (const [id, row] of this.shown) {
      if (row.change === null || row.until > now) continue;
      changed = true;
      if (row.change === 'closed') this.shown.delete(id);
      else this.shown.set(id, { ...row, change: null });
    }
    return changed;
  }

  private markNew(s: Socket, now: number): void {
    const old = this.shown.get(s.id);
    const kept = old && old.change !== 'closed' ? old : null;
    this.shown.set(s.id, {
      socket: s,
      change: 'new',
      until: now + HIGHLIGHT_MS.new,
      firstSeen: kept ? kept.firstSeen : now,
      seenOpen: kept ? kept.seenOpen : true,
    });
  }

  private markChanged(s: Socket, now: number): void {
    const old = this.shown.get(s.id);
    if (!old) return this.markNew(s, now);
    // a busy connection's rates move at every poll: new numbers, no highlight
    if (old.change !== 'closed' && sameApartFromRates(old.socket, s)) {
      this.shown.set(s.id, { ...old, socket: s });
      return;
    }
    // a socket still shown as new stays new (green), with the newer data
    const change = old.change === 'new' ? 'new' : 'changed';
    this.shown.set(s.id, { ...old, socket: s, change, until: Math.max(old.until, now + HIGHLIGHT_MS.changed) });
  }

  private markClosed(id: string, now: number): void {
    const old = this.shown.get(id);
    if (!old) return;
    this.shown.set(id, { ...old, change: 'closed', until: now + HIGHLIGHT_MS.closed });
  }
}
