import { useCallback, useDeferredValue, useEffect, useMemo, useReducer, useRef, useState, useSyncExternalStore, type ReactElement } from 'react';
import { formatCsv } from '../../shared/export';
import { parseQuery } from '../../shared/query';
import { serviceName } from '../../shared/services';
import { isExpected } from '../../shared/baseline';
import { ActionLog } from './components/ActionLog';
import { AlertList } from './components/AlertList';
import { KillDialog } from './components/KillDialog';
import { planKill } from '../../shared/killPlan';
import type { ProcessInfo, Socket } from '../../shared/model';
import { Charts } from './components/Charts';
import { ExposureView } from './components/ExposureView';
import { DetailsPanel } from './components/DetailsPanel';
import { FilterBar } from './components/FilterBar';
import { SocketTable, type Item } from './components/SocketTable';
import { StatusBar } from './components/StatusBar';
import type { SocketStore } from './store/socketStore';
import { INITIAL_UI, uiReducer } from './store/uiState';
import { filterRows, GROUP_BY, groupRows, rowsToJson, sortRows, type Column, type GroupBy, type ViewContext } from './store/view';

const INTERVALS = [250, 500, 1000, 2000, 5000, 10000];
const GROUP_LABELS: Record<GroupBy, string> = {
  process: 'Process',
  'local-port': 'Local port',
  'remote-host': 'Remote host',
  state: 'State',
  netns: 'Namespace',
  none: 'No grouping',
};

/** Rows still open (closed ones linger a few seconds, highlighted, but no longer count). */
function countOpen(rows: readonly { change: string | null }[]): number {
  let n = 0;
  for (const r of rows) if (r.change !== 'closed') n++;
  return n;
}

