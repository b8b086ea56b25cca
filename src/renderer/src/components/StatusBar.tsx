import { useMemo, type ReactElement, type ReactNode } from 'react';
import { describeRecording, type RecordingStatus } from '../../../shared/recording';
import type { StoreView } from '../store/socketStore';

function time(ms: number | null): string {
  return ms === null ? '—' : new Date(ms).toLocaleTimeString();
}

/** Whether the history is being recorded: a dot and a word, with the path, why not and what to do in its tooltip. */
function RecordingIndicator({ status }: { status: RecordingStatus }): ReactElement | null {
  if (status.state === 'off' && status.path === '') return null;
  const { text, title } = describeRecording(status, time);
  const tone = status.state === 'recording' ? 'on' : status.state === 'paused' ? 'paused' : 'off';
  return (
    <span
      className={`recording recording-${tone}`}
      data-testid="history-status"
      data-state={status.state}
      data-reason={status.state === 'paused' ? status.reason : undefined}
      title={title}
    >
      <span className="recording-dot" aria-hidden="true" />
      {text}
    </span>
  );
}

/** Source, last poll, counts, and any trouble: a failing source (with since when the data is stale) or a lost connection. */
export function StatusBar({ view, processes, udp }: { view: StoreView; processes: number | null; udp?: ReactNode }): ReactElement {
  // once per change of the rows: the bar renders for every alert and status too, and there are ten thousand
  const { listening, total } = useMemo(() => {
    let listening = 0;
    let total = 0;
    for (const r of view.rows) {
      if (r.change === 'closed') continue;
      total++;
      if (r.socket.listening) listening++;
    }
    return { listening, total };
  }, [view.rows]);
  const st = view.status;
  let trouble: ReactElement | null = null;
  if (!view.connected) {
    trouble = (
      <span className="status-error" data-testid="status-trouble">
        Disconnected from Portwatch: reconnecting… (showing data from {time(view.takenAt)})
      </span>
    );
  } else if (st?.state === 'error') {
    trouble = (
      <span className="status-error" data-testid="status-trouble" title={st.message}>
        {st.message} — stale since {time(st.staleSince)} ({st.failures} failed poll{st.failures === 1 ? '' : 's'})
      </span>
    );
  } else if (view.pollingPaused) {
    trouble = <span className="status-paused">Polling paused</span>;
  } else if (view.frozen) {
    trouble = (
      <span className="status-paused" data-testid="frozen">
        View frozen: {view.waiting} change{view.waiting === 1 ? '' : 's'} waiting
      </span>
    );
  }
  return (
    <footer className="statusbar" data-testid="status-bar" data-seq={view.seq} data-state={!view.connected ? 'disconnected' : (st?.state ?? 'starting')}>
      <span>
        Source <b>{view.source ?? '—'}</b>
      </span>
      <span>
        Last poll <b data-testid="last-poll">{time(view.takenAt)}</b>
      </span>
      <span>
        <b data-testid="count-sockets">{total}</b> sockets
      </span>
      <span>
        <b data-testid="count-listening">{listening}</b> listening
      </span>
      {processes !== null && (
        <span>
          <b>{processes}</b> processes
        </span>
      )}
      {st?.state === 'ok' && st.namespaces && st.namespaces.others > 0 && (
        <span
          data-testid="namespaces"
          title={
            st.namespaces.listed
              ? 'Sockets of containers and ip netns namespaces are listed, each marked with its namespace'
              : 'Only root can enter other network namespaces and list their sockets'
          }
        >
          {st.namespaces.others} other network namespace{st.namespaces.others === 1 ? '' : 's'}
          {st.namespaces.listed ? ' included' : ': run as root to see into them'}
        </span>
      )}
      {udp}
      {!view.control && (
        <span
          className="status-paused"
          data-testid="read-only"
          title="This server (serve --read-only, or a client on another machine without --remote-control) answers no kill, close, baseline or polling change from this page"
        >
          Read-only
        </span>
      )}
      {view.recording && <RecordingIndicator status={view.recording} />}
      {st?.state === 'ok' && st.warnings.length > 0 && <span title={st.warnings.join('\n')}>{st.warnings.length} warnings</span>}
      {trouble}
      {view.error && (
        <span className="status-error" data-testid="command-error" title={view.error}>
          {view.error}
        </span>
      )}
    </footer>
  );
}
