import { startTransition, useCallback, useEffect, useMemo, useReducer, useRef, useState, type ReactElement } from 'react';
import { formatCsv } from '../../shared/export';
import { formatInterval, intervalChoices } from '../../shared/polling';
import { parseQuery } from '../../shared/query';
import { serviceLabel } from '../../shared/devPorts';
import { isExpected, ruleExpecting, rulesFor } from '../../shared/baseline';
import { LEARNING_CHOICES, learningText, shouldNotify, visibleAlerts } from '../../shared/alerts';
import type { Alert } from '../../shared/api';
import { AcceptListeners } from './components/AcceptListeners';
import { BaselineRules } from './components/BaselineRules';
import { MarkExpected } from './components/MarkExpected';
import { ActionLog } from './components/ActionLog';
import { AlertList } from './components/AlertList';
import { KillDialog } from './components/KillDialog';
import { planKill } from '../../shared/killPlan';
import type { ProcessInfo, Protocol, Socket } from '../../shared/model';
import { Charts } from './components/Charts';
import { ExposureView } from './components/ExposureView';
import { HistoryView } from './components/HistoryView';
import { DetailsPanel } from './components/DetailsPanel';
import { FilterBar } from './components/FilterBar';
import { OverflowMenu, SteadyLabel } from './components/ToolbarParts';
import { RowMenu } from './components/RowMenu';
import { SocketTable, type Item } from './components/SocketTable';
import { StatusBar } from './components/StatusBar';
import { UdpCountersNote } from './components/UdpCountersNote';
import { sourceHasRates, whyNoUdpCounters } from '../../shared/traffic';
import { treeItems, treePath } from './store/tree';
import type { SocketStore, StoreView } from './store/socketStore';
import { countListeners, listenerRows, sortListeners, type ExposureColumn } from './store/exposureRows';
import { processHoldsSockets, rowActions, type RowAction } from './store/rowActions';
import { INITIAL_UI, isGroupOpen, uiReducer } from './store/uiState';
import { lastCall } from './store/lastCall';
import { filterRows, GROUP_BY, groupRows, rowsToJson, sortRows, type Column, type Group, type GroupBy, type ViewContext } from './store/view';

const GROUP_LABELS: Record<GroupBy, string> = {
  process: 'Process',
  tree: 'Process tree',
  'local-port': 'Local port',
  'remote-host': 'Remote host',
  direction: 'Direction',
  state: 'State',
  netns: 'Namespace',
  none: 'No grouping',
};

/** What the Service column shows (a developer's name, then IANA's), for free-text search: one function, so the query's cache holds. */
const shownService = (port: number, protocol: Protocol): string | undefined => serviceLabel(port, protocol)?.text;

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

/**
 * The store's view, rendered as a transition: a delta (or a highlight's end) re-renders the window in slices
 * that yield to scrolling and typing, where useSyncExternalStore would render it in one blocking task.
 */
function useStoreView(store: SocketStore): StoreView {
  const [view, setView] = useState(store.getView);
  useEffect(() => {
    const update = (): void => startTransition(() => setView(store.getView()));
    update();
    return store.subscribe(update);
  }, [store]);
  return view;
}

