import { isLoopbackAddress } from '../../shared/address';
import { closedAsSocket, type ClosedConnection, type Delta, type ProcessInfo, type Snapshot, type Socket } from '../../shared/model';
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
  /**
   * The monitor's current state, read only for a connection that lived between two polls (its kernel record
   * is all there is): whether its local port listens (then it came in), and its owner's executable.
   */
  current?: () => Snapshot | null;
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
    for (const s of d.added) this.consider(s);
    // connections no poll listed (most short ones): their kernel records, as the history files them
    let context: { listening: Set<string>; processes: Map<number, ProcessInfo> } | null = null;
    for (const c of d.closed) {
      if (c.firstSeen !== null || (!this.opts.includeLoopback && isLoopbackAddress(c.remoteAddress))) continue;
      context ??= this.context();
      this.consider(fromRecord(c, context.listening, context.processes));
    }
  }

  private consider(s: Socket): void {
    const key = this.keyOf(s);
    if (key === null || this.learned === null || this.learned.has(key)) return;
    const news = this.watching() && this.opts.enabled();
    this.learn(key);
    if (news) this.opts.onContact(s);
  }

  /** What listens (TCP, by port and namespace) and who is who, from the monitor's state: once per delta that needs it. */
  private context(): { listening: Set<string>; processes: Map<number, ProcessInfo> } {
    const listening = new Set<string>();
    const processes = new Map<number, ProcessInfo>();
    for (const s of this.opts.current?.()?.sockets ?? []) {
      if (s.listening && s.protocol === 'tcp') listening.add(`${s.localPort}|${s.netns ?? ''}`);
      if (s.process) processes.set(s.process.pid, s.process);
    }
    return { listening, processes };
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

/**
 * A connection known only from its kernel record, as a socket: in when its local port listens (as the history's
 * tracker decides), else out; its owner as the record names it, with the executable a poll saw for that pid.
 */
function fromRecord(c: ClosedConnection, listening: ReadonlySet<string>, processes: ReadonlyMap<number, ProcessInfo>): Socket {
  const p = c.pid === null ? undefined : processes.get(c.pid);
  // the name alone when no poll saw the process: the history files it under the name too
  const process: ProcessInfo | null =
    p ?? (c.pid !== null && c.name !== null ? { pid: c.pid, ppid: 0, name: c.name, exe: null, cmdline: [], uid: c.uid ?? 0, user: '', startTime: 0 } : null);
  return closedAsSocket(c, listening.has(`${c.localPort}|${c.netns ?? ''}`) ? 'in' : 'out', process, p?.user ?? null);
}
