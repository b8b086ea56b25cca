import { useEffect, useMemo, useRef, useState, type ReactElement, type ReactNode } from 'react';
import { Area, Bar, CartesianGrid, ComposedChart, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ApiResult } from '../../../shared/api';
import {
  parseHistoryQuery,
  programName,
  type FlowKey,
  type HistoryEvents,
  type HistoryFlow,
  type HistoryListeners,
  type HistoryRecording,
  type HistoryTimeline,
} from '../../../shared/history';
import { formatBytes } from '../../../shared/model';
import {
  BUCKETS,
  describeEvent,
  FIRST_DIR,
  FLOW_COLUMNS,
  flowId,
  fullTime,
  keyOf,
  listenerAnswer,
  listenerOwner,
  listenerUntil,
  localInputValue,
  RANGE_CHOICES,
  rangeOf,
  sortFlows,
  spansOfPort,
  timeLabel,
  type FlowColumn,
  type HistoryQueries,
  type RangeChoice,
} from '../store/historyView';
import '../history.css';

/**
 * Preset ranges ("last hour") move with the clock: asked again this often while the view is open. A day of a
 * busy machine's flows takes the engine's reader thread most of a second: the wider ranges less often.
 */
const REFRESH_MS: Record<RangeChoice, number | null> = { hour: 10_000, day: 60_000, week: 300_000, custom: null };
/** Typing in the filter asks the engine after this pause. */
const TYPING_MS = 250;

/** An answer, with the inputs it was asked for (`deps` of useAnswer; null before the first). */
type Answer<T> = { loading: boolean; result: ApiResult<T> | null; askedFor: readonly unknown[] | null };

/**
 * One question to the engine, asked again when its inputs change: the newest answer wins (an older one that
 * arrives late is dropped), and the last answer stays on screen while the next is on its way.
 */
