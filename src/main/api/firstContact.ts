import { isLoopbackAddress } from '../../shared/address';
import type { Delta, Snapshot, Socket } from '../../shared/model';
import { contactKey, programOf, type LearnedContacts } from '../engine';

/**
 * Learning mode: which remote host and port each program has reached going out, as the history aggregates it
 * (flows: program, remote host, port, protocol), and which connection is a first contact. The learned set comes
 * from the history when it opens (store.contacts: a bounded query by its own index) and is kept here, in
 * memory; every outbound connection a poll adds joins it, so each contact is news once. Loopback destinations
 * are never news. Before the history reaches back `learningMs`, contacts are learned silently.
 */

export interface FirstContactOptions {
  /** A first contact (the alerts service decides whether it is muted, and lists it). */
  onContact: (s: Socket) => void;
  /** Whether to speak at all (the setting), and how much history to learn from first. */
  enabled: () => boolean;
  learningMs: () => number;
  now?: () => number;
  /** Loopback destinations count too (tests that have no other address to reach). Default false. */
  includeLoopback?: boolean;
}

/** The learned set's bound; past it, nothing is news (a set that cannot hold everything cannot say what is new). */
export const MAX_LEARNED = 1_000_000;

export class FirstContacts {
  private learned: Set<string> | null = null;
  private since: number | null = null;
  private complete = true;
  private readonly now: () => number;

  constructor(private readonly opts: FirstContactOptions) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * What the history has learned (each time it opens), with what is listed now: a connection already there is
   * not a first contact. Merged with what was learned meanwhile.
   */
  load(c: LearnedContacts, current: Snapshot | null): void {
    const set = this.learned ?? new Set<string>();
    for (const k of c.keys) set.add(k);
    this.learned = set;
    if (c.truncated) this.complete = false;
    // an empty history learns from now on
    const since = c.since ?? this.now();
    this.since = this.since === null ? since : Math.min(this.since, since);
    for (const s of current?.sockets ?? []) {
      const key = this.keyOf(s);
      if (key !== null) this.learn(key);
    }
  }

  /** Whether contacts are news yet: the history has been learned from long enough, and the set is whole. */
  watching(): boolean {
    return this.learned !== null && this.complete && this.since !== null && this.now() - this.since >= this.opts.learningMs();
  }

  delta(d: Delta): void {
    if (this.learned === null) return;
    for (const s of d.added) {
      const key = this.keyOf(s);
      if (key === null || this.learned.has(key)) continue;
      const news = this.watching() && this.opts.enabled();
      this.learn(key);
      if (news) this.opts.onContact(s);
    }
  }

  /** The contact an outbound connection makes, or null (a listener, inbound, unknown direction, loopback). */
  private keyOf(s: Socket): string | null {
    if (s.listening || s.remoteAddress === null || s.remotePort === null || s.direction !== 'out') return null;
    if (!this.opts.includeLoopback && isLoopbackAddress(s.remoteAddress)) return null;
    return contactKey(programOf(s.process ?? s.lastOwner), s.remoteAddress, s.remotePort, s.protocol);
  }

  private learn(key: string): void {
    const set = this.learned;
    if (set === null) return;
    if (set.size >= MAX_LEARNED) {
      this.complete = false;
      return;
    }
    set.add(key);
  }
}
