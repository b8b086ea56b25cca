import type { ReactElement } from 'react';
import type { Alert } from '../../../shared/api';

/** Unexpected listeners as they appeared, newest first. */
export function AlertList({ alerts, onClose }: { alerts: readonly Alert[]; onClose: () => void }): ReactElement {
  return (
    <div className="alert-list" data-testid="alert-list" role="dialog" aria-label="Alerts">
      <header>
        <b>Unexpected listeners</b>
        <button onClick={onClose} aria-label="Close alerts">
          ✕
        </button>
      </header>
      {alerts.length === 0 && <p className="muted">None since Portwatch started.</p>}
      <ul>
        {[...alerts].reverse().map((a) => (
          <li key={a.id} data-testid="alert">
            <span className="muted">{new Date(a.at).toLocaleTimeString()}</span> {a.message}
            {a.risk && <div className="risk">{a.risk}</div>}
          </li>
        ))}
      </ul>
    </div>
  );
}
