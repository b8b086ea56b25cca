import type { ReactElement } from 'react';
import type { Exposure } from '../../../shared/exposure';
import { formatEndpoint, type ProcessInfo } from '../../../shared/model';
import { commandLine, processSummary } from '../../../shared/processSummary';
import { openSince, type ExposureColumn, type ListenerRow } from '../store/exposureRows';
import { noOwnerLabel } from '../store/view';

const EXPOSURE_TEXT: Record<Exposure, string> = { all: 'All interfaces', interface: 'One interface', loopback: 'This machine only' };
const COLUMN_TITLES: Record<ExposureColumn, string> = {
  exposure: 'Exposure',
  process: 'Process',
  local: 'Listening on',
  service: 'Service',
  risk: 'Risk',
  open: 'Open since',
  expected: 'Expected',
};
const COLUMNS = Object.keys(COLUMN_TITLES) as ExposureColumn[];
const RANGE_TEXT = {
  'well-known': 'well-known port (0-1023): only root may bind it',
  registered: 'registered port (1024-49151)',
  dynamic: 'dynamic port (49152-65535)',
};

/**
 * The listeners the filter bar lets through, widest exposure first (or by the column clicked): who can reach
 * each, what it is, whether it was expected, and what to do about it. Every cell is one line; what does not
 * fit is in its tooltip.
 */
export function ExposureView(props: {
  listeners: readonly ListenerRow[];
  now: number;
  sort: { col: ExposureColumn; dir: 1 | -1 };
  onSort: (col: ExposureColumn) => void;
  selectedId: string | null;
  onDetails: (id: string) => void;
  /** null: this client may not kill (a read-only web client). */
  onKill: ((p: ProcessInfo) => void) | null;
  canMark: boolean;
  onMark: (id: string) => void;
  /** No listener at all (not only none through the filter). */
  none: boolean;
  /** Removes the rule that expects this listener. */
  onUnmark?: (id: string) => void;
}): ReactElement {
  return (
    <div className="exposure" data-testid="exposure-view">
      <table>
        <colgroup>
          {COLUMNS.map((c) => (
            <col key={c} className={`x-${c}`} />
          ))}
          <col className="x-actions" />
        </colgroup>
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th key={c} className={`x-${c}`} aria-sort={props.sort.col === c ? (props.sort.dir === 1 ? 'ascending' : 'descending') : 'none'}>
                <button className="th-sort" data-testid={`exposure-sort-${c}`} onClick={() => props.onSort(c)}>
                  {COLUMN_TITLES[c]}
                  {props.sort.col === c ? (props.sort.dir === 1 ? ' ▲' : ' ▼') : ''}
                </button>
              </th>
            ))}
            <th className="x-actions">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.listeners.map(({ row: r, exposure, cls, service, expected }) => {
            const s = r.socket;
            const p = s.process;
            const open = openSince(r, props.now);
            const who = p ? `${processSummary(p)} (${p.pid})` : (noOwnerLabel(s) ?? '—');
            const endpoint = `${s.protocol} ${formatEndpoint(s.localAddress, s.localPort)}`;
            const selected = s.id === props.selectedId;
            return (
              <tr
                key={s.id}
                data-testid="exposure-row"
                data-socket-id={s.id}
                data-exposure={exposure}
                data-expected={String(expected)}
                aria-selected={selected}
                className={`${expected ? '' : 'unexpected'}${selected ? ' selected' : ''}`}
                onClick={() => props.onDetails(s.id)}
              >
                <td className="x-exposure">
                  <span className={`exposure-badge exposure-${exposure}`}>{EXPOSURE_TEXT[exposure]}</span>
                </td>
                <td className={p ? 'x-process' : 'x-process hidden-owner'} title={p ? `${commandLine(p)}\npid ${p.pid}${p.user ? `, ${p.user}` : ''}` : who}>
                  {who}
                </td>
                <td className="x-local mono" title={`${endpoint}\n${RANGE_TEXT[cls.range]}${cls.risk ? `\nRisk: ${cls.risk}` : ''}`}>
                  {/* where the Risk column has given way to a narrow window, the risk is a mark here */}
                  {cls.risk && <span className="risk-mark">⚠ </span>}
                  {endpoint}
                </td>
                <td className="x-service" data-testid="exposure-service" title={service?.title ?? cls.description ?? undefined}>
                  {service?.text ?? '—'}
                </td>
                <td className={cls.risk ? 'x-risk risk' : 'x-risk muted'} title={cls.risk ?? undefined}>
                  {cls.risk ?? '—'}
                </td>
                <td className="x-open muted" data-testid="open-since" data-basis={open.basis} title={open.title}>
                  {open.text}
                </td>
                <td className="x-expected">{expected ? <span className="muted">expected</span> : <span className="unexpected-badge">unexpected</span>}</td>
                <td className="x-actions">
                  {!expected && props.canMark && (
                    <button
                      className="small"
                      data-testid="mark-expected"
                      title="Mark as expected: add a rule for this listener to the expected ports"
                      onClick={(e) => {
                        e.stopPropagation();
                        props.onMark(s.id);
                      }}
                    >
                      Mark expected
                    </button>
                  )}
                  {expected && props.canMark && props.onUnmark && (
                    <button
                      className="small"
                      data-testid="unmark-expected"
                      title="Un-mark: remove the rule that expects this listener"
                      onClick={(e) => {
                        e.stopPropagation();
                        props.onUnmark?.(s.id);
                      }}
                    >
                      Un-mark
                    </button>
                  )}
                  <button
                    className="small details-button"
                    data-testid="exposure-details"
                    title="Show its details"
                    onClick={(e) => {
                      e.stopPropagation();
                      props.onDetails(s.id);
                    }}
                  >
                    Details
                  </button>
                  {p && props.onKill && (
                    <button
                      className="kill-small"
                      data-testid="exposure-kill"
                      title={`Kill ${p.name} (pid ${p.pid})`}
                      onClick={(e) => {
                        e.stopPropagation();
                        props.onKill?.(p);
                      }}
                    >
                      Kill…
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {props.listeners.length === 0 && <p className="empty">{props.none ? 'Nothing listens.' : 'No listener matches the filter.'}</p>}
    </div>
  );
}
