// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { EXPIRE_GRACE_MS, HIGHLIGHT_MS, MAX_ALERTS, SocketStore, withAlert, type Row } from '../../src/renderer/src/store/socketStore';
import { filterRows, groupRows, NO_TOGGLES, sortRows, type ViewContext } from '../../src/renderer/src/store/view';
import type { Alert, AlertSettings, ApiResult, EngineState } from '../../src/shared/api';
import type { RecordingStatus } from '../../src/shared/recording';
import { DEFAULT_ALERT_SETTINGS } from '../../src/shared/alerts';
import type { PortwatchApi } from '../../src/shared/contract';
import type { Delta, MonitorStatus, ProcessInfo, Snapshot, Socket } from '../../src/shared/model';
import { parseQuery } from '../../src/shared/query';
import { makeSocket } from '../helpers/sockets';
import { waitFor } from '../helpers/children';

const sock = (id: string, over: Partial<Socket> = {}): Socket => makeSocket({ id, ...over });
const proc = (pid: number, name: string): ProcessInfo => ({ pid, ppid: 1, name, exe: null, cmdline: [name], uid: 0, user: 'root', startTime: 1000 + pid });
const snap = (seq: number, sockets: Socket[]): Snapshot => ({ seq, takenAt: seq * 1000, source: 'procfs', sockets });
const delta = (seq: number, d: Partial<Delta> = {}): Delta => ({ seq, takenAt: seq * 1000, added: [], removed: [], changed: [], closed: [], ...d });

/** A scripted engine: the test pushes events and decides what getState answers. */
class FakeApi implements PortwatchApi {
  l = {
    snapshot: [] as Array<(s: Snapshot) => void>,
    delta: [] as Array<(d: Delta) => void>,
    status: [] as Array<(s: MonitorStatus) => void>,
    conn: [] as Array<(c: boolean) => void>,
  };
  state: EngineState = { snapshot: null, status: null, intervalMs: 1000, paused: false, elevated: false, control: true, reverseDns: false, hostNames: {} };
  names: Array<(n: Record<string, string>) => void> = [];
  stateCalls = 0;
  getState = async (): Promise<ApiResult<EngineState>> => {
    this.stateCalls++;
    return { ok: true, value: this.state };
  };
  onSnapshot = (f: (s: Snapshot) => void) => (this.l.snapshot.push(f), () => {});
  onDelta = (f: (d: Delta) => void) => (this.l.delta.push(f), () => {});
  onStatus = (f: (s: MonitorStatus) => void) => (this.l.status.push(f), () => {});
  onConnection = (f: (c: boolean) => void) => (this.l.conn.push(f), () => {});
  setPollInterval = async (ms: number): Promise<ApiResult<number>> =>
    ms < 250 ? { ok: false, code: 'bad-request', message: 'too fast' } : { ok: true, value: ms };
  pausePolling = async (): Promise<ApiResult<null>> => ({ ok: true, value: null });
  resumePolling = async (): Promise<ApiResult<null>> => ({ ok: true, value: null });
  setReverseDns = async (on: boolean): Promise<ApiResult<boolean>> => ({ ok: true, value: on });
  getNetworkRates = async () => ({ ok: true as const, value: [] });
  onHostNames = (f: (n: Record<string, string>) => void) => (this.names.push(f), () => {});
  getBaseline = async () => ({ ok: true as const, value: { ok: true as const, path: '/b.json', exists: false, rules: [] } });
  markExpected = async () => ({ ok: true as const, value: { ok: true as const, path: '/b.json', exists: true, rules: [{ port: 80 }] } });
  acceptAllListeners = async () => ({ ok: true as const, value: { ok: true as const, path: '/b.json', exists: true, rules: [{ port: 80 }] } });
  onBaseline = () => () => {};
  editBaselineRule = this.acceptAllListeners;
  removeBaselineRule = this.acceptAllListeners;
  getAlerts = async () => ({ ok: true as const, value: [] });
  onAlert = () => () => {};
  alertSettings: AlertSettings = DEFAULT_ALERT_SETTINGS;
  getAlertSettings = async () => ({ ok: true as const, value: this.alertSettings });
  setAlertsIncludeLoopback = this.getAlertSettings;
  setFirstContact = this.getAlertSettings;
  muteAlerts = this.getAlertSettings;
  unmuteAlerts = this.getAlertSettings;
  snoozeAlerts = this.getAlertSettings;
  unsnoozeAlerts = this.getAlertSettings;
  clearAlerts = this.getAlertSettings;
  onAlertSettings = () => () => {};
  killProcess = async (pid: number) => ({ ok: true as const, value: { result: 'already-gone' as const, pid } });
  closeConnection = async (id: string) => ({ ok: true as const, value: { result: 'closed' as const, id } });
  getActionLog = async () => ({ ok: true as const, value: [] });
  enableConntrackAccounting = async () => ({ ok: true as const, value: true });
  onAction = () => () => {};
  historyFlows = async (): Promise<ApiResult<never>> => ({ ok: false, code: 'no-history', message: 'no history yet' });
  historyListeners = this.historyFlows;
  historyEvents = this.historyFlows;
  historyTimeline = this.historyFlows;
  recording: RecordingStatus = { state: 'recording', path: '/h/history.db', eventsWritten: 3, since: 1 };
  getHistoryStatus = async () => ({ ok: true as const, value: this.recording });
  setRecording = async (on: boolean) => {
    this.recording = on ? { state: 'recording', path: '/h/history.db', eventsWritten: 3, since: 1 } : { state: 'off', path: '/h/history.db', eventsWritten: 3 };
    return { ok: true as const, value: this.recording };
  };
  onHistoryStatus = () => () => {};
  push = {
    snapshot: (s: Snapshot) => this.l.snapshot.forEach((f) => f(s)),
    delta: (d: Delta) => this.l.delta.forEach((f) => f(d)),
    connected: (c: boolean) => this.l.conn.forEach((f) => f(c)),
    names: (n: Record<string, string>) => this.names.forEach((f) => f(n)),
  };
}

