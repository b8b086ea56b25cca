import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RefusedClient } from '../../../src/main/server';
import { hostForUrl, ownAddresses } from '../../../src/main/server/host';
import { isLoopbackAddress, peerUid } from '../../../src/main/server/peer';
import { WS_PATH, type ApiResult, type WsMessage } from '../../../src/shared/api';
import { API_METHODS, rightOf } from '../../../src/shared/contract';
import { isRunning } from '../../helpers/children';
import { ROOT } from '../../helpers/paths';
import { readMessage } from '../../helpers/wire';
import { serversPerTest } from '../../helpers/servers';

/**
 * Who may come in (a loopback client's socket owner) and what it may do (view, or also change things).
 * The test process runs as root; the other local user is nobody (65534), through setpriv.
 */

const STATIC = join(ROOT, 'out', 'renderer');
const TOKEN = 'secret-token-123';
const NOBODY = 65534;

/** A WebSocket client run as nobody: prints 'welcome', or the HTTP status it was refused with. */
const CLIENT = `
const WebSocket = require(${JSON.stringify(join(ROOT, 'node_modules', 'ws'))});
const [host, port, token] = process.argv.slice(1);
const ws = new WebSocket('ws://' + host + ':' + port + ${JSON.stringify(WS_PATH)}, { headers: { Origin: 'http://' + host + ':' + port } });
ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', token })));
ws.on('message', (d) => { if (JSON.parse(String(d)).type === 'welcome') { console.log('welcome'); process.exit(0); } });
ws.on('unexpected-response', (_q, res) => { console.log('status ' + res.statusCode); process.exit(0); });
ws.on('close', (code) => { console.log('closed ' + code); process.exit(0); });
ws.on('error', (e) => { console.log('error ' + e.message); process.exit(0); });
`;

function asNobody(port: number, address = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'setpriv',
      [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, '-e', CLIENT, hostForUrl(address), String(port), TOKEN],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', () => resolve(out.trim()));
  });
}

/** A welcomed WebSocket from this (root) process, or the HTTP status it was refused with. */
function open(address: string, port: number): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const origin = `http://${hostForUrl(address)}:${port}`;
    const ws = new WebSocket(`ws://${hostForUrl(address)}:${port}${WS_PATH}`, { headers: { Origin: origin } });
    ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', token: TOKEN })));
    ws.on('message', (d) => {
      if ((JSON.parse(String(d)) as { type: string }).type === 'welcome') resolve(ws);
    });
    ws.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
    ws.once('close', (code) => resolve(-code));
    ws.once('error', () => resolve(-1));
  });
}

/** Sends one request and waits for its answer. */
let nextId = 1;
function call(ws: WebSocket, method: string, ...args: unknown[]): Promise<ApiResult<unknown>> {
  const id = nextId++;
  return new Promise((resolve) => {
    const on = (d: WebSocket.RawData): void => {
      const m = readMessage<WsMessage>(d);
      if (m.type !== 'result' || m.id !== id) return;
      ws.off('message', on);
      resolve(m.result);
    };
    ws.on('message', on);
    ws.send(JSON.stringify({ id, method, args }));
  });
}

