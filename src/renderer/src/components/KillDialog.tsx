import { useState, type ReactElement } from 'react';
import type { KillResult } from '../../../shared/api';
import type { ProcessInfo, Socket } from '../../../shared/model';

export interface KillTarget {
  process: ProcessInfo;
  /** Every socket this process holds now. */
  sockets: Socket[];
  /** When its sockets are shared with an ancestor that holds them too (nginx's master): that owner. */
  owner: ProcessInfo | null;
}

type Outcome = KillResult | { result: 'error'; reason: string };

function describe(o: Outcome): string {
  switch (o.result) {
    case 'exited':
      return `Exited ${o.afterMs} ms after ${o.signal}.`;
    case 'still-running':
      return `Still running ${(o.waitedMs / 1000).toFixed(1)} s after ${o.signal}.`;
    case 'already-gone':
      return 'It had already exited.';
    case 'refused':
      return `Refused: ${o.reason}.`;
    case 'error':
      return `Failed: ${o.reason}.`;
  }
}

/**
 * Says exactly what will die before anything does; SIGTERM first, and SIGKILL only after it failed and a
 * second confirmation. Shows what happened, in words.
 */
export function KillDialog(props: {
  target: KillTarget;
  kill: (pid: number, startTime: number | null, force: boolean) => Promise<Outcome>;
  onRetarget: (p: ProcessInfo) => void;
  onClose: () => void;
}): ReactElement {
  const { process: p, sockets, owner } = props.target;
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [confirmForce, setConfirmForce] = useState(false);
  const listening = [...new Set(sockets.filter((s) => s.listening).map((s) => `${s.protocol}/${s.localPort}`))];
  const connections = sockets.filter((s) => !s.listening).length;
  const go = async (force: boolean): Promise<void> => {
    setBusy(true);
    setOutcome(await props.kill(p.pid, p.startTime, force));
    setBusy(false);
    setConfirmForce(false);
  };
  const done = outcome !== null && outcome.result !== 'still-running';
  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-label="Kill process" data-testid="confirm-kill">
        <h2>
          Kill {p.name} <span className="muted">(pid {p.pid})</span>?
        </h2>
        <dl>
          <dt>User</dt>
          <dd>{p.user ?? p.uid ?? '—'}</dd>
          <dt>Command line</dt>
          <dd className="mono wrap">{p.cmdline.join(' ') || '—'}</dd>
          <dt>Listening on</dt>
          <dd className="mono">{listening.length ? listening.join(', ') : 'nothing'}</dd>
          <dt>Connections</dt>
          <dd>{connections}</dd>
        </dl>
        {owner && (
          <p className="warn-box" data-testid="shared-owner">
            Its sockets are shared with {owner.name} (pid {owner.pid}), which started it: killing pid {p.pid} does not close them.{' '}
            <button data-testid="kill-owner-instead" onClick={() => props.onRetarget(owner)}>
              Kill {owner.name} (pid {owner.pid}) instead
            </button>
          </p>
        )}
        {outcome && (
          <p className={outcome.result === 'exited' || outcome.result === 'already-gone' ? 'ok-box' : 'warn-box'} data-testid="kill-result" data-result={outcome.result}>
            {describe(outcome)}
          </p>
        )}
        <footer>
          {!outcome && (
            <button className="danger" data-testid="confirm-kill-yes" disabled={busy} onClick={() => void go(false)}>
              {busy ? 'Waiting for it to exit…' : 'Kill (SIGTERM)'}
            </button>
          )}
          {outcome?.result === 'still-running' && !confirmForce && (
            <button className="danger" data-testid="force" disabled={busy} onClick={() => setConfirmForce(true)}>
              Force (SIGKILL)…
            </button>
          )}
          {confirmForce && (
            <span data-testid="confirm-force">
              SIGKILL cannot be caught: {p.name} gets no chance to clean up.{' '}
              <button className="danger" data-testid="confirm-force-yes" disabled={busy} onClick={() => void go(true)}>
                Yes, SIGKILL
              </button>
            </span>
          )}
          <button data-testid="kill-close" onClick={props.onClose}>
            {done ? 'Close' : 'Cancel'}
          </button>
        </footer>
      </div>
    </div>
  );
}