/** Until the store has applied the engine's state up to `seq` (it asks getState when connected). */
const reached = (store: SocketStore, seq: number): Promise<true> => waitFor(() => (store.getView().seq === seq ? true : undefined), 5000, `seq ${seq}`);

async function started(initial: Socket[], seq = 1): Promise<{ api: FakeApi; store: SocketStore; clock: { t: number } }> {
  const api = new FakeApi();
  api.state.snapshot = snap(seq, initial);
  const clock = { t: 100_000 };
  const store = new SocketStore(api, () => clock.t);
  store.start();
  api.push.connected(true);
  await reached(store, seq);
  store.stop(); // the test drives expiry itself
  return { api, store, clock };
}
const changes = (store: SocketStore): Record<string, string | null> => Object.fromEntries(store.getView().rows.map((r) => [r.socket.id, r.change]));

describe('SocketStore', () => {
  it('shows the first snapshot plain, then highlights new, changed and closed rows', async () => {
    const { api, store } = await started([sock('a'), sock('b')]);
    expect(changes(store)).toEqual({ a: null, b: null });
    api.push.delta(delta(2, { added: [sock('c')], removed: ['a'], changed: [sock('b', { state: 'CLOSE_WAIT', listening: false })] }));
    expect(changes(store)).toEqual({ a: 'closed', b: 'changed', c: 'new' });
    expect(store.getView().rows.find((r) => r.socket.id === 'b')?.socket.state).toBe('CLOSE_WAIT');
  });

  it('keeps a closed row about five seconds, then drops it; other highlights fade', async () => {
    const { api, store, clock } = await started([sock('a'), sock('b')]);
    api.push.delta(delta(2, { removed: ['a'], changed: [sock('b', { pid: 7, pids: [7] })] }));
    clock.t += HIGHLIGHT_MS.changed + 1;
    store.expire();
    expect(changes(store)).toEqual({ a: 'closed', b: null });
    clock.t += HIGHLIGHT_MS.closed - HIGHLIGHT_MS.changed - 2;
    store.expire();
    expect(changes(store)).toEqual({ a: 'closed', b: null });
    clock.t += 2;
    store.expire();
    expect(changes(store)).toEqual({ b: null });
  });

  it('ends the highlights due with the next delta, in one change of the rows; the timer only when no delta comes', async () => {
    const { api, store, clock } = await started([sock('a')]);
    api.push.delta(delta(2, { added: [sock('c')] }));
    clock.t += HIGHLIGHT_MS.new + 100;
    // the timer leaves a highlight due a moment ago to the next delta
    store.expire(EXPIRE_GRACE_MS);
    expect(changes(store)).toEqual({ a: null, c: 'new' });
    let notified = 0;
    const off = store.subscribe(() => notified++);
    const rowsVersion = store.getView().rowsVersion;
    api.push.delta(delta(3, { added: [sock('d')] }));
    expect(changes(store)).toEqual({ a: null, c: null, d: 'new' });
    expect([notified, store.getView().rowsVersion]).toEqual([1, rowsVersion + 1]);
    // no delta comes (polling paused): the timer ends it, at most the grace late
    clock.t += HIGHLIGHT_MS.new + EXPIRE_GRACE_MS;
    store.expire(EXPIRE_GRACE_MS);
    expect(changes(store)).toEqual({ a: null, c: null, d: null });
    off();
  });

  it('a paused view holds changes back, counts them, and shows them all at resume', async () => {
    const { api, store } = await started([sock('a'), sock('b')]);
    store.setFrozen(true);
    api.push.delta(delta(2, { added: [sock('c')] }));
    api.push.delta(delta(3, { removed: ['a'], changed: [sock('b', { state: 'ESTABLISHED', listening: false, remoteAddress: '1.2.3.4', remotePort: 9 })] }));
    api.push.delta(delta(4, { added: [sock('d')] }));
    api.push.delta(delta(5, { removed: ['d'] })); // came and went while paused: nothing to show
    expect(changes(store)).toEqual({ a: null, b: null });
    expect(store.getView()).toMatchObject({ frozen: true, waiting: 5, seq: 5 });
    store.setFrozen(false);
    expect(store.getView()).toMatchObject({ frozen: false, waiting: 0 });
    expect(changes(store)).toEqual({ a: 'closed', b: 'changed', c: 'new' });
  });

  it('a gap in seq asks the engine again; deltas that raced ahead of the first state are applied in order', async () => {
    const api = new FakeApi();
    api.state.snapshot = snap(5, [sock('a')]);
    const store = new SocketStore(api);
    store.start();
    api.push.delta(delta(6, { added: [sock('c')] }));
    api.push.delta(delta(4, { added: [sock('old')] }));
    api.push.connected(true);
    await reached(store, 6);
    expect(Object.keys(changes(store)).sort()).toEqual(['a', 'c']);
    api.state.snapshot = snap(9, [sock('z')]);
    api.push.delta(delta(9, { added: [sock('y')] }));
    await reached(store, 9);
    expect(api.stateCalls).toBe(2);
    expect(changes(store)).toEqual({ a: 'closed', c: 'closed', z: 'new' });
    store.stop();
  });

  it('a reconnect resynchronises from a fresh snapshot and highlights what changed meanwhile', async () => {
    const { api, store } = await started([sock('a'), sock('b')], 3);
    api.push.connected(false);
    expect(store.getView().connected).toBe(false);
    api.push.snapshot(snap(1, [sock('b'), sock('n')])); // a restarted engine counts from 1 again
    expect(changes(store)).toEqual({ a: 'closed', b: null, n: 'new' });
    api.push.delta(delta(2, { added: [sock('next')] }));
    expect(changes(store).next).toBe('new');
  });

  it('reports a refused action, and keeps the interval the engine confirmed', async () => {
    const { store } = await started([]);
    await store.setPollInterval(100);
    expect(store.getView().error).toBe('too fast');
    await store.setPollInterval(500);
    expect(store.getView()).toMatchObject({ intervalMs: 500, error: null });
    await store.togglePolling();
    expect(store.getView().pollingPaused).toBe(true);
  });

  it('knows whether the engine records the history, and turns it off and on for the engine', async () => {
    const { api, store } = await started([sock('a')]);
    await waitFor(() => store.getView().recording ?? undefined, 5000, 'the recording status');
    expect(store.getView().recording).toMatchObject({ state: 'recording', path: '/h/history.db' });
    expect(await store.setRecording(false)).toMatchObject({ ok: true, value: { state: 'off' } });
    expect(store.getView().recording?.state).toBe('off');
    expect(api.recording.state).toBe('off');
    store.stop();
  });

  it('collects host names as they arrive', async () => {
    const { api, store } = await started([]);
    await store.setReverseDns(true);
    api.push.names({ '1.1.1.1': 'one.one.one.one' });
    api.push.names({ '8.8.8.8': 'dns.google' });
    expect(store.getView()).toMatchObject({ reverseDns: true, hostNames: { '1.1.1.1': 'one.one.one.one', '8.8.8.8': 'dns.google' } });
  });
});

