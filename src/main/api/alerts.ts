import type { Alert, AlertMute, AlertSettings, AlertSeverity } from '../../shared/api';
import { DEFAULT_ALERT_SETTINGS, FIRST_CONTACT_SEVERITY, isMuted, sameMute, SEVERITY_ORDER, severityOf } from '../../shared/alerts';
import { isExpected, type BaselineRule } from '../../shared/baseline';
import { exposureOf, riskOf } from '../../shared/exposure';
import { formatEndpoint, type Delta, type Snapshot, type Socket } from '../../shared/model';
import { commandLine, processSummary } from '../../shared/processSummary';

export interface AlertOptions {
  rules: () => readonly BaselineRule[];
  onAlert: (a: Alert) => void;
  /** The settings changed (a mute, a snooze, a clear, loopback shown or not). */
  onSettings?: (s: AlertSettings) => void;
  now?: () => number;
  /** The same listener (process, protocol, port, exposure) is announced again only after this long. */
  quietMs?: number;
  /**
   * After a uid's listener on all interfaces notifies, that uid's further ones within this long are listed
   * quietly and announced together in one notification when it ends (at the first poll after): the per-uid
   * rate limit of notifications. Only high alerts (all interfaces) notify at all.
   */
  coalesceMs?: number;
  /** How many alerts the list keeps. */
  keep?: number;
  /** How many alerts of one owning uid the list keeps. */
  perUid?: number;
  /** Settings kept from an earlier run (the settings file): mutes, snooze, loopback and first contacts. */
  initial?: Partial<Omit<AlertSettings, 'clearedThrough'>>;
}

/** How long "snooze" lasts when the caller does not say. */
export const SNOOZE_MS = 60 * 60_000;

/** An open coalescing window of one owner's listeners on all interfaces. */
interface Burst {
  until: number;
  /** Listed quietly since the window opened, not yet announced. */
  held: number;
  example: Socket | null;
}

interface Entry {
  alert: Alert;
  owner: string;
}

/**
 * Speaks up when an unexpected listener appears and holds for two polls (one seen in a poll and gone by the
 * next never alerts): an alert in the list with its severity (severityOf: all interfaces high, one interface
 * medium, loopback low), and a notification for high ones. Listeners already there at start, and a listener
 * flapping (closing and reopening), do not repeat. Muted processes and ports raise nothing; while snoozed,
 * nothing notifies.
 *
 * Everything that limits is per owning uid (a socket of unknown uid has its own bucket), so that one user's
 * flood of decoys can neither spend another's notifications nor push another's alerts out of the list; and
 * within a uid, the least severe go first.
 */
export class Alerts {
  private list: Entry[] = [];
  private readonly perOwner = new Map<string, number>();
  private readonly lastSeen = new Map<string, number>();
  /** Listeners seen in one poll that would be news, by socket id: they alert if the next poll still has them. */
  private readonly pending = new Map<string, Socket>();
  private readonly bursts = new Map<string, Burst>();
  private settingsNow: AlertSettings = { ...DEFAULT_ALERT_SETTINGS, mutes: [] };
  private nextId = 1;
  private readonly now: () => number;
  private readonly quietMs: number;
  private readonly coalesceMs: number;
  private readonly keep: number;
  private readonly perUid: number;

  constructor(private readonly opts: AlertOptions) {
    this.now = opts.now ?? Date.now;
    this.quietMs = opts.quietMs ?? 10 * 60_000;
    this.coalesceMs = opts.coalesceMs ?? 30_000;
    this.keep = opts.keep ?? 200;
    this.perUid = opts.perUid ?? 50;
    if (opts.initial) this.settingsNow = { ...this.settingsNow, ...opts.initial, mutes: [...(opts.initial.mutes ?? [])] };
  }

  all(): Alert[] {
    return this.list.map((e) => e.alert);
  }

  settings(): AlertSettings {
    const s = this.settingsNow;
    // a snooze that has ended is reported as none
    return s.snoozedUntil !== null && s.snoozedUntil <= this.now() ? { ...s, snoozedUntil: null } : s;
  }

  setIncludeLoopback(on: boolean): AlertSettings {
    return this.changeSettings({ includeLoopback: on });
  }

  /** First-contact alerts on or off, and how much history they learn from first (ms). */
  setFirstContact(on: boolean, learningMs?: number): AlertSettings {
    return this.changeSettings({ firstContact: on, ...(learningMs === undefined ? {} : { learningMs }) });
  }