function useAnswer<T>(ask: (() => Promise<ApiResult<T>>) | null, deps: readonly unknown[]): Answer<T> {
  const [answer, setAnswer] = useState<Answer<T>>({ loading: ask !== null, result: null, askedFor: null });
  const asked = useRef(0);
  useEffect(() => {
    const n = ++asked.current;
    if (!ask) {
      setAnswer({ loading: false, result: null, askedFor: deps });
      return;
    }
    setAnswer((a) => ({ ...a, loading: true }));
    void ask().then((result) => {
      if (n === asked.current) setAnswer({ loading: false, result, askedFor: deps });
    });
    // the caller lists what the question depends on
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return answer;
}

/**
 * The History view: what the history database holds for a time range. A timeline of connections and bytes,
 * the flows (per program, remote host, port, protocol, direction) filtered by the filter language and sortable,
 * a flow's events on click, and for a port "when did this start listening, and who". Every text from the
 * machine (process names, paths) is rendered as React text.
 */
export function HistoryView({ queries, hostName }: { queries: HistoryQueries; hostName: (address: string) => string | undefined }): ReactElement {
  const [choice, setChoice] = useState<RangeChoice>('hour');
  const [custom, setCustom] = useState(() => ({ from: localInputValue(Date.now() - 3_600_000), to: '' }));
  const [tick, setTick] = useState(0);
  const [text, setText] = useState('');
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<{ col: FlowColumn | null; dir: 1 | -1 }>({ col: null, dir: 1 });
  const [selected, setSelected] = useState<FlowKey | null>(null);
  const [portText, setPortText] = useState('');

  useEffect(() => {
    const t = setTimeout(() => setQuery(text), TYPING_MS);
    return () => clearTimeout(t);
  }, [text]);
  useEffect(() => {
    const every = REFRESH_MS[choice];
    if (every === null) return;
    const t = setInterval(() => setTick((n) => n + 1), every);
    return () => clearInterval(t);
  }, [choice]);

  // the range is fixed when asked: "last hour" is the hour before this tick (tick is when to ask again)
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const range = useMemo(() => rangeOf(choice, Date.now(), custom), [choice, custom, tick]);
  const parsed = useMemo(() => parseHistoryQuery(query), [query]);
  const r = range.ok ? range.range : null;
  const rangeKey = r ? `${r.since}-${r.until}` : '';
  const port = /^\d{1,5}$/.test(portText.trim()) && Number(portText) <= 65535 ? Number(portText) : null;

  const flows = useAnswer(r && parsed.ok ? () => queries.flows(r, query) : null, [rangeKey, query, parsed.ok]);
  const timeline = useAnswer(r ? () => queries.timeline(r, BUCKETS[choice]) : null, [rangeKey, choice]);
  const listeners = useAnswer(r ? () => queries.listeners(r, port) : null, [rangeKey, port]);
  const events = useAnswer(r && selected ? () => queries.events(selected, r) : null, [rangeKey, selected && flowId(selected)]);

  const rows = useMemo(() => (flows.result?.ok ? sortFlows(flows.result.value.flows, sort.col, sort.dir) : []), [flows.result, sort]);
  const withDate = r !== null && r.until - r.since > 86_400_000;
  const recording: HistoryRecording | null | undefined = flows.result?.ok ? flows.result.value.recording : undefined;
  const noHistory = [flows.result, timeline.result, listeners.result].find((x) => x && !x.ok && (x.code === 'no-history' || x.code === 'history-unreadable'));

  const onSort = (col: FlowColumn): void => setSort((s) => (s.col === col ? { col, dir: s.dir === 1 ? -1 : 1 } : { col, dir: FIRST_DIR[col] }));

  return (
    <div className="history" data-testid="history-view">
      <div className="history-bar">
        <span className="tabs" role="radiogroup" aria-label="Time range">
          {RANGE_CHOICES.map((c) => (
            <button
              key={c.id}
              role="radio"
              data-testid={`history-range-${c.id}`}
              aria-checked={choice === c.id}
              aria-selected={choice === c.id}
              onClick={() => setChoice(c.id)}
            >
              {c.label}
            </button>
          ))}
        </span>
        {choice === 'custom' && (
          <span className="history-custom">
            <label>
              From{' '}
              <input
                type="datetime-local"
                data-testid="history-from"
                value={custom.from}
                onChange={(e) => setCustom((c) => ({ ...c, from: e.target.value }))}
              />
            </label>
            <label>
              To <input type="datetime-local" data-testid="history-to" value={custom.to} onChange={(e) => setCustom((c) => ({ ...c, to: e.target.value }))} />
            </label>
          </span>
        )}
        <input
          className={parsed.ok ? 'search' : 'search invalid'}
          data-testid="history-filter"
          type="text"
          spellCheck={false}
          placeholder="Filter flows: curl  host:github  :443  dir:in  -proc:firefox"
          value={text}
          aria-invalid={!parsed.ok}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') setQuery(text);
          }}
        />
        <button data-testid="history-refresh" onClick={() => setTick((n) => n + 1)} title="Ask the history again">
          Refresh
        </button>
      </div>
      {!range.ok && (
        <div className="banner error" role="alert" data-testid="history-range-error">
          {range.message}
        </div>
      )}
      {!parsed.ok && (
        <div className="banner error" role="alert" data-testid="history-filter-error">
          No flows: {parsed.message}
          {parsed.position !== null ? ` (at column ${parsed.position + 1})` : ''}
        </div>
      )}
      {noHistory && !noHistory.ok ? (
        <NoHistory code={noHistory.code} message={noHistory.message} />
      ) : (
        <div className="history-body">
          <Timeline answer={timeline} withDate={withDate} />
          <div className="history-panes">
            <section className="history-flows" aria-label="Flows">
              <h2>
                Flows{' '}
                <span className="muted" data-testid="history-flow-count">
                  {flows.result?.ok ? (flows.result.value.truncated ? `the busiest ${rows.length} of ${flows.result.value.matched}` : `${rows.length}`) : ''}
                </span>
                {flows.loading && <span className="muted history-loading"> loading…</span>}
              </h2>
              <FlowTable
                rows={rows}
                sort={sort}
                onSort={onSort}
                selected={selected}
                onSelect={(f) => setSelected((s) => (s && flowId(s) === flowId(f) ? null : keyOf(f)))}
                withDate={withDate}
                hostName={hostName}
                empty={
                  flows.result === null ? (
                    flows.loading ? (
                      'Reading the history…'
                    ) : null
                  ) : !flows.result.ok ? (
                    <span className="error-text">{flows.result.message}</span>
                  ) : query.trim() !== '' ? (
                    'No flow in this range matches the filter.'
                  ) : (
                    'No connection was recorded in this range. Choose a longer range, or check that recording is on.'
                  )
                }
              />
            </section>
            <aside className="history-side">
              {selected && (
                <FlowEvents
                  flow={selected}
                  name={rows.find((f) => flowId(f) === flowId(selected))?.name ?? null}
                  answer={events}
                  onClose={() => setSelected(null)}
                  withDate={withDate}
                />
              )}
              <ListenerSearch
                portText={portText}
                onPort={setPortText}
                port={port}
                answer={listeners}
                answersPort={listeners.askedFor?.[1] === port}
                withDate={withDate}
              />
            </aside>
          </div>
          <footer className="history-footer muted" data-testid="history-recording">
            {recording === undefined
              ? ''
              : recording === null
                ? 'Nobody is recording into this history now: it ends where the last recording stopped.'
                : `Recording now: ${recording.holder}.`}
            {flows.result?.ok && <span className="history-db"> {flows.result.value.db}</span>}
          </footer>
        </div>
      )}
    </div>
  );
}