describe('serve: who gets in and what they may do', () => {
  const { monitor, start } = serversPerTest({ staticDir: STATIC, token: TOKEN });
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  it('refuses another local user that has the token (403, and says whose connection it was), lets root in, and --allow-user lets nobody in', async () => {
    expect(process.geteuid?.()).toBe(0);
    const refused: RefusedClient[] = [];
    const server = await start({ onRefused: (who) => refused.push(who) });
    expect(await asNobody(server.port)).toBe('status 403');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ uid: NOBODY, user: 'nobody', address: '127.0.0.1' });
    const root = await open('127.0.0.1', server.port);
    expect(root).toBeInstanceOf(WebSocket);
    (root as WebSocket).close();
    expect(refused).toHaveLength(1);

    const allowing = await start({ allowUsers: [NOBODY] });
    expect(await asNobody(allowing.port)).toBe('welcome');
  }, 20_000);

  it('finds the owner of an IPv6 loopback client too', async () => {
    const refused: RefusedClient[] = [];
    const server = await start({ host: '::1', onRefused: (who) => refused.push(who) });
    expect(await asNobody(server.port, '::1')).toBe('status 403');
    expect(refused).toMatchObject([{ uid: NOBODY, user: 'nobody', address: '::1' }]);
    const ws = await open('::1', server.port);
    expect(ws).toBeInstanceOf(WebSocket);
    (ws as WebSocket).close();
    expect(refused).toHaveLength(1);
    expect(isLoopbackAddress('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('192.0.2.1')).toBe(false);
    // a tuple no socket has
    expect(peerUid({ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 2 })).toBeNull();
  });

  it('a read-only server refuses killProcess and every other change, and changes nothing; reading still works; a normal one allows changes', async () => {
    const victim = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(victim);
    const server = await start({ readOnly: true });
    const ws = (await open('127.0.0.1', server.port)) as WebSocket;
    expect(ws).toBeInstanceOf(WebSocket);
    const forbidden = { ok: false, code: 'forbidden', message: 'this server is read-only' };
    expect(await call(ws, 'killProcess', victim.pid, null, true)).toEqual(forbidden);
    expect(await call(ws, 'pausePolling')).toEqual(forbidden);
    expect(await call(ws, 'setPollInterval', 1000)).toEqual(forbidden);
    expect(await call(ws, 'acceptAllListeners')).toEqual(forbidden);
    expect(await call(ws, 'closeConnection', 'tcp|127.0.0.1|1|127.0.0.1|2|1')).toEqual(forbidden);
    expect(await call(ws, 'markExpected', 'tcp|127.0.0.1|80|*|*|1')).toEqual(forbidden);
    // every change method, the alert and rule controls included, whatever its arguments
    for (const m of API_METHODS.filter((x) => rightOf(x) === 'change')) expect(await call(ws, m), m).toEqual(forbidden);
    expect(await call(ws, 'getAlertSettings')).toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 200));
    expect(isRunning(victim.pid as number)).toBe(true);
    expect(monitor().isPaused()).toBe(false);
    expect(monitor().getIntervalMs()).toBe(250);
    const state = await call(ws, 'getState');
    expect(state.ok).toBe(true);
    expect(await call(ws, 'getActionLog')).toEqual({ ok: true, value: [] });
    expect(await call(ws, 'nope')).toMatchObject({ ok: false, code: 'unknown-method' });
    ws.close();

    // a normal server lets a local client change things
    const normal = await start();
    const ws2 = (await open('127.0.0.1', normal.port)) as WebSocket;
    expect(await call(ws2, 'pausePolling')).toEqual({ ok: true, value: null });
    expect(monitor().isPaused()).toBe(true);
    expect(await call(ws2, 'resumePolling')).toEqual({ ok: true, value: null });
    expect(await call(ws2, 'setPollInterval', 1000)).toEqual({ ok: true, value: 1000 });
    expect(monitor().getIntervalMs()).toBe(1000);
    ws2.close();
  });

  const lan = [...ownAddresses()].find((a) => !isLoopbackAddress(a) && !a.includes(':'));
  it.skipIf(lan === undefined)('a client from another address is read-only unless remoteControl is given', async () => {
    const address = lan as string;
    const viewOnly = await start({ host: '0.0.0.0', allowRemote: true });
    const ws = (await open(address, viewOnly.port)) as WebSocket;
    expect(ws).toBeInstanceOf(WebSocket);
    expect(await call(ws, 'pausePolling')).toEqual({ ok: false, code: 'forbidden', message: 'this server is read-only' });
    expect(monitor().isPaused()).toBe(false);
    expect((await call(ws, 'getState')).ok).toBe(true);
    ws.close();
    // the same server still trusts a loopback client, by its user
    const local = (await open('127.0.0.1', viewOnly.port)) as WebSocket;
    expect(await call(local, 'pausePolling')).toEqual({ ok: true, value: null });
    await call(local, 'resumePolling');
    local.close();
    const controlled = await start({ host: '0.0.0.0', allowRemote: true, remoteControl: true });
    const ws2 = (await open(address, controlled.port)) as WebSocket;
    expect(await call(ws2, 'pausePolling')).toEqual({ ok: true, value: null });
    ws2.close();
  });
});