describe('view: filter, sort, group', () => {
  const ctx: ViewContext = { hostName: (a) => (a === '140.82.121.4' ? 'lb-140-82-121-4-fra.github.com' : undefined) };
  const row = (s: Socket, firstSeen = 0): Row => ({ socket: s, change: null, until: 0, firstSeen, seenOpen: true });
  const rows: Row[] = [
    row(sock('1', { pid: 10, pids: [10], process: proc(10, 'nginx'), localPort: 443, localAddress: '0.0.0.0' })),
    row(sock('2', { pid: 10, pids: [10, 11], process: proc(10, 'nginx'), localPort: 80, localAddress: '0.0.0.0' })),
    row(
      sock('3', {
        pid: 10,
        pids: [10],
        process: proc(10, 'nginx'),
        listening: false,
        state: 'ESTABLISHED',
        localPort: 443,
        remoteAddress: '10.0.0.2',
        remotePort: 5000,
      }),
    ),
    row(
      sock('4', {
        pid: 20,
        pids: [20],
        process: proc(20, 'curl'),
        listening: false,
        state: 'ESTABLISHED',
        localPort: 50000,
        remoteAddress: '140.82.121.4',
        remotePort: 443,
      }),
    ),
    row(sock('5', { ownerHidden: true, noOwner: 'hidden', uid: 1000, user: 'alice', localPort: 5432, family: 6, localAddress: '::1' })),
    row(
      sock('6', {
        state: 'TIME_WAIT',
        listening: false,
        noOwner: 'closed',
        uid: null,
        user: null,
        localPort: 50001,
        remoteAddress: '140.82.121.4',
        remotePort: 443,
      }),
    ),
    row(sock('7', { protocol: 'udp', state: 'UNCONN', localPort: 53, localAddress: '127.0.0.53', pid: 30, pids: [30], process: proc(30, 'systemd-resolved') })),
  ];
  const ids = (rs: Row[]): string[] => rs.map((r) => r.socket.id);

  it('groups by each mode, with counts, and listeners first', () => {
    const byProcess = groupRows(rows, 'process', ctx);
    expect(byProcess.map((g) => [g.label, g.rows.length, g.ports])).toEqual([
      ['nginx', 3, [80, 443]],
      ['owner hidden: run elevated to see', 1, [5432]],
      ['systemd-resolved', 1, [53]],
      ['curl', 1, []],
      ['no owner (closed): kernel-held, TIME_WAIT and such', 1, []],
    ]);
    // the clients' ephemeral ports (50000, 50001: no listener there) are one group, under the port they talk to
    expect(groupRows(rows, 'local-port', ctx).map((g) => g.label)).toEqual([':53', ':80', ':443', ':5432', '→ :443 (clients)']);
    expect(groupRows(rows, 'local-port', ctx).find((g) => g.label === ':443')?.detail).toBe('tcp · https');
    expect(groupRows(rows, 'remote-host', ctx).map((g) => [g.label, g.rows.length])).toEqual([
      ['no remote end (listening, unconnected)', 4],
      // by name, not by size: sizes change every poll
      ['10.0.0.2', 1],
      ['lb-140-82-121-4-fra.github.com', 2],
    ]);
    expect(groupRows(rows, 'state', ctx).map((g) => [g.label, g.rows.length])).toEqual([
      ['LISTEN', 3],
      ['UNCONN', 1],
      ['ESTABLISHED', 2],
      ['TIME_WAIT', 1],
    ]);
    expect(groupRows(rows, 'none', ctx).map((g) => g.rows.length)).toEqual([7]);
  });

  it('filters by toggles and by the query language', () => {
    const q = (s: string) => {
      const p = parseQuery(s);
      if (!p.ok) throw new Error(p.message);
      return p;
    };
    expect(ids(filterRows(rows, { ...NO_TOGGLES, listening: true }, q(''), ctx))).toEqual(['1', '2', '5', '7']);
    expect(ids(filterRows(rows, { ...NO_TOGGLES, listening: true, established: true }, q(''), ctx))).toEqual(['1', '2', '3', '4', '5', '7']);
    expect(ids(filterRows(rows, { ...NO_TOGGLES, udp: true }, q(''), ctx))).toEqual(['7']);
    expect(ids(filterRows(rows, { ...NO_TOGGLES, ipv6: true }, q(''), ctx))).toEqual(['5']);
    expect(ids(filterRows(rows, { ...NO_TOGGLES, hideLoopback: true }, q(''), ctx))).toEqual(['1', '2', '3', '4', '6']);
    expect(ids(filterRows(rows, NO_TOGGLES, q('host:github'), ctx))).toEqual(['4', '6']);
    expect(ids(filterRows(rows, NO_TOGGLES, q('port:443 -proc:nginx'), ctx))).toEqual(['4', '6']);
    // a query that does not parse shows nothing, not everything (issue 14, item 4)
    expect(ids(filterRows(rows, NO_TOGGLES, parseQuery('port:'), ctx))).toEqual([]);
  });

  it('sorts by any column, both ways', () => {
    expect(ids(sortRows(rows, 'pid', 1, ctx)).slice(-3)).toEqual(['3', '4', '7']);
    expect(ids(sortRows(rows, 'process', -1, ctx))[0]).toBe('7');
    const byLocal = ids(sortRows(rows, 'local', 1, ctx));
    expect(byLocal[0]).toBe('2'); // 0.0.0.0:80
    expect(ids(sortRows(rows, 'local', -1, ctx))[0]).toBe('5'); // ::1
    const aged = [row(sock('old'), 1), row(sock('young'), 5)];
    expect(ids(sortRows(aged, 'age', 1, ctx))).toEqual(['young', 'old']);
  });
});

describe('the alert list', () => {
  const alert = (id: number, notify: boolean): Alert => ({
    id,
    at: id,
    protocol: 'udp',
    localAddress: '127.0.0.1',
    localPort: 1000 + id,
    exposure: 'loopback',
    severity: 'low',
    socketId: `udp|127.0.0.1|${1000 + id}|*|*|${id}`,
    process: 'decoy',
    summary: 'decoy',
    commandLine: 'decoy',
    pid: 7,
    risk: null,
    notify,
    message: `decoy ${id}`,
  });
  it('keeps an alert that notified through a flood of quiet ones', () => {
    let list: Alert[] = [];
    for (let i = 0; i < 150; i++) list = withAlert(list, alert(i, false));
    list = withAlert(list, { ...alert(1000, true), exposure: 'all', severity: 'high', localAddress: '0.0.0.0', message: 'the real one' });
    for (let i = 150; i < 600; i++) list = withAlert(list, alert(i, false));
    expect(list).toHaveLength(MAX_ALERTS);
    expect(list.some((a) => a.message === 'the real one')).toBe(true);
    expect(list.at(-1)?.id).toBe(599);
  });
});