/** The window: reads the store's view, keeps its own arrangement in one reducer, and never touches the API. */
export function App({ store }: { store: SocketStore }): ReactElement {
  const view = useStoreView(store);
  const [ui, dispatch] = useReducer(uiReducer, INITIAL_UI);
  const {
    query,
    toggles,
    groupBy,
    sort,
    collapsed,
    selectedId,
    detailsOpen,
    chartsOpen,
    tab,
    alertsOpen,
    logOpen,
    killPlan,
    closeResult,
    seenAlerts,
    exposureSort,
    markId,
    rulesOpen,
  } = ui;
  const { unfolded, reveal, menu } = ui;
  const [now, setNow] = useState(() => Date.now());
  const [notifyPermission, setNotifyPermission] = useState(() => (typeof Notification === 'undefined' ? 'denied' : Notification.permission));
  const liveSockets = useCallback(() => store.liveSockets(), [store]);
  const searchRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  const parsed = useMemo(() => parseQuery(query), [query]);
  const hostNames = view.hostNames;
  const rules = view.baseline?.ok ? view.baseline.rules : null;
  const udpCounters = view.status?.state === 'ok' ? view.status.udpCounters : undefined;
  const noRates = !sourceHasRates(view.source);
  const noCounters = noRates ? `the ${view.source ?? ''} source reads no byte counters` : whyNoUdpCounters(udpCounters);
  const ctx: ViewContext = useMemo(
    () => ({ hostName: (a: string) => hostNames[a], serviceName: shownService, expected: (s) => (rules ? isExpected(rules, s) : null), noCounters }),
    [hostNames, rules, noCounters],
  );

  // In web mode the browser can notify too, once allowed (Electron notifies from the main process).
  useEffect(() => {
    if (window.portwatch || typeof Notification === 'undefined') return;
    return store.onAlert((a) => {
      // only high alerts (a listener on all interfaces) notify; the rest are listed
      if (shouldNotify(a) && Notification.permission === 'granted')
        new Notification('Portwatch: unexpected listener', { body: a.risk ? `${a.message}. ${a.risk}.` : a.message });
    });
  }, [store]);

  // The view changes only in a transition (useStoreView), so these follow the data at their own pace: typing
  // and scrolling stay responsive. Each is also remembered past a render React throws away (lastCall).
  const rows = view.rows;
  const [derive] = useState(() => ({ filter: lastCall(filterRows), sort: lastCall(sortRows), group: lastCall(groupRows) }));
  const filtered = useMemo(() => derive.filter(rows, toggles, parsed, ctx), [derive, rows, toggles, parsed, ctx]);
  const sorted = useMemo(() => derive.sort(filtered, sort.col, sort.dir, ctx), [derive, filtered, sort, ctx]);
  const groups = useMemo(() => derive.group(sorted, groupBy, ctx, rows), [derive, sorted, groupBy, ctx, rows]);
  const items = useMemo(() => {
    if (groupBy === 'tree') return treeItems(groups, ctx, (n) => isGroupOpen({ collapsed, unfolded }, n));
    const out: Item[] = [];
    for (const g of groups) {
      const open = isGroupOpen({ collapsed, unfolded }, g);
      if (groupBy !== 'none') out.push({ kind: 'group', key: `g:${g.key}`, group: g, open });
      if (open || groupBy === 'none') for (const r of g.rows) out.push({ kind: 'row', key: r.socket.id, row: r });
    }
    return out;
  }, [groups, collapsed, unfolded, groupBy, ctx]);

  // a reveal ("show me") of a row in a closed group opens that group, so the table can bring the row into view
  useEffect(() => {
    if (reveal === 0 || selectedId === null) return;
    const g = groups.find((x) => x.rows.some((r) => r.socket.id === selectedId));
    if (g && !isGroupOpen({ collapsed, unfolded }, g)) dispatch({ type: 'toggleGroup', key: g.key, folded: g.folded });
    // in the tree, its host and port headings too (closed until opened)
    const r = groupBy === 'tree' ? g?.rows.find((x) => x.socket.id === selectedId) : undefined;
    if (g && r) for (const key of treePath(g.key, r)) if (!unfolded.has(key)) dispatch({ type: 'toggleGroup', key, folded: true });
    // only when a reveal is asked for, not when the groups change
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [reveal]);

  const rowIds = useMemo(() => items.filter((i) => i.kind === 'row').map((i) => i.key), [items]);
  const selected = selectedId ? (store.liveSocket(selectedId) ?? view.rows.find((r) => r.socket.id === selectedId)?.socket) : undefined;

  const onToggleGroup = useCallback((g: Group) => dispatch({ type: 'toggleGroup', key: g.key, folded: g.folded }), []);
  const onToggleNode = useCallback((key: string, folded: boolean) => dispatch({ type: 'toggleGroup', key, folded }), []);
  // a click selects (a second one deselects) and never scrolls; picking a socket elsewhere brings it into view
  const onClickRow = useCallback((id: string) => dispatch({ type: 'clickRow', id }), []);
  const onSelect = useCallback((id: string) => dispatch({ type: 'select', id, open: true, reveal: true }), []);
  const onMenu = useCallback((socket: Socket, x: number, y: number) => dispatch({ type: 'menu', menu: { socket, x, y } }), []);
  /** What a kill of this process would touch: its sockets, and the owner that really holds them if shared. */
  const openKill = useCallback((p: ProcessInfo) => dispatch({ type: 'kill', plan: { ...planKill(p.pid, store.liveSockets()), process: p } }), [store]);
  const onKillGroup = useCallback((g: { process?: ProcessInfo }) => g.process && openKill(g.process), [openKill]);
  const onSort = useCallback((col: Column) => dispatch({ type: 'sort', col }), []);
  const alerts = useMemo(() => visibleAlerts(view.alerts, view.alertSettings), [view.alerts, view.alertSettings]);
  const unread = alerts.filter((a) => a.id > seenAlerts).length;
  const newestAlert = alerts.at(-1)?.id ?? seenAlerts;
  /** "Show me": the alert's row, selected, in the table (false when its socket is gone). */
  const showAlert = (a: Alert): boolean => {
    if (!store.liveSocket(a.socketId)) return false;
    dispatch({ type: 'tab', tab: 'sockets' });
    // brought into view once (opening its group), as the arrow keys do; a plain selection never scrolls. One the
    // filter hides is shown by clearing the filter, which the banner then offers back.
    const row = view.rows.find((r) => r.socket.id === a.socketId);
    const hidden = row !== undefined && filterRows([row], toggles, parsed, ctx).length === 0;
    dispatch(hidden ? { type: 'revealHidden', id: a.socketId } : { type: 'select', id: a.socketId, reveal: true });
    dispatch({ type: 'alerts', seen: newestAlert });
    return true;
  };
  const markSocket = markId ? store.liveSocket(markId) : undefined;

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const inField = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
      // the History view has no socket rows: only Esc (closing what is open) applies there
      if (tab === 'history' && e.key !== 'Escape') return;
      if (e.key === '/' && !inField) {
        e.preventDefault();
        searchRef.current?.focus();
      } else if (e.key === 'Escape') {
        // in a field Esc leaves it; elsewhere it closes the innermost thing, then deselects
        if (killPlan || markId || rulesOpen) dispatch({ type: 'escape' });
        else if (inField) (e.target as HTMLElement).blur();
        else dispatch({ type: 'escape' });
      } else if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && !(e.target instanceof HTMLSelectElement)) {
        if (rowIds.length === 0) return;
        e.preventDefault();
        const i = selectedId ? rowIds.indexOf(selectedId) : -1;
        const next = e.key === 'ArrowDown' ? Math.min(rowIds.length - 1, i + 1) : Math.max(0, i < 0 ? 0 : i - 1);
        dispatch({ type: 'select', id: rowIds[next] ?? null, reveal: true });
      } else if ((e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey)) && selectedId && !inField) {
        const el = [...document.querySelectorAll('[data-testid=socket-row]')].find((r) => r.getAttribute('data-socket-id') === selectedId);
        const s = store.liveSocket(selectedId) ?? view.rows.find((r) => r.socket.id === selectedId)?.socket;
        if (!el || !s) return;
        e.preventDefault();
        const box = el.getBoundingClientRect();
        dispatch({ type: 'menu', menu: { socket: s, x: box.left + 40, y: box.bottom } });
      } else if (e.key === 'Enter' && selectedId && !inField) {
        dispatch({ type: 'details', open: true });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [rowIds, selectedId, detailsOpen, killPlan, markId, rulesOpen, store, view.rows, tab]);

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
  // Is the selected socket, or its process, already gone? Details then stops offering Kill and Close.
  const selectedFacts = useMemo(() => {
    if (!selected) return { socketGone: false, processGone: false };
    return {
      socketGone: store.liveSocket(selected.id) === undefined,
      processGone: selected.process !== null && !processHoldsSockets(selected.process, store.liveSockets()),
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selected, store, view.seq]);

  /** Closes one connection; its outcome shows in its details. */
  const closeConnection = useCallback(
    (id: string) =>
      void store.closeConnection(id).then((r) =>
        dispatch({
          type: 'closeResult',
          id,
          text: !r.ok
            ? `Not closed: ${r.message}.`
            : r.value.result === 'closed'
              ? 'Closed: the connection is gone from the kernel table.'
              : `Not closed: ${r.value.reason}.`,
        }),
      ),
    [store],
  );
  // the row menu's "Mark as expected" opens the same choices as the Exposure view's button
  const markExpected = useCallback((id: string) => dispatch({ type: 'mark', id }), []);

  // The row menu: what the row is now (it may have closed, its process exited since the menu opened).
  const menuSocket = menu ? (store.liveSocket(menu.socket.id) ?? menu.socket) : null;
  const menuActions = useMemo(() => {
    if (!menu || !menuSocket) return null;
    return rowActions(menuSocket, {
      socketGone: store.liveSocket(menu.socket.id) === undefined,
      processGone: menuSocket.process !== null && !processHoldsSockets(menuSocket.process, store.liveSockets()),
      control: view.control,
      canMark: view.baseline?.ok === true && view.control,
      expected: ctx.expected?.(menuSocket) ?? null,
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [menu, menuSocket, store, view.seq, view.control, view.baseline, ctx]);
  const runAction = (a: RowAction): void => {
    dispatch({ type: 'menu', menu: null });
    if (!menuSocket) return;
    if (a.kind === 'filter') return dispatch({ type: 'query', query: a.query });
    if (a.kind === 'copy') return;
    if (a.id === 'details') return dispatch({ type: 'select', id: menuSocket.id, open: true });
    if (a.id === 'kill' && menuSocket.process) return openKill(menuSocket.process);
    if (a.id === 'close') {
      dispatch({ type: 'select', id: menuSocket.id, open: true });
      return closeConnection(menuSocket.id);
    }
    if (a.id === 'mark') return markExpected(menuSocket.id);
  };

  const shownCount = useMemo(() => countOpen(filtered), [filtered]);
  // counted on the rows the filter saw, from the same view (under churn a newer set gave "1279 of 1278")
  const totalCount = useMemo(() => countOpen(rows), [rows]);
  // the Exposure view lists the listeners the filter bar lets through, and the bar counts those
  const exposureOn = tab === 'exposure';
  const listeners = useMemo(
    () =>
      exposureOn
        ? sortListeners(
            listenerRows(filtered, (s) => ctx.expected?.(s) ?? null),
            exposureSort.col,
            exposureSort.dir,
            now,
          )
        : [],
    // `now` moves every second; the order by age does not need to follow it closer than the data
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [exposureOn, filtered, ctx, exposureSort],
  );
  const listenerTotal = useMemo(() => (exposureOn ? countListeners(rows) : 0), [exposureOn, rows]);
  const onExposureSort = useCallback((col: ExposureColumn) => dispatch({ type: 'exposureSort', col }), []);

  return (
    <div className={detailsOpen && selected ? 'app with-details' : 'app'}>
      {/* one line from 1024 px: the controls used most, then the rest under More */}
      <header className="toolbar" data-testid="toolbar">
        <h1>Portwatch</h1>
        <span className="tabs" role="tablist">
          <button role="tab" data-testid="view-sockets" aria-selected={tab === 'sockets'} onClick={() => dispatch({ type: 'tab', tab: 'sockets' })}>
            Sockets
          </button>
          <button role="tab" data-testid="view-exposure" aria-selected={tab === 'exposure'} onClick={() => dispatch({ type: 'tab', tab: 'exposure' })}>
            Exposure
          </button>
          <button role="tab" data-testid="view-history" aria-selected={tab === 'history'} onClick={() => dispatch({ type: 'tab', tab: 'history' })}>
            History
          </button>
        </span>
        <button
          data-testid="freeze"
          aria-pressed={view.frozen}
          onClick={() => store.setFrozen(!view.frozen)}
          title="Freeze the view: this page stops changing while polling goes on underneath"
        >
          <SteadyLabel labels={['Freeze view', 'Unfreeze']} shown={view.frozen ? 'Unfreeze' : 'Freeze view'} />
          {view.frozen && view.waiting > 0 && (
            <span className="pill" title={`${view.waiting} changes waiting`}>
              {view.waiting}
            </span>
          )}
        </button>
        <button
          data-testid="pause-polling"
          aria-pressed={view.pollingPaused}
          disabled={!view.control}
          onClick={() => void store.togglePolling()}
          title="Pause polling: the engine stops reading the machine, for every window and client"
        >
          <SteadyLabel labels={['Pause polling', 'Resume polling']} shown={view.pollingPaused ? 'Resume polling' : 'Pause polling'} />
        </button>
        <label title="Refresh: the time between two polls">
          <span className="label-text">Refresh</span>
          <select
            data-testid="interval"
            disabled={!view.control}
            value={view.intervalMs ?? ''}
            onChange={(e) => void store.setPollInterval(Number(e.target.value))}
          >
            {view.intervalMs === null && <option value="">…</option>}
            {intervalChoices(view.intervalMs).map((ms) => (
              <option key={ms} value={ms}>
                {formatInterval(ms)}
              </option>
            ))}
          </select>
        </label>
        <label title="Group by">
          <span className="label-text">Group by</span>
          <select data-testid="group-by" value={groupBy} onChange={(e) => dispatch({ type: 'groupBy', groupBy: e.target.value as GroupBy })}>
            {GROUP_BY.map((g) => (
              <option key={g} value={g}>
                {GROUP_LABELS[g]}
              </option>
            ))}
          </select>
        </label>
        <button data-testid="charts-toggle" aria-pressed={chartsOpen} onClick={() => dispatch({ type: 'charts' })}>
          Charts
        </button>
        <span className="spacer-flex" />
        <button data-testid="log-toggle" onClick={() => dispatch({ type: 'log' })}>
          Log <span data-testid="action-count">{view.actions.length}</span>
        </button>
        <button
          data-testid="alerts-toggle"
          className={unread > 0 ? 'has-alerts' : undefined}
          data-unread={unread}
          title={unread > 0 ? `${unread} unread` : undefined}
          onClick={() => dispatch({ type: 'alerts', seen: newestAlert })}
        >
          Alerts <span data-testid="alert-count">{alerts.length}</span>
        </button>
        <OverflowMenu>
          <button data-testid="rules-toggle" onClick={() => dispatch({ type: 'rules' })} title="The expected-ports rules: edit or remove them">
            Expected-ports rules…
          </button>
          <button
            data-testid="reverse-dns"
            disabled={!view.control}
            aria-pressed={view.reverseDns}
            onClick={() => void store.setReverseDns(!view.reverseDns)}
            title="Look up host names of remote addresses (reverse DNS)"
          >
            Resolve names
          </button>
          {view.recording && view.recording.path !== '' && (
            <button
              data-testid="record-history"
              disabled={!view.control}
              aria-pressed={view.recording.state !== 'off'}
              onClick={() => void store.setRecording(view.recording?.state === 'off')}
              title={`Record the history (every connection and listener, kept across restarts) into ${view.recording.path}, for every window and client`}
            >
              Record history
            </button>
          )}
          {view.recording && view.recording.path !== '' && (
            <button
              data-testid="first-contact"
              disabled={!view.control}
              aria-pressed={view.alertSettings.firstContact}
              onClick={() => void store.setFirstContact(!view.alertSettings.firstContact)}
              title={`Alert when a program reaches a remote host and port it never reached before, once the history reaches back ${learningText(view.alertSettings.learningMs)} (learned from the history this app records, or another Portwatch does)`}
            >
              First-contact alerts
            </button>
          )}
          {view.recording && view.recording.path !== '' && view.alertSettings.firstContact && (
            <div className="menu-choice" role="group" aria-label="Learn first contacts from" data-testid="learning-period">
              <span>Learn from</span>
              {LEARNING_CHOICES.map((ms) => (
                <button
                  key={ms}
                  disabled={!view.control}
                  aria-pressed={view.alertSettings.learningMs === ms}
                  onClick={() => void store.setFirstContact(true, ms)}
                  title={`Alert on first contacts once the history reaches back ${learningText(ms)}`}
                >
                  {learningText(ms)}
                </button>
              ))}
            </div>
          )}
          <button onClick={() => dispatch({ type: 'collapseAll', keys: groups.map((g) => g.key) })}>{collapsed.size ? 'Expand all' : 'Collapse all'}</button>
          <button data-testid="export-csv" onClick={() => download('portwatch.csv', 'text/csv', formatCsv(sorted.map((r) => r.socket)))}>
            Export CSV
          </button>
          <button data-testid="export-json" onClick={() => download('portwatch.json', 'application/json', rowsToJson(sorted))}>
            Export JSON
          </button>
          {!window.portwatch && notifyPermission === 'default' && (
            <button onClick={() => void Notification.requestPermission().then(setNotifyPermission)} title="Let the browser notify you of unexpected listeners">
              Notify me
            </button>
          )}
        </OverflowMenu>
      </header>
      {/* the History view has its own filter: the live toggles do not apply to what was recorded */}
      {tab !== 'history' && (
        <FilterBar
          toggles={toggles}
          onToggle={(key) => dispatch({ type: 'toggle', key })}
          query={query}
          onQuery={(q) => dispatch({ type: 'query', query: q })}
          error={parsed.ok ? null : { message: parsed.message, position: parsed.position }}
          searchRef={searchRef}
          shown={exposureOn ? listeners.length : shownCount}
          total={exposureOn ? listenerTotal : totalCount}
        />
      )}
      {ui.clearedFilter && tab !== 'history' && (
        <div className="banner" data-testid="filter-cleared" role="status">
          The filter{ui.clearedFilter.query ? ` “${ui.clearedFilter.query}”` : ''} hid the socket you asked to see, so it was cleared.{' '}
          <button data-testid="restore-filter" onClick={() => dispatch({ type: 'restoreFilter' })}>
            Restore the filter
          </button>
        </div>
      )}
      {view.baseline && !view.baseline.ok && view.baseline.path !== '' && (
        <div className="banner error" data-testid="baseline-error">
          The expected-ports file is broken and was left as it is: {view.baseline.message}
        </div>
      )}
      {view.baseline?.ok && !view.baseline.exists && (
        <AcceptListeners
          listening={view.rows.filter((r) => r.socket.listening && r.change !== 'closed').length}
          rulesNow={() => rulesFor(store.liveSockets())}
          control={view.control}
          onAccept={(r) => void store.acceptAllListeners(r)}
        />
      )}
      {alertsOpen && (
        <AlertList
          alerts={alerts}
          settings={view.alertSettings}
          now={now}
          controls={
            view.control
              ? {
                  onMute: (m) => void store.muteAlerts(m),
                  onUnmute: (m) => void store.unmuteAlerts(m),
                  onSnooze: (ms) => void store.snoozeAlerts(ms),
                  onClear: () => void store.clearAlerts(),
                  onIncludeLoopback: (on) => void store.setAlertsIncludeLoopback(on),
                }
              : null
          }
          onShow={showAlert}
          onClose={() => dispatch({ type: 'alerts', seen: newestAlert })}
        />
      )}
      {markSocket && (
        <MarkExpected
          key={markSocket.id}
          socket={markSocket}
          onClose={() => dispatch({ type: 'mark', id: null })}
          onMark={(choice) => void store.markExpected(markSocket.id, choice).then((r) => r.ok && dispatch({ type: 'mark', id: null }))}
        />
      )}
      {rulesOpen && (
        <BaselineRules
          baseline={view.baseline}
          control={view.control}
          onEdit={(old, next) => void store.editBaselineRule(old, next)}
          onRemove={(old) => void store.editBaselineRule(old, null)}
          onClose={() => dispatch({ type: 'rules' })}
        />
      )}
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
      {chartsOpen && (
        <Charts
          history={view.history}
          rates={view.rates}
          ratesError={view.ratesError}
          sockets={liveSockets}
          traffic={noRates ? null : view.traffic}
          hostName={ctx.hostName}
        />
      )}
      <main>
        {tab === 'history' ? (
          <HistoryView queries={store.history} hostName={ctx.hostName} />
        ) : tab === 'exposure' ? (
          <ExposureView
            listeners={listeners}
            now={now}
            sort={exposureSort}
            onSort={onExposureSort}
            selectedId={selectedId}
            onDetails={onSelect}
            onKill={view.control ? openKill : null}
            canMark={view.baseline?.ok === true && view.control}
            onMark={(id) => dispatch({ type: 'mark', id })}
            onUnmark={(id) => {
              const s = store.liveSocket(id);
              const rule = s && rules ? ruleExpecting(rules, s) : null;
              if (rule) void store.editBaselineRule(rule, null);
            }}
            none={listenerTotal === 0}
          />
        ) : (
          <SocketTable
            items={items}
            ctx={ctx}
            now={now}
            sort={sort}
            onSort={onSort}
            selectedId={selectedId}
            onSelect={onClickRow}
            onToggle={onToggleGroup}
            onToggleNode={onToggleNode}
            noRates={noRates}
            sparks={noRates ? undefined : view.sparks}
            onMenu={onMenu}
            onKill={view.control ? onKillGroup : null}
            reveal={reveal}
          />
        )}
        {menu && menuActions && (
          <RowMenu actions={menuActions} x={menu.x} y={menu.y} onRun={runAction} onClose={() => dispatch({ type: 'menu', menu: null })} />
        )}
        {detailsOpen && selected && tab !== 'history' && (
          <DetailsPanel
            socket={selected}
            owned={owned}
            parentName={parentName}
            hostName={ctx.hostName}
            onClose={() => dispatch({ type: 'details', open: false })}
            onSelect={onSelect}
            onKill={view.control ? () => selected.process && openKill(selected.process) : null}
            onCloseConnection={view.control ? () => closeConnection(selected.id) : null}
            socketGone={selectedFacts.socketGone}
            processGone={selectedFacts.processGone}
            closeResult={closeResult?.id === selected.id ? closeResult.text : null}
          />
        )}
      </main>
      <StatusBar
        view={view}
        processes={groupBy === 'process' || groupBy === 'tree' ? groups.length : null}
        udp={
          <UdpCountersNote state={udpCounters} canEnable={view.elevated && view.control} onEnable={() => store.enableConntrackAccounting().then((r) => r.ok)} />
        }
      />
    </div>
  );
}
