import type { Alert, AlertMute, AlertSettings, AlertSeverity } from './api';
import type { Exposure } from './exposure';

/*
 * Which alerts matter and which are shown: pure, shared by the engine (what to notify, what a mute holds) and
 * the UI (the visible list and the unread count).
 */

/** On all interfaces high, on one interface medium, on loopback low. */
export function severityOf(exposure: Exposure): AlertSeverity {
  return exposure === 'all' ? 'high' : exposure === 'interface' ? 'medium' : 'low';
}

export const SEVERITY_ORDER: Record<AlertSeverity, number> = { high: 0, medium: 1, low: 2 };

/** How much history first-contact alerts learn from before they speak: a day. */
export const DEFAULT_LEARNING_MS = 24 * 3_600_000;

/** The learning periods the UI offers: an hour, a day, three days, a week. */
export const LEARNING_CHOICES: readonly number[] = [3_600_000, DEFAULT_LEARNING_MS, 3 * DEFAULT_LEARNING_MS, 7 * DEFAULT_LEARNING_MS];

/** A learning period as the menu says it: `1 h`, `5 h`, `1 day`, `3 days`, `1 week`, `2 weeks`. */
export function learningText(ms: number): string {
  const h = Math.round(ms / 3_600_000);
  if (h < 24 || h % 24 !== 0) return `${h} h`;
  const d = h / 24;
  if (d % 7 === 0) return d === 7 ? '1 week' : `${d / 7} weeks`;
  return d === 1 ? '1 day' : `${d} days`;
}

export const DEFAULT_ALERT_SETTINGS: AlertSettings = {
  includeLoopback: false,
  mutes: [],
  snoozedUntil: null,
  clearedThrough: 0,
  firstContact: false,
  learningMs: DEFAULT_LEARNING_MS,
};

/**
 * A first contact's severity: medium (listed, not notified). It is news, but a machine meets new hosts all day
 * (a CDN's next address, a new package mirror), so it is worth a line in the list, not a notification; a
 * listener open to every interface (high) is the one that interrupts.
 */
export const FIRST_CONTACT_SEVERITY: AlertSeverity = 'medium';

/** The port a port mute of this alert holds: a listener's own, a first contact's remote one. */
export function alertPort(a: Pick<Alert, 'kind' | 'localPort' | 'remotePort'>): number {
  return a.kind === 'first-contact' && a.remotePort !== undefined ? a.remotePort : a.localPort;
}

/** The alerts a person sees: low ones only when they asked for loopback listeners, none of those cleared. */
export function visibleAlerts(alerts: readonly Alert[], settings: Pick<AlertSettings, 'includeLoopback' | 'clearedThrough'>): Alert[] {
  return alerts.filter((a) => a.id > settings.clearedThrough && (settings.includeLoopback || a.severity !== 'low'));
}

export function sameMute(a: AlertMute, b: AlertMute): boolean {
  return 'port' in a ? 'port' in b && a.port === b.port : 'process' in b && a.process === b.process;
}

/** Does a mute hold this listener: its process summary, or its port? */
export function isMuted(mutes: readonly AlertMute[], x: { summary: string | null; localPort: number }): boolean {
  return mutes.some((m) => ('port' in m ? m.port === x.localPort : x.summary !== null && m.process === x.summary));
}

/** "port 8080", "python3 sneaky.py". */
export function describeMute(m: AlertMute): string {
  return 'port' in m ? `port ${m.port}` : m.process;
}

/** Whether an alert gets a desktop or browser notification: high ones the engine marked (not coalesced, not snoozed). */
export function shouldNotify(a: Pick<Alert, 'severity' | 'notify'>): boolean {
  return a.notify && a.severity === 'high';
}
