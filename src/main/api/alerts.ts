import { RateWindow } from '../../shared/rateWindow';
import type { Alert } from '../../shared/api';
import { isExpected, type BaselineRule } from '../../shared/baseline';
import { exposureOf, riskOf } from '../../shared/exposure';
import { formatEndpoint, type Delta, type Snapshot, type Socket } from '../../shared/model';

export interface AlertOptions {
  rules: () => readonly BaselineRule[];
  onAlert: (a: Alert) => void;
  now?: () => number;
  /** The same listener (process, protocol, port, exposure) is announced again only after this long. */
  quietMs?: number;
  /**
   * Notifications a minute at most for one owning uid; later alerts of that uid still go in the list, quietly.
   * Listeners on all interfaces are not counted: they always notify (coalesced, see `coalesceMs`).
   */
  perMinute?: number;
  /**
   * After a uid's listener on all interfaces notifies, that uid's further ones within this long are listed
   * quietly and announced together in one notification when it ends (at the first poll after).
   */
  coalesceMs?: number;
  /** How many alerts the list keeps. */
  keep?: number;
  /** How many alerts of one owning uid the list keeps. */
  perUid?: number;
}

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
 * Speaks up when an unexpected listener appears: an alert in the list, and a notification unless the rate
 * limit says quiet. Listeners already there at start, and a listener flapping (closing and reopening), do
 * not repeat.
 *
 * Everything that limits is per owning uid (a socket of unknown uid has its own bucket), so that one user's
 * flood of decoys can neither spend another's notifications nor push another's alerts out of the list.
 */
export class Alerts {
  private readonly list: Entry[] = [];
  private readonly perOwner = new Map<string, number>();
  private readonly lastSeen = new Map<string, number>();
  private readonly notified = new Map<string, RateWindow>();
  private readonly bursts = new Map<string, Burst>();
  private nextId = 1;
  private readonly now: () => number;
  private readonly quietMs: number;
  private readonly perMinute: number;
  private readonly coalesceMs: number;
  private readonly keep: number;
  private readonly perUid: number;

  constructor(private readonly opts: AlertOptions) {
    this.now = opts.now ?? Date.now;
    this.quietMs = opts.quietMs ?? 10 * 60_000;
    this.perMinute = opts.perMinute ?? 5;
    this.coalesceMs = opts.coalesceMs ?? 30_000;
    this.keep = opts.keep ?? 200;
    this.perUid = opts.perUid ?? 50;
  }

  all(): Alert[] {
    return this.list.map((e) => e.alert);
  }

  /** A full snapshot (start, restart): what listens now is known, not news. */
  snapshot(s: Snapshot): void {
    const now = this.now();
    for (const x of s.sockets) if (x.listening) this.lastSeen.set(keyOf(x), now);
  }

  delta(d: Delta): void {
    const now = this.now();
    this.closeBursts(now);
    this.forgetOld(now);
    const news = [...d.added, ...d.changed].filter((s) => this.isNews(s, now));
    // listeners on all interfaces, by owner: the one that notifies speaks for the rest of its poll
    const wide = new Map<string, number>();
    for (const s of news) if (exposureOf(s) === 'all') wide.set(ownerOf(s), (wide.get(ownerOf(s)) ?? 0) + 1);
    const covered = new Set<string>();
    for (const s of news) {
      const owner = ownerOf(s);
      if (exposureOf(s) !== 'all') {
        this.raise(s, owner, now, this.takeBudget(owner, now), describe(s));
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

  /** Unexpected, listening, and not seen within the quiet period. Records it as seen either way. */
  private isNews(s: Socket, now: number): boolean {
    if (!s.listening || isExpected(this.opts.rules(), s) !== false) return false;
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

  private takeBudget(owner: string, now: number): boolean {
    const budget = this.notified.get(owner) ?? new RateWindow(this.perMinute, 60_000);
    const ok = budget.take(now);
    // an owner whose window emptied holds no entry: the map stays bounded by who notified this minute
    if (budget.count(now) > 0) this.notified.set(owner, budget);
    else this.notified.delete(owner);
    return ok;
  }

  private raise(s: Socket, owner: string, now: number, notify: boolean, message: string): void {
    const alert: Alert = {
      id: this.nextId++,
      at: now,
      protocol: s.protocol,
      localAddress: s.localAddress,
      localPort: s.localPort,
      exposure: exposureOf(s) ?? 'all',
      process: s.process?.name ?? null,
      pid: s.pid,
      risk: riskOf(s.localPort, s.protocol),
      notify,
      message,
    };
    this.list.push({ alert, owner });
    this.perOwner.set(owner, (this.perOwner.get(owner) ?? 0) + 1);
    if ((this.perOwner.get(owner) as number) > this.perUid) this.dropOldestOf(owner);
    if (this.list.length > this.keep) this.dropOldestOf(this.largestOwner());
    this.opts.onAlert(alert);
  }

  /** The owner with the most alerts listed; of equals, the one whose oldest alert is older. */
  private largestOwner(): string {
    let most = 0;
    for (const n of this.perOwner.values()) most = Math.max(most, n);
    return (this.list.find((e) => this.perOwner.get(e.owner) === most) as Entry).owner;
  }

  private dropOldestOf(owner: string): void {
    const i = this.list.findIndex((e) => e.owner === owner);
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

function describe(s: Socket): string {
  const exposure = exposureOf(s) ?? 'all';
  return `${s.process?.name ?? 'an unknown process'}${s.pid === null ? '' : ` (pid ${s.pid})`} listens on ${s.protocol} ${formatEndpoint(s.localAddress, s.localPort)}, reachable ${exposure === 'all' ? 'on every interface' : exposure === 'interface' ? 'on one interface' : 'from this machine only'}`;
}

function keyOf(s: Socket): string {
  return `${s.process?.name ?? `uid ${s.uid}`}|${s.protocol}|${s.localPort}|${exposureOf(s)}`;
}
