import type { ReactElement } from 'react';
import { formatBytes, formatEndpoint, formatLocal, lastOwnerMark, lastOwnerOf, type Socket } from '../../../shared/model';
import { commandLine, processSummary } from '../../../shared/processSummary';
import { serviceFor } from '../../../shared/services';
import { whyNotClosable, whyNotKillable } from '../store/rowActions';
import { netnsLabel, noOwnerLabel } from '../store/view';

/** The selected socket and its process: command line, executable, user, start, parent, every socket it owns. */
export function DetailsPanel(props: {
  socket: Socket;
  owned: Socket[];
  parentName: string | null;
  hostName: (a: string) => string | undefined;
  onClose: () => void;
  onSelect: (id: string) => void;
  /** null: this client may not kill or close (a read-only web client); the actions say so. */
  onKill: (() => void) | null;
  onCloseConnection: (() => void) | null;
  closeResult: string | null;
  /** The socket is no longer in the kernel's tables (its row lingers as closed): nothing to close. */
  socketGone?: boolean;
  /** Its process holds no socket any more (it exited): nothing to kill. */
  processGone?: boolean;
}): ReactElement {
  const s = props.socket;
  const p = s.process;
  const last = lastOwnerOf(s);
  // a connection of a kind that can be closed; whether it still can is said beside the button
  const closable = s.protocol === 'tcp' && !s.listening && s.remoteAddress !== null && (s.state === 'ESTABLISHED' || props.socketGone === true);
  const notClosable = whyNotClosable(s, props.socketGone === true);
  const notKillable = whyNotKillable(s, props.processGone === true);
  const svc = serviceFor(s.localPort, s.protocol);
  const listening = props.owned.filter((x) => x.listening);
  return (
    <aside className="details" data-testid="details" aria-label="Details">
      <header>
        <h2 title={p ? commandLine(p) : undefined}>{p ? processSummary(p) : (noOwnerLabel(s) ?? 'No owning process')}</h2>
        <button onClick={props.onClose} aria-label="Close details" data-testid="details-close">
          ✕
        </button>
      </header>
      <section>
        <h3>Socket</h3>
        <dl>
          <dt>Protocol</dt>
          <dd>
            {s.protocol.toUpperCase()} over IPv{s.family}
          </dd>
          <dt>Local</dt>
          <dd className="mono">{formatLocal(s)}</dd>
          {s.interface !== null && (
            <>
              <dt>Bound to</dt>
              <dd data-testid="details-interface">{s.interface}</dd>
            </>
          )}
          {s.v6only !== null && (
            <>
              <dt>IPv4 too</dt>
              <dd>{s.v6only ? 'no: IPv6 only' : 'yes: dual-stack'}</dd>
            </>
          )}
          {svc && (
            <>
              <dt>Service</dt>
              <dd>
                {svc.name} <span className="muted">— {svc.description}</span>
              </dd>
            </>
          )}
          <dt>Remote</dt>
          <dd className="mono">
            {formatEndpoint(s.remoteAddress, s.remotePort)}
            {s.remoteAddress && props.hostName(s.remoteAddress) ? <span className="muted"> ({props.hostName(s.remoteAddress)})</span> : null}
          </dd>
          <dt>State</dt>
          <dd>{s.state}</dd>
          {(s.bytesIn !== null || s.bytesOut !== null) && (
            <>
              <dt>Traffic</dt>
              <dd data-testid="details-bytes">
                {formatBytes(s.bytesIn)} in, {formatBytes(s.bytesOut)} out
                {s.rttMs !== null && <span className="muted"> · RTT {s.rttMs.toFixed(s.rttMs < 10 ? 2 : 0)} ms</span>}
              </dd>
            </>
          )}
          {s.netns !== null && (
            <>
              <dt>Namespace</dt>
              <dd className="mono" data-testid="details-netns">
                {netnsLabel(s)}
              </dd>
            </>
          )}
          <dt>Owner uid</dt>
          <dd>
            {s.user ?? '—'} {s.uid !== null && <span className="muted">({s.uid})</span>}
          </dd>
          {last && (
            <>
              <dt>Last owner</dt>
              <dd className="last-owner" data-testid="details-last-owner" title={commandLine(last)}>
                {processSummary(last)} (pid {last.pid}), {lastOwnerMark(s)}
              </dd>
            </>
          )}
          {s.pids.length > 1 && (
            <>
              <dt>Shared by</dt>
              <dd>pids {s.pids.join(', ')}</dd>
            </>
          )}
        </dl>
      </section>
      {p ? (
        <section>
          <h3>Process</h3>
          <dl>
            <dt>PID</dt>
            <dd>{p.pid}</dd>
            <dt>Command line</dt>
            <dd className="mono wrap" data-testid="details-cmdline">
              {p.cmdline.length ? p.cmdline.join(' ') : '—'}
            </dd>
            <dt>Executable</dt>
            <dd className="mono wrap">{p.exe ?? '—'}</dd>
            <dt>User</dt>
            <dd>{p.user ?? (p.uid === null ? '—' : p.uid)}</dd>
            <dt>Started</dt>
            <dd>{p.startTime === null ? '—' : new Date(p.startTime).toLocaleString()}</dd>
            <dt>Parent</dt>
            <dd>
              {p.ppid ?? '—'} {props.parentName && <span className="muted">({props.parentName})</span>}
            </dd>
          </dl>
        </section>
      ) : (
        noOwnerLabel(s) !== null && <p className="hidden-owner">{noOwnerLabel(s)}</p>
      )}
      {p && (
        <section>
          <h3>
            Its sockets{' '}
            <span className="muted">
              ({props.owned.length}, {listening.length} listening)
            </span>
          </h3>
          <ul className="owned">
            {props.owned.slice(0, 200).map((x) => (
              <li key={x.id}>
                <button className="link mono" onClick={() => props.onSelect(x.id)}>
                  {x.protocol} {formatEndpoint(x.localAddress, x.localPort)} → {formatEndpoint(x.remoteAddress, x.remotePort)} {x.state}
                </button>
              </li>
            ))}
            {props.owned.length > 200 && <li className="muted">… and {props.owned.length - 200} more</li>}
          </ul>
        </section>
      )}
      <section data-testid="actions">
        <h3>Actions</h3>
        <div className="actions">
          {props.onKill === null && (
            <span className="muted" data-testid="read-only-actions">
              Read-only: this server lets this page look, not kill or close.
            </span>
          )}
          {p && props.onKill && (
            <button className="danger" data-testid="kill" onClick={props.onKill} disabled={notKillable !== null} title={notKillable ?? undefined}>
              Kill {p.name}…
            </button>
          )}
          {props.onCloseConnection && closable && (
            <button data-testid="close-connection" onClick={props.onCloseConnection} disabled={notClosable !== null} title={notClosable ?? undefined}>
              Close this connection
            </button>
          )}
        </div>
        {props.onKill && p && notKillable !== null && (
          <p className="muted" data-testid="kill-unavailable">
            Kill: {notKillable}.
          </p>
        )}
        {props.onCloseConnection && closable && notClosable !== null && (
          <p className="muted" data-testid="close-unavailable">
            Close: {notClosable}.
          </p>
        )}
        {props.closeResult && (
          // it appears below the buttons, often past the panel's fold: bring it into sight
          <p className="muted" data-testid="close-result" ref={(el) => el?.scrollIntoView({ block: 'nearest' })}>
            {props.closeResult}
          </p>
        )}
      </section>
    </aside>
  );
}