  /**
   * A program reached a remote host and port for the first time (FirstContacts decided it): a first-contact
   * alert, medium (listed, not notified), unless its process or its remote port is muted; it takes its uid's
   * share of the list like any alert.
   */
  contact(s: Socket): void {
    if (!this.settingsNow.firstContact || s.remoteAddress === null || s.remotePort === null) return;
    if (isMuted(this.settingsNow.mutes, { summary: summaryOf(s), localPort: s.remotePort })) return;
    const who = `${summaryOf(s) ?? 'an unknown process'}${s.pid === null ? '' : ` (pid ${s.pid})`}`;
    this.raise(s, ownerOf(s), this.now(), false, `${who} contacted ${s.protocol} ${formatEndpoint(s.remoteAddress, s.remotePort)} for the first time`, {
      kind: 'first-contact',
      severity: FIRST_CONTACT_SEVERITY,
      exposure: 'all',
      remoteAddress: s.remoteAddress,
      remotePort: s.remotePort,
      risk: null,
    });
  }

  /** Mutes a process (by summary) or a port until unmuted. */
  mute(m: AlertMute): AlertSettings {
    const mutes = this.settingsNow.mutes;
    return this.changeSettings({ mutes: mutes.some((x) => sameMute(x, m)) ? mutes : [...mutes, m] });
  }

  unmute(m: AlertMute): AlertSettings {
    return this.changeSettings({ mutes: this.settingsNow.mutes.filter((x) => !sameMute(x, m)) });
  }

  /** Nothing notifies for `ms` (0 ends a snooze). */
  snooze(ms: number): AlertSettings {
    return this.changeSettings({ snoozedUntil: ms > 0 ? this.now() + ms : null });
  }

  /** Empties the list; what listens stays known (a cleared alert does not come back). */
  clear(): AlertSettings {
    this.list = [];
    this.perOwner.clear();
    return this.changeSettings({ clearedThrough: this.nextId - 1 });
  }

  /** A full snapshot (start, restart): what listens now is known, not news. */
  snapshot(s: Snapshot): void {
    const now = this.now();
    this.pending.clear();
    for (const x of s.sockets) if (x.listening) this.lastSeen.set(keyOf(x), now);
  }

  delta(d: Delta): void {
    const now = this.now();
    this.closeBursts(now);
    this.forgetOld(now);
    // what the last poll saw and this one still has held for two polls; the rest of the news waits for the next
    const removed = new Set(d.removed);
    const latest = new Map(d.changed.map((s) => [s.id, s]));
    const held: Socket[] = [];
    for (const [id, s] of this.pending) if (!removed.has(id)) held.push(latest.get(id) ?? s);
    this.pending.clear();
    const heldIds = new Set(held.map((s) => s.id));
    for (const s of [...d.added, ...d.changed]) if (!heldIds.has(s.id) && this.mayBeNews(s, now)) this.pending.set(s.id, s);

    const news = held.filter((s) => this.isNews(s, now) && !isMuted(this.settingsNow.mutes, { summary: summaryOf(s), localPort: s.localPort }));
    // listeners on all interfaces, by owner: the one that notifies speaks for the rest of its poll
    const wide = new Map<string, number>();
    for (const s of news) if (exposureOf(s) === 'all') wide.set(ownerOf(s), (wide.get(ownerOf(s)) ?? 0) + 1);
    const covered = new Set<string>();
    for (const s of news) {
      const owner = ownerOf(s);
      if (exposureOf(s) !== 'all') {
        this.raise(s, owner, now, false, describe(s));
      } else if (covered.has(owner)) {
        this.raise(s, owner, now, false, describe(s));
      } else if (this.bursts.has(owner)) {
        const burst = this.bursts.get(owner) as Burst;
        burst.held++;
        burst.example ??= s;
        this.raise(s, owner, now, false, describe(s));
      } else {
        const n = wide.get(owner) ?? 1;
        covered.add(owner);
        this.bursts.set(owner, { until: now + this.coalesceMs, held: 0, example: null });
        this.raise(s, owner, now, true, n > 1 ? `${n} new listeners on all interfaces, e.g. ${describe(s)}` : describe(s));
      }
    }
  }

  /** Unexpected, listening, and not seen within the quiet period (a sighting within it extends it). */
  private mayBeNews(s: Socket, now: number): boolean {
    if (!s.listening || isExpected(this.opts.rules(), s) !== false) return false;
    const key = keyOf(s);
    const last = this.lastSeen.get(key);
    if (last === undefined || now - last >= this.quietMs) return true;
    this.lastSeen.set(key, now);
    return false;
  }