function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The window: reads the store's view, keeps its own arrangement in one reducer, and never touches the API. */
export function App({ store }: { store: SocketStore }): ReactElement {
  const view = useSyncExternalStore(store.subscribe, store.getView);
  const [ui, dispatch] = useReducer(uiReducer, INITIAL_UI);
  const { query, toggles, groupBy, sort, collapsed, selectedId, detailsOpen, chartsOpen, tab, alertsOpen, logOpen, killPlan, closeResult, seenAlerts } = ui;
  const [now, setNow] = useState(() => Date.now());
  const [notifyPermission, setNotifyPermission] = useState(() => (typeof Notification === 'undefined' ? 'denied' : Notification.permission));
  const liveSockets = useCallback(() => store.liveSockets(), [store]);
  const watchRates = useCallback(() => store.watchRates(), [store]);
  const searchRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  const parsed = useMemo(() => parseQuery(query), [query]);
  const hostNames = view.hostNames;
  const rules = view.baseline?.ok ? view.baseline.rules : null;
  const ctx: ViewContext = useMemo(
    () => ({ hostName: (a: string) => hostNames[a], serviceName, expected: (s) => (rules ? isExpected(rules, s) : null) }),
    [hostNames, rules],
  );

  // In web mode the browser can notify too, once allowed (Electron notifies from the main process).
  useEffect(() => {
    if (window.portwatch || typeof Notification === 'undefined') return;
    return store.onAlert((a) => {
      if (a.notify && Notification.permission === 'granted')
        new Notification('Portwatch: unexpected listener', { body: a.risk ? `${a.message}. ${a.risk}.` : a.message });
    });
  }, [store]);

  // Heavy derivations follow the data at their own pace: typing and scrolling stay responsive.
  const rows = useDeferredValue(view.rows);
  const filtered = useMemo(() => filterRows(rows, toggles, parsed, ctx), [rows, toggles, parsed, ctx]);
  const sorted = useMemo(() => sortRows(filtered, sort.col, sort.dir, ctx), [filtered, sort, ctx]);
  const groups = useMemo(() => groupRows(sorted, groupBy, ctx), [sorted, groupBy, ctx]);
  const items = useMemo(() => {
    const out: Item[] = [];
    for (const g of groups) {
      const open = !collapsed.has(g.key);
      if (groupBy !== 'none') out.push({ kind: 'group', key: `g:${g.key}`, group: g, open });
      if (open || groupBy === 'none') for (const r of g.rows) out.push({ kind: 'row', key: r.socket.id, row: r });
    }
    return out;
  }, [groups, collapsed, groupBy]);

  const rowIds = useMemo(() => items.filter((i) => i.kind === 'row').map((i) => i.key), [items]);
  const selected = selectedId ? (store.liveSocket(selectedId) ?? view.rows.find((r) => r.socket.id === selectedId)?.socket) : undefined;

  const onToggleGroup = useCallback((key: string) => dispatch({ type: 'toggleGroup', key }), []);
  const onSelect = useCallback((id: string) => dispatch({ type: 'select', id, open: true }), []);
  /** What a kill of this process would touch: its sockets, and the owner that really holds them if shared. */
  const openKill = useCallback((p: ProcessInfo) => dispatch({ type: 'kill', plan: { ...planKill(p.pid, store.liveSockets()), process: p } }), [store]);
  const onKillGroup = useCallback((g: { process?: ProcessInfo }) => g.process && openKill(g.process), [openKill]);
  const onSort = useCallback((col: Column) => dispatch({ type: 'sort', col }), []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const inField = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
      if (e.key === '/' && !inField) {
        e.preventDefault();
        searchRef.current?.focus();
      } else if (e.key === 'Escape') {
        if (killPlan || detailsOpen) dispatch({ type: 'escape' });
        else if (inField) (e.target as HTMLElement).blur();
      } else if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && !(e.target instanceof HTMLSelectElement)) {
        if (rowIds.length === 0) return;
        e.preventDefault();
        const i = selectedId ? rowIds.indexOf(selectedId) : -1;
        const next = e.key === 'ArrowDown' ? Math.min(rowIds.length - 1, i + 1) : Math.max(0, i < 0 ? 0 : i - 1);
        dispatch({ type: 'select', id: rowIds[next] ?? null });
      } else if (e.key === 'Enter' && selectedId && !inField) {
        dispatch({ type: 'details', open: true });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [rowIds, selectedId, detailsOpen, killPlan]);

  // One pass over the live sockets per poll (not per render): what the selected process owns, and its
  // parent's name when the parent holds a socket too.
  const { owned, parentName } = useMemo(() => {
    const out: Socket[] = [];
    let parent: string | null = null;
    const p = selected?.process;
    if (p) {
      for (const s of store.liveSockets()) {
        if (s.pids.includes(p.pid)) out.push(s);
        if (parent === null && p.ppid !== null && s.process?.pid === p.ppid) parent = s.process.name;
      }
    }
    return { owned: out, parentName: parent };
    // the store's live map changes in place: view.seq is the version that says it did
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selected, store, view.seq]);
  const shownCount = useMemo(() => countOpen(filtered), [filtered]);
  const totalCount = useMemo(() => countOpen(view.rows), [view.rows]);

  return (
    <div className={detailsOpen && selected ? 'app with-details' : 'app'}>
      <header className="toolbar">
        <h1>Portwatch</h1>
        <button
          data-testid="freeze"
          aria-pressed={view.frozen}
          onClick={() => store.setFrozen(!view.frozen)}
          title="Freeze the view: this page stops changing while polling goes on underneath"
        >
          {view.frozen ? `Unfreeze${view.waiting ? ` (${view.waiting} waiting)` : ''}` : 'Freeze view'}
        </button>
        <button
          data-testid="pause-polling"
          aria-pressed={view.pollingPaused}
          disabled={!view.control}
          onClick={() => void store.togglePolling()}
          title="Pause polling: the engine stops reading the machine, for every window and client"
        >
          {view.pollingPaused ? 'Resume polling' : 'Pause polling'}
        </button>
        <label>
          Refresh{' '}
          <select
            data-testid="interval"
            disabled={!view.control}
            value={view.intervalMs ?? 1000}
            onChange={(e) => void store.setPollInterval(Number(e.target.value))}
          >
            {INTERVALS.map((ms) => (
              <option key={ms} value={ms}>
                {ms < 1000 ? `${ms} ms` : `${ms / 1000} s`}
              </option>
            ))}
          </select>
        </label>
        <label>
          Group by{' '}
          <select data-testid="group-by" value={groupBy} onChange={(e) => dispatch({ type: 'groupBy', groupBy: e.target.value as GroupBy })}>
            {GROUP_BY.map((g) => (
              <option key={g} value={g}>
                {GROUP_LABELS[g]}
              </option>
            ))}
          </select>
        </label>
        <button
          data-testid="reverse-dns"
          disabled={!view.control}
          aria-pressed={view.reverseDns}
          onClick={() => void store.setReverseDns(!view.reverseDns)}
          title="Look up host names of remote addresses (reverse DNS)"
        >
          Resolve names
        </button>
        <button onClick={() => dispatch({ type: 'collapseAll', keys: groups.map((g) => g.key) })}>{collapsed.size ? 'Expand all' : 'Collapse all'}</button>
        <button data-testid="charts-toggle" aria-pressed={chartsOpen} onClick={() => dispatch({ type: 'charts' })}>
          Charts
        </button>
        <span className="tabs" role="tablist">
          <button role="tab" data-testid="view-sockets" aria-selected={tab === 'sockets'} onClick={() => dispatch({ type: 'tab', tab: 'sockets' })}>
            Sockets
          </button>
          <button role="tab" data-testid="view-exposure" aria-selected={tab === 'exposure'} onClick={() => dispatch({ type: 'tab', tab: 'exposure' })}>
            Exposure
          </button>
        </span>
        <button data-testid="log-toggle" onClick={() => dispatch({ type: 'log' })}>
          Log <span data-testid="action-count">{view.actions.length}</span>
        </button>
        <button
          data-testid="alerts-toggle"
          className={view.alerts.length > seenAlerts ? 'has-alerts' : undefined}
          onClick={() => dispatch({ type: 'alerts', seen: view.alerts.length })}
        >
          Alerts <span data-testid="alert-count">{view.alerts.length}</span>
        </button>
        {!window.portwatch && notifyPermission === 'default' && (
          <button onClick={() => void Notification.requestPermission().then(setNotifyPermission)} title="Let the browser notify you of unexpected listeners">
            Notify me
          </button>
        )}
        <span className="spacer-flex" />
        <button data-testid="export-csv" onClick={() => download('portwatch.csv', 'text/csv', formatCsv(sorted.map((r) => r.socket)))}>
          Export CSV
        </button>
        <button data-testid="export-json" onClick={() => download('portwatch.json', 'application/json', rowsToJson(sorted))}>
          Export JSON
        </button>
        {view.error && <span className="status-error">{view.error}</span>}
      </header>
      <FilterBar
        toggles={toggles}
        onToggle={(key) => dispatch({ type: 'toggle', key })}
        query={query}
        onQuery={(q) => dispatch({ type: 'query', query: q })}
        error={parsed.ok ? null : { message: parsed.message, position: parsed.position }}
        searchRef={searchRef}
        shown={shownCount}
        total={totalCount}
      />
      {view.baseline && !view.baseline.ok && view.baseline.path !== '' && (
        <div className="banner error" data-testid="baseline-error">
          The expected-ports file is broken and was left as it is: {view.baseline.message}
        </div>
      )}
      {view.baseline?.ok && !view.baseline.exists && (
        <div className="banner" data-testid="baseline-offer">
          No expected ports yet: every listener counts as unexpected. Accept the {view.rows.filter((r) => r.socket.listening && r.change !== 'closed').length}{' '}
          listening now as expected?{' '}
          {view.control && (
            <button data-testid="accept-baseline" onClick={() => void store.acceptAllListeners()}>
              Accept current listeners
            </button>
          )}
        </div>
      )}
      {alertsOpen && <AlertList alerts={view.alerts} onClose={() => dispatch({ type: 'alerts', seen: view.alerts.length })} />}
      {logOpen && <ActionLog actions={view.actions} onClose={() => dispatch({ type: 'log' })} />}
      {killPlan && (
        <KillDialog
          key={killPlan.pid}
          plan={killPlan}
          kill={(pid, st, force) => store.kill(pid, st, force)}
          onRetarget={openKill}
          onClose={() => dispatch({ type: 'kill', plan: null })}
        />
      )}
      {chartsOpen && <Charts history={view.history} rates={view.rates} ratesError={view.ratesError} watchRates={watchRates} sockets={liveSockets} />}
      <main>
        {tab === 'exposure' ? (
          <ExposureView
            rows={view.rows}
            expected={(r) => ctx.expected?.(r.socket) ?? null}
            now={now}
            canMark={view.baseline?.ok === true && view.control}
            onMark={(id) => void store.markExpected(id)}
          />
        ) : (
          <SocketTable
            items={items}
            ctx={ctx}
            now={now}
            sort={sort}
            onSort={onSort}
            selectedId={selectedId}
            onSelect={onSelect}
            onToggle={onToggleGroup}
            onKill={view.control ? onKillGroup : null}
            scrollToKey={selectedId}
          />
        )}
        {detailsOpen && selected && (
          <DetailsPanel
            socket={selected}
            owned={owned}
            parentName={parentName}
            hostName={ctx.hostName}
            onClose={() => dispatch({ type: 'details', open: false })}
            onSelect={onSelect}
            onKill={view.control ? () => selected.process && openKill(selected.process) : null}
            onCloseConnection={
              view.control
                ? () =>
                    void store.closeConnection(selected.id).then((r) =>
                      dispatch({
                        type: 'closeResult',
                        id: selected.id,
                        text: !r.ok
                          ? `Not closed: ${r.message}.`
                          : r.value.result === 'closed'
                            ? 'Closed: the connection is gone from the kernel table.'
                            : `Not closed: ${r.value.reason}.`,
                      }),
                    )
                : null
            }
            closeResult={closeResult?.id === selected.id ? closeResult.text : null}
          />
        )}
      </main>
      <StatusBar view={view} processes={groupBy === 'process' ? groups.length : null} />
    </div>
  );
}