function NoHistory({ code, message }: { code: string; message: string }): ReactElement {
  return (
    <div className="history-empty" data-testid="history-empty" data-code={code} role="status">
      <h2>{code === 'no-history' ? 'No history yet' : 'The history cannot be read'}</h2>
      <p>{message}</p>
      {code === 'no-history' ? (
        <p className="muted">
          Portwatch keeps a history only while something records it: <code>portwatch record</code> in a terminal (as root to see every owner, or as the systemd
          unit in the README), or this app with recording turned on. Connections appear here a second after they happen.
        </p>
      ) : (
        <p className="muted">The file is left as it is. A recorder moves a corrupt database aside and starts a new one; a newer one needs a newer Portwatch.</p>
      )}
    </div>
  );
}

function Timeline({ answer, withDate }: { answer: Answer<HistoryTimeline>; withDate: boolean }): ReactElement {
  const t = answer.result?.ok ? answer.result.value : null;
  const total = t ? t.points.reduce((n, p) => n + p.connections, 0) : 0;
  const bytes = t ? t.points.reduce((n, p) => n + p.bytesIn + p.bytesOut, 0) : 0;
  const per = t ? (t.bucketMs >= 3_600_000 ? `${t.bucketMs / 3_600_000} h` : `${t.bucketMs / 60_000} min`) : '';
  return (
    <figure className="history-timeline" data-testid="history-timeline" data-source={t?.source} data-connections={total}>
      <figcaption>
        Connections and bytes{t ? `, per ${per}` : ''}
        {t && (
          <span className="muted">
            {' '}
            — {total} connection{total === 1 ? '' : 's'}, {formatBytes(bytes)}
            {t.source === 'events' ? ' (bytes counted when a connection closed)' : ''}
          </span>
        )}
        {answer.result && !answer.result.ok && <span className="error-text"> — {answer.result.message}</span>}
      </figcaption>
      <ResponsiveContainer width="100%" height={150}>
        <ComposedChart data={t?.points ?? []} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--line)" />
          <XAxis dataKey="at" tickFormatter={(v) => timeLabel(Number(v), withDate)} minTickGap={40} stroke="var(--muted)" fontSize={11} />
          <YAxis yAxisId="n" stroke="var(--muted)" fontSize={11} width={40} allowDecimals={false} />
          <YAxis yAxisId="b" orientation="right" stroke="var(--muted)" fontSize={11} width={64} tickFormatter={(v) => formatBytes(Number(v))} />
          <Tooltip labelFormatter={(v) => fullTime(Number(v))} formatter={(v, name) => (name === 'connections' ? String(v) : formatBytes(Number(v)))} />
          <Legend iconSize={8} wrapperStyle={{ fontSize: 11 }} />
          <Bar yAxisId="n" dataKey="connections" name="connections" fill="#3b82f6" isAnimationActive={false} />
          <Area
            yAxisId="b"
            type="step"
            dataKey="bytesIn"
            name="bytes in"
            stroke="#1f8f5f"
            fill="#1f8f5f"
            fillOpacity={0.2}
            isAnimationActive={false}
            dot={false}
          />
          <Area
            yAxisId="b"
            type="step"
            dataKey="bytesOut"
            name="bytes out"
            stroke="#f59e0b"
            fill="#f59e0b"
            fillOpacity={0.2}
            isAnimationActive={false}
            dot={false}
          />
        </ComposedChart>
      </ResponsiveContainer>
    </figure>
  );
}

