import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiResult, InterfaceRate } from '../../src/shared/api';
import type { PortwatchApi } from '../../src/shared/contract';
import type { Delta, Snapshot } from '../../src/shared/model';
import { EngineMirror } from '../../src/renderer/src/store/engineMirror';
import { RowTracker } from '../../src/renderer/src/store/rows';
import { HISTORY_POINTS, RATE_POINTS, RATE_SAMPLE_MS, withRatePoint, withStatePoint } from '../../src/renderer/src/store/series';
import { SocketStore } from '../../src/renderer/src/store/socketStore';
import { INITIAL_UI, uiReducer } from '../../src/renderer/src/store/uiState';
import { planKill } from '../../src/shared/killPlan';
import { makeProcess, makeSocket } from '../helpers/sockets';
import { ROOT } from '../helpers/paths';
import { waitFor } from '../helpers/children';

const snap = (seq: number, ids: string[]): Snapshot => ({ seq, takenAt: seq * 1000, source: 'netlink', sockets: ids.map((id) => makeSocket({ id })) });
const delta = (seq: number, added: string[] = [], removed: string[] = []): Delta => ({
  seq,
  takenAt: seq * 1000,
  added: added.map((id) => makeSocket({ id })),
  removed,
  changed: [],
  closed: [],
});

describe('EngineMirror: a snapshot, then deltas strictly in order', () => {
  it('applies in order, drops stale deltas, holds those that come before the snapshot, and reports a gap', () => {
    const seen: string[] = [];
    const m = new EngineMirror({ replaced: (s) => seen.push(`snap ${s.seq}`), applied: (d) => seen.push(`delta ${d.seq}`), gap: () => seen.push('gap') });
    m.delta(delta(3, ['early'])); // before any snapshot: held
    m.replace(snap(2, ['a']));
    expect([...m.sockets()].map((s) => s.id).sort()).toEqual(['a', 'early']);
    m.delta(delta(3, ['dup'])); // stale now
    m.delta(delta(4, [], ['a']));
    m.delta(delta(6, ['skipped-five']));
    expect(seen).toEqual(['snap 2', 'delta 3', 'delta 4', 'gap']);
    expect(m.waiting).toBe(true);
    m.replace(snap(5, ['x']));
    expect([...m.sockets()].map((s) => s.id).sort()).toEqual(['skipped-five', 'x']);
    expect(m.seq).toBe(6);
  });
});

describe('series behind the charts', () => {
  it('one state point a second at most; throughput sums every interface but loopback, bounded', () => {
    const sockets = [makeSocket({ id: 'a' }), makeSocket({ id: 'b', state: 'ESTABLISHED', listening: false })];
    const h1 = withStatePoint([], 1000, sockets);
    expect(withStatePoint(h1, 1500, sockets)).toBe(h1);
    expect(withStatePoint(h1, 2000, sockets)).toEqual([
      { t: 1000, counts: { LISTEN: 1, ESTABLISHED: 1 } },
      { t: 2000, counts: { LISTEN: 1, ESTABLISHED: 1 } },
    ]);
    let h = h1;
    for (let i = 1; i <= HISTORY_POINTS + 5; i++) h = withStatePoint(h, 1000 + i * 1000, sockets);
    expect(h).toHaveLength(HISTORY_POINTS);
    expect(h[0]?.t).toBe(1000 + 6 * 1000);
    const rates: InterfaceRate[] = [
      { iface: 'lo', rxPerSec: 999, txPerSec: 999 },
      { iface: 'eth0', rxPerSec: 10, txPerSec: 1 },
      { iface: 'wlan0', rxPerSec: 5, txPerSec: 2 },
    ];
    let series = withRatePoint([], 1, rates);
    // loopback stays out of the throughput line; the ceiling of socket rates ("all") counts it
    expect(series).toEqual([{ t: 1, rx: 15, tx: 3, all: 999 * 2 + 18 }]);
    // a second sample within half a period (a reconnect's extra one) is dropped
    expect(withRatePoint(series, 1 + RATE_SAMPLE_MS / 2 - 1, rates)).toBe(series);
    for (let i = 1; i <= RATE_POINTS + 10; i++) series = withRatePoint(series, 1 + i * RATE_SAMPLE_MS, rates);
    expect(series[0]?.t).toBe(1 + 11 * RATE_SAMPLE_MS); // rolling: the oldest went first
    expect(series).toHaveLength(RATE_POINTS);
  });
});

