import type { ReactElement } from 'react';
import { describeAction, type ActionEntry } from '../../../shared/api';

/** Every kill and close: when, what, which signal, and what came of it. */
export function ActionLog({ actions, onClose }: { actions: readonly ActionEntry[]; onClose: () => void }): ReactElement {
  return (
    <div className="alert-list" data-testid="action-log" role="dialog" aria-label="Action log">
      <header>
        <b>Kills and closes</b>
        <button onClick={onClose} aria-label="Close log">
          ✕
        </button>
      </header>
      {actions.length === 0 && <p className="muted">Nothing yet.</p>}
      <ul>
        {[...actions].reverse().map((a, i) => (
          <li key={`${a.at}-${i}`} data-testid="action-entry" data-result={a.result}>
            <span className="muted">{new Date(a.at).toLocaleTimeString()}</span> <span data-testid="action-text">{describeAction(a)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
