import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactElement } from 'react';
import { describeKill, type ApiResult, type KillResult } from '../../../shared/api';
import { planListeners, summariseConnections, type KillPlan } from '../../../shared/killPlan';
import type { ProcessInfo } from '../../../shared/model';
import { commandLine, processSummary } from '../../../shared/processSummary';

/** A kill's result, or the transport's failure to get one. */
export type KillAnswer = KillResult | { result: 'error'; reason: string };

/** The same words as the CLI and the action log (describeKill), after the process's name. */
function describe(name: string, o: KillAnswer): string {
  if (o.result === 'error') return `Failed: ${o.reason}.`;
  if (o.result === 'refused') return `Refused: ${o.reason}.`;
  return `${name} ${describeKill(o)}.`;
}

/** What Tab may move to inside the dialog. */
const FOCUSABLE = 'button:not([disabled]), [href], input, select, textarea, [tabindex]:not([tabindex="-1"])';

/**
 * Says exactly what will die before anything does: the process as people know it (`node server.js`), its
 * command line, every socket it listens on and its connections (summarised when many). SIGTERM first, and
 * SIGKILL only after it failed and a second confirmation. Shows what happened, in words.
 * Keyboard: it takes focus when it opens (on Kill), Enter confirms, Esc cancels, Tab stays inside, and focus
 * returns to where it was when it closes.
 */
export function KillDialog(props: {
  /** A plan for a process whose details are known. */
  plan: KillPlan & { process: ProcessInfo };
  kill: (pid: number, startTime: number | null, force: boolean) => Promise<ApiResult<KillResult>>;
  onRetarget: (p: ProcessInfo) => void;
  onClose: () => void;
}): ReactElement {
  const { process: p, sharedWith: owner } = props.plan;
  const name = processSummary(p);
  const listeners = planListeners(props.plan);
  const connections = summariseConnections(props.plan);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<KillAnswer | null>(null);
  const [confirmForce, setConfirmForce] = useState(false);
  const dialog = useRef<HTMLDivElement>(null);
  /** The button Enter means now: Kill, then Yes-SIGKILL, Force or Close. */
  const primary = useRef<HTMLButtonElement>(null);
  const go = async (force: boolean): Promise<void> => {
    setBusy(true);
    const r = await props.kill(p.pid, p.startTime, force);
    setOutcome(r.ok ? r.value : { result: 'error', reason: r.message });
    setBusy(false);
    setConfirmForce(false);
  };
  const done = outcome !== null && outcome.result !== 'still-running';

  // focus in on open; back to where it was on close (the Kill button of a row or of Details)
  useLayoutEffect(() => {
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    (primary.current ?? dialog.current)?.focus();
    return () => {
      if (before?.isConnected) before.focus();
    };
  }, []);
  // the button that had focus goes away with each step: focus the next step's
  // (while waiting, the dialog itself: a disabled button would drop focus to the page behind)
  useEffect(() => {
    (busy ? dialog.current : (primary.current ?? dialog.current))?.focus();
  }, [busy, outcome, confirmForce]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    // the app's keys (arrows move the selection, Enter opens Details, Esc) are not for the page behind
    e.stopPropagation();
    if (e.key === 'Escape') {
      e.preventDefault();
      props.onClose();
    } else if (e.key === 'Enter' && !(e.target instanceof HTMLButtonElement)) {
      // on a button Enter presses that button; elsewhere in the dialog it presses the step's main one
      e.preventDefault();
      primary.current?.click();
    } else if (e.key === 'Tab' && dialog.current) {
      const items = [...dialog.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
      const first = items[0];
      const last = items[items.length - 1];
      if (!first || !last) return;
      if (e.shiftKey && (document.activeElement === first || document.activeElement === dialog.current)) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    }
  };

  return (
    <div className="modal-backdrop">
      <div
        className="modal kill-dialog"
        role="dialog"
        aria-modal="true"
        aria-label="Kill process"
        data-testid="confirm-kill"
        ref={dialog}
        tabIndex={-1}
        onKeyDown={onKeyDown}
      >
        <h2 title={commandLine(p)}>
          Kill {name} <span className="muted">(pid {p.pid})</span>?
        </h2>
        <dl>
          <dt>User</dt>
          <dd>{p.user ?? p.uid ?? '—'}</dd>
          <dt>Command line</dt>
          <dd className="mono wrap" data-testid="kill-cmdline">
            {p.cmdline.join(' ') || '—'}
          </dd>
          <dt>Listening on</dt>
          <dd data-testid="kill-listeners">
            {listeners.length === 0 ? (
              'nothing'
            ) : (
              <ul className="kill-list mono">
                {listeners.map((l) => (
                  <li key={l} title={l}>
                    {l}
                  </li>
                ))}
              </ul>
            )}
          </dd>
          <dt>Connections</dt>
          <dd data-testid="kill-connections">
            {connections.total === 0 ? (
              'none'
            ) : (
              <>
                {connections.total}
                {connections.total > 1 && <span className="muted"> ({connections.byState})</span>}
                <ul className="kill-list mono">
                  {connections.shown.map((c) => (
                    <li key={c} title={c}>
                      {c}
                    </li>
                  ))}
                  {connections.more > 0 && <li className="muted">… and {connections.more} more</li>}
                </ul>
              </>
            )}
          </dd>
        </dl>
        {owner && (
          <p className="warn-box" data-testid="shared-owner">
            Its sockets are shared with {processSummary(owner)} (pid {owner.pid}), which started it: killing pid {p.pid} does not close them.{' '}
            <button data-testid="kill-owner-instead" onClick={() => props.onRetarget(owner)}>
              Kill {processSummary(owner)} (pid {owner.pid}) instead
            </button>
          </p>
        )}
        {outcome && (
          <p
            className={outcome.result === 'exited' || outcome.result === 'already-gone' ? 'ok-box' : 'warn-box'}
            data-testid="kill-result"
            data-result={outcome.result}
            role="status"
          >
            {describe(name, outcome)}
          </p>
        )}
        <footer>
          {!outcome && (
            <button className="danger" data-testid="confirm-kill-yes" disabled={busy} ref={primary} onClick={() => void go(false)}>
              {busy ? 'Waiting for it to exit…' : 'Kill (SIGTERM)'}
            </button>
          )}
          {outcome?.result === 'still-running' && !confirmForce && (
            <button className="danger" data-testid="force" disabled={busy} ref={primary} onClick={() => setConfirmForce(true)}>
              Force (SIGKILL)…
            </button>
          )}
          {confirmForce && (
            <span data-testid="confirm-force">
              SIGKILL cannot be caught: {name} gets no chance to clean up.{' '}
              <button className="danger" data-testid="confirm-force-yes" disabled={busy} ref={primary} onClick={() => void go(true)}>
                Yes, SIGKILL
              </button>
            </span>
          )}
          <button data-testid="kill-close" ref={done ? primary : undefined} onClick={props.onClose}>
            {done ? 'Close' : 'Cancel'}
          </button>
        </footer>
      </div>
    </div>
  );
}
