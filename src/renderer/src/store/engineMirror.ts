import type { Delta, Snapshot, Socket } from '../../../shared/model';

/** What the mirror tells its owner: a whole new state, or one delta applied in order. */
export interface MirrorEvents {
  /** A whole new state; deltas that came before it and are newer follow as `applied`. */
  replaced(s: Snapshot): void;
  applied(d: Delta): void;
  /** A delta arrived out of order: the state must be asked for again. */
  gap(): void;
}

/**
 * The engine's sockets as this window knows them: a snapshot, then deltas strictly in `seq` order. A gap is
 * never guessed across: the mirror says so and waits for a fresh snapshot, keeping the deltas that came
 * meanwhile (bounded) to apply after it.
 */
export class EngineMirror {
  private live = new Map<string, Socket>();
  private pending: Delta[] = [];
  private have = false;
  seq = 0;

  constructor(private readonly events: MirrorEvents) {}

  get(id: string): Socket | undefined {
    return this.live.get(id);
  }

  sockets(): IterableIterator<Socket> {
    return this.live.values();
  }

  has(id: string): boolean {
    return this.live.has(id);
  }

  /** True until a first snapshot (or after a gap, until the next one). */
  get waiting(): boolean {
    return !this.have;
  }

  replace(s: Snapshot): void {
    this.live = new Map(s.sockets.map((x) => [x.id, x]));
    this.have = true;
    this.seq = s.seq;
    const later = this.pending.filter((d) => d.seq > s.seq).sort((a, b) => a.seq - b.seq);
    this.pending = [];
    this.events.replaced(s);
    for (const d of later) this.delta(d);
  }

  delta(d: Delta): void {
    if (!this.have) {
      if (this.pending.length < 100) this.pending.push(d);
      return;
    }
    if (d.seq <= this.seq) return;
    if (d.seq !== this.seq + 1) {
      this.have = false;
      this.pending = [d];
      this.events.gap();
      return;
    }
    for (const id of d.removed) this.live.delete(id);
    for (const s of d.added) this.live.set(s.id, s);
    for (const s of d.changed) this.live.set(s.id, s);
    this.seq = d.seq;
    this.events.applied(d);
  }
}