function FlowTable(props: {
  rows: readonly HistoryFlow[];
  sort: { col: FlowColumn | null; dir: 1 | -1 };
  onSort: (c: FlowColumn) => void;
  selected: FlowKey | null;
  onSelect: (f: HistoryFlow) => void;
  withDate: boolean;
  hostName: (address: string) => string | undefined;
  empty: ReactNode;
}): ReactElement {
  const selectedId = props.selected ? flowId(props.selected) : null;
  return (
    <div className="history-table">
      <table data-testid="history-flows">
        <thead>
          <tr>
            {FLOW_COLUMNS.map((c) => (
              <th key={c.id} className={`h-${c.id}`} aria-sort={props.sort.col === c.id ? (props.sort.dir === 1 ? 'ascending' : 'descending') : 'none'}>
                <button className="th-sort" data-testid={`history-sort-${c.id}`} onClick={() => props.onSort(c.id)}>
                  {c.title}
                  {props.sort.col === c.id ? (props.sort.dir === 1 ? ' ▲' : ' ▼') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((f) => {
            const id = flowId(f);
            const name = props.hostName(f.remoteAddress);
            const time = (at: number): string => (props.withDate ? fullTime(at) : fullTime(at).slice(11));
            return (
              <tr
                key={id}
                data-testid="history-flow"
                data-program={f.program}
                data-remote={f.remoteAddress}
                data-port={f.port}
                aria-selected={id === selectedId}
                className={id === selectedId ? 'selected' : undefined}
                onClick={() => props.onSelect(f)}
                tabIndex={0}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    props.onSelect(f);
                  }
                }}
              >
                <td className="h-program" title={f.program || 'no owner was seen'}>
                  {programName(f.name, f.program)}
                </td>
                <td className="h-remote mono" title={name ? `${f.remoteAddress}\n${name}` : f.remoteAddress}>
                  {name ?? f.remoteAddress}
                </td>
                <td className="h-port mono">{f.port}</td>
                <td className="h-protocol">{f.protocol}</td>
                <td className="h-direction">{f.direction}</td>
                <td className="h-connections num" title={`${f.opened} opened, ${f.closed} closed in this range`}>
                  {f.opened}
                </td>
                <td className="h-bytesIn num">{formatBytes(f.bytesIn)}</td>
                <td className="h-bytesOut num">{formatBytes(f.bytesOut)}</td>
                <td className="h-firstSeen muted" title={fullTime(f.firstSeen)}>
                  {time(f.firstSeen)}
                </td>
                <td className="h-lastSeen muted" title={fullTime(f.lastSeen)}>
                  {time(f.lastSeen)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {props.rows.length === 0 && props.empty !== null && (
        <p className="empty" data-testid="history-flows-empty">
          {props.empty}
        </p>
      )}
    </div>
  );
}

function FlowEvents(props: {
  flow: FlowKey;
  /** Its process name, when the flow is in the table. */
  name: string | null;
  answer: Answer<HistoryEvents>;
  onClose: () => void;
  withDate: boolean;
}): ReactElement {
  const { flow, answer } = props;
  const result = answer.result;
  const name = programName(props.name, flow.program);
  return (
    <section className="history-events" data-testid="history-events" aria-label="The flow's events">
      <header>
        <h2 title={flow.program}>
          {name} {flow.direction === 'out' ? '→' : '←'} <span className="mono">{flow.remoteAddress}</span> :{flow.port} {flow.protocol}
        </h2>
        <button className="small" data-testid="history-events-close" onClick={props.onClose} title="Close the events">
          ✕
        </button>
      </header>
      {result === null ? (
        <p className="muted">Reading its events…</p>
      ) : !result.ok ? (
        <p className="error-text">{result.message}</p>
      ) : result.value.events.length === 0 ? (
        <p className="muted" data-testid="history-events-empty">
          No event of this flow in the range: its raw events may be older than their retention (7 days by default), or it was already open when recording began.
        </p>
      ) : (
        <>
          <ol className="history-event-list">
            {result.value.events.map((e, i) => (
              <li key={`${e.at}-${i}`} data-testid="history-event" data-kind={e.kind}>
                <span className="muted mono">{props.withDate ? fullTime(e.at) : fullTime(e.at).slice(11)}</span>{' '}
                <span className={`event-kind event-${e.kind}`}>{e.kind}</span> {describeEvent(e)}
                <span className="muted">
                  {' '}
                  — {e.name ?? 'no owner'}
                  {e.pid !== null ? ` (pid ${e.pid})` : ''}, local :{e.localPort}
                </span>
              </li>
            ))}
          </ol>
          {result.value.truncated && <p className="muted">The first {result.value.events.length} events only: narrow the range for later ones.</p>}
        </>
      )}
    </section>
  );
}

function ListenerSearch(props: {
  portText: string;
  onPort: (t: string) => void;
  port: number | null;
  answer: Answer<HistoryListeners>;
  /** Whether the answer at hand was asked for this port (not the last one typed, or every port). */
  answersPort: boolean;
  withDate: boolean;
}): ReactElement {
  const result = props.answer.result;
  const spans = spansOfPort(result?.ok ? result.value.listeners : [], props.port);
  const time = (at: number): string => (props.withDate ? fullTime(at) : fullTime(at).slice(11));
  const answer = props.port === null ? null : listenerAnswer(spans, props.port, fullTime);
  const bad = props.portText.trim() !== '' && props.port === null;
  return (
    <section className="history-listeners" data-testid="history-listeners" aria-label="Listeners">
      <h2>When did a port start listening, and who?</h2>
      <label>
        Port{' '}
        <input
          data-testid="history-port"
          inputMode="numeric"
          placeholder="8080"
          value={props.portText}
          aria-invalid={bad}
          onChange={(e) => props.onPort(e.target.value)}
        />
      </label>
      {bad && <p className="error-text">A port is a number from 0 to 65535.</p>}
      {result && !result.ok && <p className="error-text">{result.message}</p>}
      {props.port !== null && result?.ok && (
        <p className="history-answer" data-testid="history-listener-answer">
          {answer ?? (props.answersPort ? `Port ${props.port} did not listen in this range, as far as the history knows.` : 'Looking…')}
        </p>
      )}
      {result?.ok && spans.length > 0 && (
        <table className="history-spans" data-testid="history-spans">
          <thead>
            <tr>
              <th>Listening on</th>
              <th>Who</th>
              <th>From</th>
              <th>Until</th>
            </tr>
          </thead>
          <tbody>
            {[...spans].reverse().map((l, i) => (
              <tr key={`${l.protocol}-${l.localAddress}-${l.localPort}-${l.startedAt}-${i}`} data-testid="history-span">
                <td className="mono">
                  {l.protocol} {l.localAddress.includes(':') ? `[${l.localAddress}]` : l.localAddress}:{l.localPort}
                </td>
                <td title={l.exe ?? undefined}>{listenerOwner(l)}</td>
                <td className="muted">{time(l.startedAt)}</td>
                <td className="muted">{listenerUntil(l, time)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {result?.ok && spans.length === 0 && props.port === null && <p className="muted">No port started or stopped listening in this range.</p>}
      {result?.ok && result.value.truncated && <p className="muted">The newest listeners only: narrow the range for older ones.</p>}
    </section>
  );
}
