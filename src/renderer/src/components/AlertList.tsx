import { useState, type ReactElement } from 'react';
import { alertPort, describeMute } from '../../../shared/alerts';
import type { Alert, AlertMute, AlertSettings, AlertSeverity } from '../../../shared/api';

const SEVERITY_TEXT: Record<AlertSeverity, string> = { high: 'High', medium: 'Medium', low: 'Low' };
const SEVERITY_TITLE: Record<AlertSeverity, string> = {
  high: 'Listens on every interface: anyone on your networks can reach it (notified)',
  medium: 'Listens on one network interface (not notified)',
  low: 'Listens on loopback: this machine only (shown only when loopback listeners are included)',
};

/** What the alert list may do; null where this client may only look (a read-only web client). */
export interface AlertControls {
  onMute: (m: AlertMute) => void;
  onUnmute: (m: AlertMute) => void;
  /** `ms` 0 ends the snooze. */
  onSnooze: (ms: number) => void;
  onClear: () => void;
  onIncludeLoopback: (on: boolean) => void;
}

const HOUR = 3_600_000;

/**
 * Unexpected listeners as they appeared, newest first, each with its severity, "show me" and a mute for its
 * process or port; above them what is muted (to unmute), snooze and clear.
 */
export function AlertList({
  alerts,
  settings,
  now,
  controls,
  onShow,
  onClose,
}: {
  /** The visible alerts (visibleAlerts: low ones only when loopback is included). */
  alerts: readonly Alert[];
  settings: AlertSettings;
  now: number;
  controls: AlertControls | null;
  /** Selects the alert's row in the table; false when its socket is gone. */
  onShow: (a: Alert) => boolean;
  onClose: () => void;
}): ReactElement {
  const [gone, setGone] = useState<ReadonlySet<number>>(new Set());
  const snoozed = settings.snoozedUntil !== null && settings.snoozedUntil > now;
  return (
    <div className="alert-list" data-testid="alert-list" role="dialog" aria-label="Alerts">
      <header>
        <b>Unexpected listeners</b>
        <span className="alert-tools">
          {controls && (
            <>
              <label title="Listeners on loopback are reachable from this machine only: recorded, shown only when asked">
                <input
                  type="checkbox"
                  data-testid="alerts-include-loopback"
                  checked={settings.includeLoopback}
                  onChange={(e) => controls.onIncludeLoopback(e.target.checked)}
                />{' '}
                Include loopback listeners
              </label>
              <button data-testid="alerts-snooze" onClick={() => controls.onSnooze(snoozed ? 0 : HOUR)} title="No notifications for an hour">
                {snoozed ? `Snoozed until ${new Date(settings.snoozedUntil ?? 0).toLocaleTimeString()}: end` : 'Snooze 1 h'}
              </button>
              <button data-testid="alerts-clear" onClick={controls.onClear} disabled={alerts.length === 0}>
                Clear
              </button>
            </>
          )}
          <button onClick={onClose} aria-label="Close alerts">
            ✕
          </button>
        </span>
      </header>
      {settings.mutes.length > 0 && (
        <p className="alert-mutes" data-testid="alert-mutes">
          Muted (no alerts until unmuted):{' '}
          {settings.mutes.map((m) => (
            <span key={describeMute(m)} className="mute-chip" data-testid="alert-mute">
              {describeMute(m)}
              {controls && (
                <button data-testid="alert-unmute" aria-label={`Unmute ${describeMute(m)}`} title="Unmute" onClick={() => controls.onUnmute(m)}>
                  ✕
                </button>
              )}
            </span>
          ))}
        </p>
      )}
      {alerts.length === 0 && <p className="muted">{settings.clearedThrough > 0 ? 'None since the list was cleared.' : 'None since Portwatch started.'}</p>}
      <ul>
        {[...alerts].reverse().map((a) => (
          <li key={a.id} data-testid="alert" data-severity={a.severity} data-alert-id={a.id} data-socket-id={a.socketId}>
            <span className={`severity severity-${a.severity}`} title={SEVERITY_TITLE[a.severity]}>
              {SEVERITY_TEXT[a.severity]}
            </span>{' '}
            <span className="muted">{new Date(a.at).toLocaleTimeString()}</span> <span title={a.commandLine ?? undefined}>{a.message}</span>
            {a.risk && <div className="risk">{a.risk}</div>}
            <div className="alert-actions">
              <button
                data-testid="alert-show"
                onClick={() => {
                  if (!onShow(a)) setGone(new Set(gone).add(a.id));
                }}
              >
                Show me
              </button>
              {controls && a.summary !== null && (
                <button data-testid="alert-mute-process" title={a.commandLine ?? undefined} onClick={() => controls.onMute({ process: a.summary ?? '' })}>
                  Mute {a.summary}
                </button>
              )}
              {controls && (
                <button data-testid="alert-mute-port" onClick={() => controls.onMute({ port: alertPort(a) })}>
                  Mute port {alertPort(a)}
                </button>
              )}
              {gone.has(a.id) && (
                <span className="muted" data-testid="alert-gone" role="status">
                  {a.kind === 'first-contact' ? 'That connection is gone' : 'That listener is gone'}: nothing to show.
                </span>
              )}
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}
