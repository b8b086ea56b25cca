import type { ReactElement } from 'react';
import { classifyPort, compareListeners, exposureOf, type Exposure } from '../../../shared/exposure';
import { formatEndpoint } from '../../../shared/model';
import type { Row } from '../store/socketStore';
import { formatAge, noOwnerLabel } from '../store/view';

const EXPOSURE_TEXT: Record<Exposure, string> = { all: 'All interfaces', interface: 'One interface', loopback: 'This machine only' };

/** Every listener, widest exposure first: who can reach it, what it is, whether it was expected. */
export function ExposureView(props: {
  rows: readonly Row[];
  expected: (r: Row) => boolean | null;
  now: number;
  canMark: boolean;
  onMark: (id: string) => void;
  /** Removes the rule that expects this listener. */
  onUnmark?: (id: string) => void;
}): ReactElement {
  const listeners = props.rows
    .filter((r) => r.socket.listening && r.change !== 'closed')
    .map((r) => ({ r, exposure: exposureOf(r.socket) as Exposure, cls: classifyPort(r.socket.localPort, r.socket.protocol), expected: props.expected(r) }))
    .sort((a, b) =>
      compareListeners(
        { ...a, localPort: a.r.socket.localPort, protocol: a.r.socket.protocol },
        { ...b, localPort: b.r.socket.localPort, protocol: b.r.socket.protocol },
      ),
    );
  return (
    <div className="exposure" data-testid="exposure-view">
      <table>
        <thead>
          <tr>
            <th>Exposure</th>
            <th>Process</th>
            <th>Listening on</th>
            <th>Service</th>
            <th>Range</th>
            <th>Risk</th>
            <th>Open for</th>
            <th>Expected</th>
          </tr>
        </thead>
        <tbody>
          {listeners.map(({ r, exposure, cls, expected }) => {
            const s = r.socket;
            return (
              <tr
                key={s.id}
                data-testid="exposure-row"
                data-socket-id={s.id}
                data-exposure={exposure}
                data-expected={String(expected)}
                className={expected ? undefined : 'unexpected'}
              >
                <td>
                  <span className={`exposure-badge exposure-${exposure}`}>{EXPOSURE_TEXT[exposure]}</span>
                </td>
                <td className={s.process ? undefined : 'hidden-owner'}>{s.process ? `${s.process.name} (${s.process.pid})` : (noOwnerLabel(s) ?? '—')}</td>
                <td className="mono">
                  {s.protocol} {formatEndpoint(s.localAddress, s.localPort)}
                </td>
                <td title={cls.description ?? undefined}>{cls.service ?? '—'}</td>
                <td>
                  {cls.range}
                  {cls.privileged ? ' (privileged)' : ''}
                </td>
                <td className={cls.risk ? 'risk' : 'muted'}>{cls.risk ?? '—'}</td>
                <td className="muted">{formatAge(props.now - r.firstSeen)}</td>
                <td>
                  {expected ? (
                    <>
                      <span className="muted">expected</span>{' '}
                      {props.canMark && props.onUnmark && (
                        <button data-testid="unmark-expected" title="Remove the rule that expects it" onClick={() => props.onUnmark?.(s.id)}>
                          Un-mark
                        </button>
                      )}
                    </>
                  ) : (
                    <>
                      <span className="unexpected-badge">unexpected</span>{' '}
                      {props.canMark && (
                        <button data-testid="mark-expected" onClick={() => props.onMark(s.id)}>
                          Mark as expected
                        </button>
                      )}
                    </>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {listeners.length === 0 && <p className="empty">Nothing listens.</p>}
    </div>
  );
}
