import { describe, expect, it } from 'vitest';
import { bySocket, groupByProcess, hiddenOwnerLabel } from '../../src/renderer/src/store/groups';
import { SocketStore } from '../../src/renderer/src/store/socketStore';
import type { ApiResult, EngineState, PortwatchApi } from '../../src/shared/api';
import type { Delta, MonitorStatus, ProcessInfo, Snapshot, Socket } from '../../src/shared/model';

function sock(id: string, over: Partial<Socket> = {}): Socket {
  return {
    id,
    protocol: 'tcp',
    family: 4,
    localAddress: '127.0.0.1',
    localPort: 80,
    remoteAddress: null,
    remotePort: null,
    state: 'LISTEN',
    listening: true,
    pid: null,
    pids: [],
    uid: 0,
    user: 'root',
    ownerHidden: false,
    process: null,
    ...over,
  };
}
const proc = (pid: number, name: string): ProcessInfo => ({ pid, ppid: 1, name, exe: null, cmdline: [name], uid: 0, user: 'root', startTime: 1000 + pid });
const snap = (seq: number, sockets: Socket[]): Snapshot => ({ seq, takenAt: seq * 1000, source: 'procfs', sockets });
const delta = (seq: number, d: Partial<Delta> = {}): Delta => ({ seq, takenAt: seq * 1000, added: [], removed: [], changed: [], ...d });

/** A scripted engine: the test pushes events and decides what getState answers. */
class FakeApi implements PortwatchApi {
  l = { snapshot: [] as Array<(s: Snapshot) => void>, delta: [] as Array<(d: Delta) => void>, status: [] as Array<(s: MonitorStatus) => void>, conn: [] as Array<(c: boolean) => void> };
  state: EngineState = { snapshot: null, status: null, intervalMs: 1000, paused: false, elevated: false };
  stateCalls = 0;
  getState = async (): Promise<ApiResult<EngineState>> => {
    this.stateCalls++;
    return { ok: true, value: this.state };
  };
  onSnapshot = (f: (s: Snapshot) => void) => (this.l.snapshot.push(f), () => {});
  onDelta = (f: (d: Delta) => void) => (this.l.delta.push(f), () => {});
  onStatus = (f: (s: MonitorStatus) => void) => (this.l.status.push(f), () => {});
  onConnection = (f: (c: boolean) => void) => (this.l.conn.push(f), () => {});
  setInterval = async (ms: number): Promise<ApiResult<number>> => (ms < 250 ? { ok: false, code: 'bad-request', message: 'too fast' } : { ok: true, value: ms });
  pause = async (): Promise<ApiResult<null>> => ({ ok: true, value: null });
  resume = async (): Promise<ApiResult<null>> => ({ ok: true, value: null });
  push = {
    snapshot: (s: Snapshot) => this.l.snapshot.forEach((f) => f(s)),
    delta: (d: Delta) => this.l.delta.forEach((f) => f(d)),
    connected: (c: boolean) => this.l.conn.forEach((f) => f(c)),
  };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('SocketStore', () => {
  it('subscribes, then loads the state; deltas that raced ahead are applied in order, old ones dropped', async () => {
    const api = new FakeApi();
    api.state.snapshot = snap(5, [sock('a'), sock('b')]);
    const store = new SocketStore(api);
    let renders = 0;
    store.subscribe(() => renders++);
    store.start();
    api.push.delta(delta(6, { added: [sock('c')] })); // arrives before the state answer
    api.push.delta(delta(4, { added: [sock('old')] }));
    api.push.connected(true);
    await tick();
    const v = store.getView();
    expect([...v.sockets.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(v.seq).toBe(6);
    expect(v.connected).toBe(true);
    expect(renders).toBeGreaterThan(0);
    api.push.delta(delta(7, { removed: ['a'], changed: [sock('b', { state: 'CLOSE_WAIT' })] }));
    expect([...store.getView().sockets.keys()].sort()).toEqual(['b', 'c']);
    expect(store.getView().sockets.get('b')?.state).toBe('CLOSE_WAIT');
  });

  it('a gap in seq asks the engine again instead of guessing', async () => {
    const api = new FakeApi();
    api.state.snapshot = snap(1, [sock('a')]);
    const store = new SocketStore(api);
    store.start();
    api.push.connected(true);
    await tick();
    expect(api.stateCalls).toBe(1);
    api.state.snapshot = snap(9, [sock('z')]);
    api.push.delta(delta(9, { added: [sock('y')] })); // 2..8 never came
    await tick();
    expect(api.stateCalls).toBe(2);
    expect([...store.getView().sockets.keys()]).toEqual(['z']);
    expect(store.getView().seq).toBe(9);
  });

  it('a pushed snapshot replaces everything (reconnect, engine restart)', async () => {
    const api = new FakeApi();
    api.state.snapshot = snap(3, [sock('a')]);
    const store = new SocketStore(api);
    store.start();
    api.push.connected(true);
    await tick();
    api.push.connected(false);
    expect(store.getView().connected).toBe(false);
    api.push.snapshot(snap(1, [sock('fresh')])); // a restarted engine counts from 1 again
    expect([...store.getView().sockets.keys()]).toEqual(['fresh']);
    api.push.delta(delta(2, { added: [sock('next')] }));
    expect(store.getView().sockets.size).toBe(2);
  });

  it('reports a refused action once, and keeps the interval the engine confirmed', async () => {
    const api = new FakeApi();
    const store = new SocketStore(api);
    store.start();
    await store.setIntervalMs(100);
    expect(store.getView().error).toBe('too fast');
    await store.setIntervalMs(500);
    expect(store.getView()).toMatchObject({ intervalMs: 500, error: null });
    await store.togglePause();
    expect(store.getView().paused).toBe(true);
  });
});

describe('groupByProcess', () => {
  it('groups by owning process, hidden owners by uid, listeners first, with their ports', () => {
    const groups = groupByProcess(
      [
        sock('1', { pid: 10, pids: [10], process: proc(10, 'nginx'), localPort: 443 }),
        sock('2', { pid: 10, pids: [10, 11], process: proc(10, 'nginx'), localPort: 80 }),
        sock('3', { pid: 10, pids: [10], process: proc(10, 'nginx'), listening: false, state: 'ESTABLISHED', remoteAddress: '10.0.0.2', remotePort: 5000 }),
        sock('4', { pid: 20, pids: [20], process: proc(20, 'curl'), listening: false, state: 'ESTABLISHED', remoteAddress: '1.1.1.1', remotePort: 443 }),
        sock('5', { ownerHidden: true, uid: 1000, user: 'alice', localPort: 5432 }),
        sock('6', { state: 'TIME_WAIT', listening: false, remoteAddress: '1.1.1.1', remotePort: 443 }),
      ],
      false,
    );
    expect(groups.map((g) => [g.name, g.sockets.length, g.ports])).toEqual([
      ['nginx', 3, [80, 443]],
      [hiddenOwnerLabel(false), 1, [5432]],
      ['curl', 1, []],
      ['no process (kernel-held: TIME_WAIT and such)', 1, []],
    ]);
    expect(groups[1]).toMatchObject({ hidden: true, user: 'alice' });
    expect([...(groups[0]?.sockets ?? [])].sort(bySocket).map((s) => s.id)).toEqual(['2', '1', '3']);
    expect(hiddenOwnerLabel(true)).toMatch(/another pid namespace/);
  });
});