  /** Still unexpected (a rule may have come meanwhile), and not announced within the quiet period. Records it as seen. */
  private isNews(s: Socket, now: number): boolean {
    if (isExpected(this.opts.rules(), s) !== false) return false;
    const key = keyOf(s);
    const last = this.lastSeen.get(key);
    this.lastSeen.set(key, now);
    return last === undefined || now - last >= this.quietMs;
  }

  /** Windows that have ended announce what they held in one notification, and stay open while the flood goes on. */
  private closeBursts(now: number): void {
    for (const [owner, burst] of this.bursts) {
      if (now < burst.until) continue;
      if (burst.held === 0 || burst.example === null) {
        this.bursts.delete(owner);
        continue;
      }
      const { held, example } = burst;
      this.bursts.set(owner, { until: now + this.coalesceMs, held: 0, example: null });
      this.raise(example, owner, now, true, held > 1 ? `${held} more new listeners on all interfaces, e.g. ${describe(example)}` : describe(example));
    }
  }

  /** An entry older than the quiet period means what no entry means; dropping them bounds the map under a flood. */
  private forgetOld(now: number): void {
    for (const [key, at] of this.lastSeen) if (now - at >= this.quietMs) this.lastSeen.delete(key);
  }

  private changeSettings(patch: Partial<AlertSettings>): AlertSettings {
    this.settingsNow = { ...this.settings(), ...patch };
    this.opts.onSettings?.(this.settingsNow);
    return this.settingsNow;
  }

  private raise(s: Socket, owner: string, now: number, notify: boolean, message: string, patch: Partial<Alert> = {}): void {
    const exposure = exposureOf(s) ?? 'all';
    const snoozed = this.settingsNow.snoozedUntil !== null && now < this.settingsNow.snoozedUntil;
    const alert: Alert = {
      id: this.nextId++,
      at: now,
      severity: severityOf(exposure),
      socketId: s.id,
      protocol: s.protocol,
      localAddress: s.localAddress,
      localPort: s.localPort,
      exposure,
      process: s.process?.name ?? null,
      summary: summaryOf(s),
      commandLine: s.process ? commandLine(s.process) : null,
      pid: s.pid,
      risk: riskOf(s.localPort, s.protocol),
      notify: notify && !snoozed,
      message,
      ...patch,
    };
    this.list.push({ alert, owner });
    this.perOwner.set(owner, (this.perOwner.get(owner) ?? 0) + 1);
    if ((this.perOwner.get(owner) as number) > this.perUid) this.dropLeastOf(owner);
    if (this.list.length > this.keep) this.dropLeastOf(this.largestOwner());
    this.opts.onAlert(alert);
  }

  /** The owner with the most alerts listed; of equals, the one whose oldest alert is older. */
  private largestOwner(): string {
    let most = 0;
    for (const n of this.perOwner.values()) most = Math.max(most, n);
    return (this.list.find((e) => this.perOwner.get(e.owner) === most) as Entry).owner;
  }

  /** Drops the owner's oldest alert of its least severe: a flood of loopback ones never pushes out a high one. */
  private dropLeastOf(owner: string): void {
    let i = -1;
    let least: AlertSeverity | null = null;
    this.list.forEach((e, j) => {
      if (e.owner !== owner) return;
      if (least === null || SEVERITY_ORDER[e.alert.severity] > SEVERITY_ORDER[least]) {
        least = e.alert.severity;
        i = j;
      }
    });
    if (i < 0) return;
    this.list.splice(i, 1);
    const n = (this.perOwner.get(owner) as number) - 1;
    if (n > 0) this.perOwner.set(owner, n);
    else this.perOwner.delete(owner);
  }
}

/** Whose budget and share of the list an alert takes: the socket's owning uid; unknown uids share one bucket. */
function ownerOf(s: Socket): string {
  return s.uid === null ? 'uid ?' : `uid ${s.uid}`;
}

function summaryOf(s: Socket): string | null {
  return s.process ? processSummary(s.process) : null;
}

function describe(s: Socket): string {
  const exposure = exposureOf(s) ?? 'all';
  return `${summaryOf(s) ?? 'an unknown process'}${s.pid === null ? '' : ` (pid ${s.pid})`} listens on ${s.protocol} ${formatEndpoint(s.localAddress, s.localPort)}, reachable ${exposure === 'all' ? 'on every interface' : exposure === 'interface' ? 'on one interface' : 'from this machine only'}`;
}

function keyOf(s: Socket): string {
  return `${s.process?.name ?? `uid ${s.uid}`}|${s.protocol}|${s.localPort}|${exposureOf(s)}`;
}