/** An API where every call fails: what the store's one error convention is for. */
function failingApi(): PortwatchApi {
  const no = async (): Promise<ApiResult<never>> => ({ ok: false, code: 'forbidden', message: 'this server is read-only' });
  const off = () => () => undefined;
  return {
    getState: no,
    setPollInterval: no,
    pausePolling: no,
    resumePolling: no,
    setReverseDns: no,
    getNetworkRates: no,
    getBaseline: no,
    markExpected: no,
    acceptAllListeners: no,
    editBaselineRule: no,
    removeBaselineRule: no,
    getAlerts: no,
    getAlertSettings: no,
    setAlertsIncludeLoopback: no,
    setFirstContact: no,
    muteAlerts: no,
    unmuteAlerts: no,
    snoozeAlerts: no,
    unsnoozeAlerts: no,
    clearAlerts: no,
    killProcess: no,
    closeConnection: no,
    getActionLog: no,
    historyFlows: no,
    historyListeners: no,
    historyEvents: no,
    historyTimeline: no,
    enableConntrackAccounting: no,
    getHistoryStatus: no,
    setRecording: no,
    onSnapshot: off,
    onDelta: off,
    onStatus: off,
    onHostNames: off,
    onBaseline: off,
    onAlert: off,
    onAlertSettings: off,
    onAction: off,
    onHistoryStatus: off,
    onConnection: off,
  };
}

describe('SocketStore commands: one error convention', () => {
  it('every command answers ok or why not, and a failure is shown once as the view error', async () => {
    const store = new SocketStore(failingApi());
    const answers = await Promise.all([
      store.setPollInterval(1000),
      store.togglePolling(),
      store.setReverseDns(true),
      store.markExpected('x'),
      store.acceptAllListeners([{ port: 80 }]),
      store.editBaselineRule({ port: 80 }, null),
      store.muteAlerts({ port: 80 }),
      store.snoozeAlerts(3_600_000),
      store.clearAlerts(),
      store.kill(5, null, false),
      store.closeConnection('x'),
    ]);
    for (const a of answers) expect(a).toEqual({ ok: false, code: 'forbidden', message: 'this server is read-only' });
    expect(store.getView().error).toBe('this server is read-only');
    expect(store.getView().pollingPaused).toBe(false);
  });

  it('samples throughput from start-up (not from when the charts open), bounded, and says why it cannot', async () => {
    let calls = 0;
    let fail = false;
    let t = 0;
    const api = {
      ...failingApi(),
      getNetworkRates: async (): Promise<ApiResult<InterfaceRate[]>> => (
        calls++,
        fail ? { ok: false, code: 'internal', message: 'no counters' } : { ok: true, value: [{ iface: 'eth0', rxPerSec: 10, txPerSec: 2 }] }
      ),
    };
    const store = new SocketStore(api, () => (t += 1000));
    expect(calls).toBe(0);
    store.start();
    // nobody opened a chart: the series fills anyway
    await waitFor(() => (store.getView().rates.length > 0 ? true : undefined), 5000, 'the first sample at start-up');
    expect(store.getView().rates[0]).toMatchObject({ rx: 10, tx: 2 });
    fail = true;
    await waitFor(() => store.getView().ratesError ?? undefined, 10_000, 'a failing sample');
    expect(store.getView().ratesError).toBe('no counters');
    store.stop();
  });

  it('a disconnected page keeps its series and shows no rates error (the status bar says disconnected)', async () => {
    const api = {
      ...failingApi(),
      getNetworkRates: async (): Promise<ApiResult<InterfaceRate[]>> => ({ ok: false, code: 'disconnected', message: 'not connected to Portwatch' }),
    };
    let answered: Promise<unknown> | null = null;
    const store = new SocketStore({ ...api, getNetworkRates: () => (answered = api.getNetworkRates()) });
    store.start();
    const first = await waitFor(() => answered ?? undefined, 5000, 'a sample');
    await first; // the store's own continuation ran before this one
    expect(store.getView().ratesError).toBeNull();
    expect(store.getView().rates).toEqual([]);
    store.stop();
  });
});

