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
  /** Notifications a minute at most; later alerts still go in the list, quietly. */
  perMinute?: number;
  /** How many alerts the list keeps. */
  keep?: number;
}

/**
 * Speaks up when an unexpected listener appears: an alert in the list, and a notification unless the rate
 * limit says quiet. Listeners already there at start, and a listener flapping (closing and reopening), do
 * not repeat.
 */
export class Alerts {
  private readonly list: Alert[] = [];
  private readonly lastSeen = new Map<string, number>();
  private readonly notified: number[] = [];
  private nextId = 1;
  private readonly now: () => number;
  private readonly quietMs: number;
  private readonly perMinute: number;
  private readonly keep: number;

  constructor(private readonly opts: AlertOptions) {
    this.now = opts.now ?? Date.now;
    this.quietMs = opts.quietMs ?? 10 * 60_000;
    this.perMinute = opts.perMinute ?? 5;
    this.keep = opts.keep ?? 200;
  }

  all(): Alert[] {
    return [...this.list];
  }

  /** A full snapshot (start, restart): what listens now is known, not news. */
  snapshot(s: Snapshot): void {
    const now = this.now();
    for (const x of s.sockets) if (x.listening) this.lastSeen.set(keyOf(x), now);
  }

  delta(d: Delta): void {
    for (const s of d.added) this.consider(s);
    for (const s of d.changed) this.consider(s);
  }

  private consider(s: Socket): void {
    if (!s.listening || isExpected(this.opts.rules(), s) !== false) return;
    const now = this.now();
    const key = keyOf(s);
    const last = this.lastSeen.get(key);
    this.lastSeen.set(key, now);
    if (last !== undefined && now - last < this.quietMs) return;
    while (this.notified.length && now - (this.notified[0] as number) >= 60_000) this.notified.shift();
    const notify = this.notified.length < this.perMinute;
    if (notify) this.notified.push(now);
    const exposure = exposureOf(s) ?? 'all';
    const alert: Alert = {
      id: this.nextId++,
      at: now,
      protocol: s.protocol,
      localAddress: s.localAddress,
      localPort: s.localPort,
      exposure,
      process: s.process?.name ?? null,
      pid: s.pid,
      risk: riskOf(s.localPort, s.protocol),
      notify,
      message: `${s.process?.name ?? 'an unknown process'}${s.pid === null ? '' : ` (pid ${s.pid})`} listens on ${s.protocol} ${formatEndpoint(s.localAddress, s.localPort)}, reachable ${exposure === 'all' ? 'on every interface' : exposure === 'interface' ? 'on one interface' : 'from this machine only'}`,
    };
    this.list.push(alert);
    if (this.list.length > this.keep) this.list.shift();
    this.opts.onAlert(alert);
  }
}

function keyOf(s: Socket): string {
  return `${s.process?.name ?? `uid ${s.uid}`}|${s.protocol}|${s.localPort}|${exposureOf(s)}`;
}
