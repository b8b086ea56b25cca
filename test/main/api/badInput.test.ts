import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EngineApi } from '../../../src/main/api/engineApi';
import { bindIpc } from '../../../src/main/electron/ipc';
import { Monitor } from '../../../src/main/engine/monitor';
import { startServer } from '../../../src/main/server';
import { ipcInvokeChannel, WS_PATH, type ApiResult, type WsMessage } from '../../../src/shared/api';
import { API_METHODS, type ApiMethod } from '../../../src/shared/contract';
import { ROOT } from '../../helpers/paths';
import { readAcct } from '../../helpers/traffic';

/** What every method must refuse: wrong types, missing and extra arguments, huge strings, odd numbers. */
const HOSTILE: unknown[] = [
  '',
  'x'.repeat(100_000),
  NaN,
  Infinity,
  -Infinity,
  -1,
  0,
  2 ** 53,
  1.5,
  null,
  undefined,
  true,
  {},
  [],
  { __proto__: { polluted: 1 } },
  JSON.parse('{"__proto__": {"polluted": 1}}'),
  () => 1,
  Symbol('s'),
];

/** One valid argument list per method: each hostile attempt below is one of these with something wrong. */
const VALID: Record<string, unknown[]> = {
  getState: [],
  setPollInterval: [1000],
  pausePolling: [],
  resumePolling: [],
  setReverseDns: [false],
  getNetworkRates: [],
  getBaseline: [],
  markExpected: ['id'],
  acceptAllListeners: [[{ port: 22 }]],
  editBaselineRule: [{ port: 22 }, { port: 23 }],
  removeBaselineRule: [{ port: 22 }],
  getAlerts: [],
  getAlertSettings: [],
  setAlertsIncludeLoopback: [true],
  setFirstContact: [true],
  muteAlerts: [{ port: 3000 }],
  unmuteAlerts: [{ process: 'node server.js' }],
  snoozeAlerts: [3_600_000],
  unsnoozeAlerts: [],
  clearAlerts: [],
  killProcess: [12345, null, false],
  closeConnection: ['id'],
  getActionLog: [],
  historyFlows: [{ since: 0, until: 3_600_000 }, 'proc:curl'],
  historyListeners: [{ since: 0, until: 3_600_000 }, null],
  historyEvents: [
    { program: '/usr/bin/curl', remoteAddress: '127.0.0.1', port: 443, protocol: 'tcp', direction: 'out' },
    { since: 0, until: 3_600_000 },
  ],
  historyTimeline: [{ since: 0, until: 3_600_000 }, 60],
  enableConntrackAccounting: [],
  getHistoryStatus: [],
  setRecording: [false],
};

function attempts(method: string): unknown[] {
  const good = VALID[method] as unknown[];
  return [
    'not an array',
    null,
    {},
    [...good, 'extra'],
    ...good.map((_, i) => good.slice(0, i)), // missing arguments
    // each argument replaced by a value of another kind (a nullable number, startTime, keeps its numbers)
    ...good.flatMap((_, i) =>
      HOSTILE.filter((h) => (good[i] === null ? h !== null && typeof h !== 'number' : typeof h !== typeof good[i] || h === null)).map((h) =>
        good.map((g, j) => (j === i ? h : g)),
      ),
    ),
    // and the numbers that are out of range where a number is wanted
    ...good.flatMap((g, i) => (typeof g === 'number' ? [NaN, Infinity, -1, 0, 1.5, 2 ** 53].map((h) => good.map((x, j) => (j === i ? h : x))) : [])),
  ];
}

const shown = (method: string, args: unknown): string =>
  `${method}(${Array.isArray(args) ? args.map((a) => (typeof a === 'symbol' ? 'Symbol' : typeof a === 'string' ? a.slice(0, 20) : typeof a)).join(', ') : typeof args})`;

type Call = (method: string, args: unknown) => Promise<ApiResult<unknown>>;

/**
 * The same hostile calls through each way in: the dispatcher itself, Electron IPC (as bound to ipcMain) and a
 * real WebSocket to the web server. Every one answers a typed error, nothing throws, and nothing changes.
 */