describe('the window arrangement, in one reducer', () => {
  it('Esc closes the innermost first; sorting a column twice reverses it; collapse all toggles', () => {
    const p = makeProcess(10, 'nginx');
    let s = uiReducer(INITIAL_UI, { type: 'select', id: 'a', open: true });
    s = uiReducer(s, { type: 'kill', plan: { ...planKill(10, []), process: p } });
    s = uiReducer(s, { type: 'escape' });
    expect([s.killPlan, s.detailsOpen]).toEqual([null, true]);
    s = uiReducer(s, { type: 'escape' });
    expect(s.detailsOpen).toBe(false);
    expect(uiReducer(s, { type: 'escape' })).toBe(s);
    s = uiReducer(s, { type: 'sort', col: 'local' });
    s = uiReducer(s, { type: 'sort', col: 'local' });
    expect(s.sort).toEqual({ col: 'local', dir: -1 });
    s = uiReducer(s, { type: 'collapseAll', keys: ['x', 'y'] });
    expect([...s.collapsed]).toEqual(['x', 'y']);
    expect(uiReducer(s, { type: 'collapseAll', keys: ['x', 'y'] }).collapsed.size).toBe(0);
  });

  it('"show me" of a socket the filter hides clears the filter, keeps it to restore, and a new query forgets it', () => {
    let s = uiReducer(INITIAL_UI, { type: 'query', query: 'proc:redis' });
    s = uiReducer(s, { type: 'toggle', key: 'hideTimeWait' });
    s = uiReducer(s, { type: 'revealHidden', id: 'tcp|0.0.0.0|9|*|*' });
    expect([s.query, s.toggles.hideTimeWait, s.selectedId, s.reveal]).toEqual(['', false, 'tcp|0.0.0.0|9|*|*', 1]);
    // a second one before restoring keeps the user's filter, not the empty one
    s = uiReducer(s, { type: 'revealHidden', id: 'b' });
    expect(s.clearedFilter?.query).toBe('proc:redis');
    const restored = uiReducer(s, { type: 'restoreFilter' });
    expect([restored.query, restored.toggles.hideTimeWait, restored.clearedFilter]).toEqual(['proc:redis', true, null]);
    expect(uiReducer(s, { type: 'query', query: 'x' }).clearedFilter).toBeNull();
    expect(uiReducer(INITIAL_UI, { type: 'restoreFilter' })).toBe(INITIAL_UI);
  });
});

describe('components never touch the API', () => {
  it('no component imports the contract, the API clients, or a PortwatchApi', () => {
    const dir = join(ROOT, 'src', 'renderer', 'src', 'components');
    for (const f of readdirSync(dir)) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text, f).not.toMatch(/shared\/contract|from '\.\.\/api|PortwatchApi/);
    }
    expect(readFileSync(join(ROOT, 'src', 'renderer', 'src', 'App.tsx'), 'utf8')).not.toMatch(/shared\/contract|PortwatchApi|\bapi\./);
  });
});

describe('RowTracker: highlights', () => {
  it('a busy connection whose rates move gets the new numbers without a highlight; a change of state still highlights', () => {
    let now = 0;
    const t = new RowTracker(() => now);
    const conn = makeSocket({ id: 'c', state: 'ESTABLISHED', listening: false, remoteAddress: '10.0.0.1', remotePort: 443, rateIn: 10, rateOut: 0 });
    t.replace([conn], () => true, 0);
    now = 10_000;
    t.apply({ seq: 2, takenAt: now, added: [], removed: [], changed: [{ ...conn, rateIn: 5000, bytesIn: 9999 }], closed: [] });
    expect(t.rows()[0]).toMatchObject({ change: null, socket: { rateIn: 5000, bytesIn: 9999 } });
    t.apply({ seq: 3, takenAt: now, added: [], removed: [], changed: [{ ...conn, rateIn: 0, state: 'CLOSE_WAIT' }], closed: [] });
    expect(t.rows()[0]?.change).toBe('changed');
  });
});
