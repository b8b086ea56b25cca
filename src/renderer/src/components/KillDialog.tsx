import { useState, type ReactElement } from 'react';
import { describeKill, type ApiResult, type KillResult } from '../../../shared/api';
import type { KillPlan } from '../../../shared/killPlan';
import type { ProcessInfo } from '../../../shared/model';

/** A kill's result, or the transport's failure to get one. */
export type KillAnswer = KillResult | { result: 'error'; reason: string };

/** The same words as the CLI and the action log (describeKill), after the process's name. */
function describe(name: string, o: KillAnswer): string {
  if (o.result === 'error') return `Failed: ${o.reason}.`;
  if (o.result === 'refused') return `Refused: ${o.reason}.`;
  return `${name} ${describeKill(o)}.`;
}

/**
 * Says exactly what will die before anything does; SIGTERM first, and SIGKILL only after it failed and a
 * second confirmation. Shows what happened, in words.
 */
export function KillDialog(props: {
  /** A plan for a process whose details are known. */
  plan: KillPlan & { process: ProcessInfo };
  kill: (pid: number, startTime: number | null, force: boolean) => Promise<ApiResult<KillResult>>;
  onRetarget: (p: ProcessInfo) => void;
  onClose: () => void;
}): ReactElement {
  const { process: p, listening, connections, sharedWith: owner } = props.plan;
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<KillAnswer | null>(null);
  const [confirmForce, setConfirmForce] = useState(false);
  const go = async (force: boolean): Promise<void> => {
    setBusy(true);
    const r = await props.kill(p.pid, p.startTime, force);
    setOutcome(r.ok ? r.value : { result: 'error', reason: r.message });
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
          <p
            className={outcome.result === 'exited' || outcome.result === 'already-gone' ? 'ok-box' : 'warn-box'}
            data-testid="kill-result"
            data-result={outcome.result}
          >
            {describe(p.name, outcome)}
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