describe('every API method against hostile arguments', () => {
  let dir: string;
  let baselinePath: string;
  let monitor: Monitor;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pw-bad-'));
    baselinePath = join(dir, 'baseline.json');
    monitor = new Monitor({ source: { name: 'procfs', list: () => Promise.resolve({ sockets: [], warnings: [] }) }, intervalMs: 1000 });
    await monitor.pollOnce();
  });
  afterEach(async () => {
    await monitor.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function expectAllRefused(call: Call, only: (args: unknown) => boolean = () => true): Promise<void> {
    const acctBefore = readAcct();
    expect(Object.keys(VALID).sort()).toEqual([...API_METHODS].sort());
    let calls = 0;
    for (const method of API_METHODS) {
      for (const args of attempts(method).filter(only)) {
        calls++;
        const r = await call(method, args);
        expect(r.ok, shown(method, args)).toBe(false);
        if (!r.ok) expect(r.code, shown(method, args)).toBe('bad-request');
      }
    }
    expect(calls).toBeGreaterThan(100);
    // nothing moved
    expect(monitor.getIntervalMs()).toBe(1000);
    expect(monitor.isPaused()).toBe(false);
    expect(existsSync(baselinePath)).toBe(false);
    expect(readAcct()).toBe(acctBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }

  it('the dispatcher behind both transports', async () => {
    const d = new EngineApi(monitor, { baselinePath });
    await expectAllRefused((method, args) => d.call(method, args));
    for (const name of ['__proto__', 'constructor', 'toString', 'x'.repeat(10_000), 42, null]) {
      expect(await d.call(name, [])).toMatchObject({ ok: false, code: 'unknown-method' });
    }
  });

  it('Electron IPC, as bound to ipcMain, from the trusted window', async () => {
    type Handler = (event: { senderFrame: unknown }, ...args: unknown[]) => Promise<ApiResult<unknown>>;
    const handlers = new Map<string, Handler>();
    const ipcMain = { handle: (c: string, h: Handler) => handlers.set(c, h), removeHandler: (c: string) => handlers.delete(c) };
    const frame = { url: 'file:///app/index.html' };
    bindIpc(ipcMain as never, new EngineApi(monitor, { baselinePath }), (f) => f === (frame as never));
    // ipcRenderer.invoke spreads the arguments: a non-array cannot arrive, so those attempts are left out
    await expectAllRefused(
      (method, args) => (handlers.get(ipcInvokeChannel(method as ApiMethod)) as Handler)({ senderFrame: frame }, ...(args as unknown[])),
      Array.isArray,
    );
  });

  it('a real WebSocket to the web server', async () => {
    const server = await startServer({ monitor, staticDir: join(ROOT, 'out', 'renderer'), port: 0, token: 'bad-input-token', baselinePath });
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}${WS_PATH}`, { headers: { Origin: `http://127.0.0.1:${server.port}` } });
    // one call at a time: a message refused before dispatch (args not a list) is answered with id null
    let waiting: ((r: ApiResult<unknown>) => void) | null = null;
    let id = 0;
    socket.on('message', (d) => {
      const m = JSON.parse(String(d)) as WsMessage;
      if (m.type === 'result' && (m.id === id || m.id === null)) waiting?.(m.result);
    });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(JSON.stringify({ type: 'hello', token: 'bad-input-token' }));
    const call: Call = (method, args) =>
      new Promise((resolve) => {
        waiting = resolve;
        socket.send(JSON.stringify({ id: ++id, method, args }));
      });
    try {
      // only what JSON can carry reaches a server: NaN, undefined, functions and symbols arrive as null or not
      // at all, which other attempts cover (and could make a valid call of a hostile one)
      // and what fits in a message: a larger one (the 100,000-character string) closes the connection, below
      await expectAllRefused(call, (args) => isDeepJsonEqual(args) && JSON.stringify(args).length < 60_000);
      expect(socket.readyState).toBe(WebSocket.OPEN);

      // a message over 64 KiB: that connection is closed as too big (1009); the server serves on, unchanged
      const closed = new Promise<number>((resolve) => socket.once('close', resolve));
      socket.send(JSON.stringify({ id: ++id, method: 'markExpected', args: ['x'.repeat(100_000)] }));
      expect(await closed).toBe(1009);
      const again = new WebSocket(`ws://127.0.0.1:${server.port}${WS_PATH}`, { headers: { Origin: `http://127.0.0.1:${server.port}` } });
      const answer = new Promise<WsMessage>((resolve) =>
        again.on('message', (d) => ((m: WsMessage) => m.type === 'result' && resolve(m))(JSON.parse(String(d)) as WsMessage)),
      );
      await new Promise((resolve, reject) => again.once('open', resolve).once('error', reject));
      again.send(JSON.stringify({ type: 'hello', token: 'bad-input-token' }));
      again.send(JSON.stringify({ id: 1, method: 'getBaseline', args: [] }));
      expect(await answer).toMatchObject({ type: 'result', id: 1, result: { ok: true } });
      again.close();
      expect(existsSync(baselinePath)).toBe(false);
    } finally {
      socket.close();
      await server.close();
    }
  });
});

/** Whether JSON carries `v` as it is. */
function isDeepJsonEqual(v: unknown): boolean {
  try {
    return JSON.stringify(v) !== undefined && !containsNonJson(v);
  } catch {
    return false;
  }
}

function containsNonJson(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return true;
  if (Array.isArray(v)) return v.some(containsNonJson);
  if (v !== null && typeof v === 'object') return Object.getPrototypeOf(v) !== Object.prototype || Object.values(v).some(containsNonJson);
  return false;
}
