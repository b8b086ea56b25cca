import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Monitor } from '../../../src/main/engine/monitor';
import { AUTH_REFUSED, CODE_TTL_MS, startServer, type RunningServer } from '../../../src/main/server';
import { browserCommand } from '../../../src/main/cli/webui';
import { WS_PATH, type WsMessage } from '../../../src/shared/api';
import type { Socket } from '../../../src/shared/model';
import { waitFor } from '../../helpers/children';
import { ROOT } from '../../helpers/paths';
import { join } from 'node:path';
import { makeSocket } from '../../helpers/sockets';
import { readMessage } from '../../helpers/wire';

const STATIC = join(ROOT, 'out', 'renderer');

const sock = (port: number): Socket => makeSocket({ id: `tcp|127.0.0.1|${port}|*|*|1`, localPort: port, pid: 1, pids: [1] });

interface Http {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Http> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { Host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const received = new WeakMap<WebSocket, WsMessage[]>();

/**
 * Opens a WebSocket; resolves with it once open, or with the HTTP status it was refused with. Messages are
 * collected from the start (the server speaks first), see collect().
 */
function ws(port: number, opts: { token?: string; code?: string; origin?: string | null; host?: string; cookie?: string }): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { Host: opts.host ?? `127.0.0.1:${port}` };
    if (opts.origin !== null) headers.Origin = opts.origin ?? `http://127.0.0.1:${port}`;
    if (opts.cookie) headers.Cookie = opts.cookie;
    const socket = new WebSocket(`ws://127.0.0.1:${port}${WS_PATH}`, { headers });
    const got: WsMessage[] = [];
    received.set(socket, got);
    socket.on('message', (d) => {
      const m = readMessage(d);
      if (m.type === 'welcome') resolve(socket);
      else got.push(m);
    });
    // the credential is the first message, never part of the request
    socket.once('open', () =>
      socket.send(JSON.stringify(opts.code !== undefined ? { type: 'hello', code: opts.code } : { type: 'hello', token: opts.token ?? '' })),
    );
    socket.once('close', (code) => resolve(code === AUTH_REFUSED ? 401 : -code || -1));
    socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.once('error', () => resolve(-1));
  });
}

/** The welcome's token, from a socket opened by ws(). */
function welcomed(socket: WebSocket | number): WebSocket {
  expect(socket).toBeInstanceOf(WebSocket);
  return socket as WebSocket;
}

function collect(socket: WebSocket): WsMessage[] {
  return received.get(socket) as WsMessage[];
}

describe('web server', () => {
  let monitor: Monitor;
  let server: RunningServer;
  let sockets: Socket[];

  beforeEach(async () => {
    sockets = [sock(80)];
    monitor = new Monitor({ source: { name: 'procfs', list: () => Promise.resolve({ sockets, warnings: [] }) }, intervalMs: 250 });
    monitor.start();
    await waitFor(() => monitor.getSnapshot() ?? undefined, 5000, 'first poll');
    server = await startServer({ monitor, staticDir: STATIC, port: 0, token: 'secret-token-123' });
  });
  afterEach(async () => {
    await server.close();
    await monitor.stop();
  });

  it('binds loopback and prints a URL carrying the token in its fragment, which no request carries', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/#token=secret-token-123`);
  });

  it('serves the UI without a token (it is public) and sets no cookie; the WebSocket is what needs the token', async () => {
    const ok = await get(server.port, '/');
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('<div id="root">');
    expect(ok.headers['content-security-policy']).toContain("default-src 'none'");
    expect(ok.headers['referrer-policy']).toBe('no-referrer');
    expect(ok.headers['set-cookie']).toBeUndefined();
    expect(JSON.stringify(ok.headers)).not.toContain('secret-token-123');
    const asset = /src="(\.?\/assets\/[^"]+\.js)"/.exec(ok.body)?.[1]?.replace(/^\./, '') as string;
    const js = await get(server.port, asset);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['set-cookie']).toBeUndefined();
  });

  it('refuses a foreign Host header (DNS rebinding), path traversal and other methods', async () => {
    expect((await get(server.port, '/', { Host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await get(server.port, '/', { Host: `127.0.0.1:1` })).status).toBe(403);
    expect((await get(server.port, '/', { Host: `localhost:${server.port}` })).status).toBe(200);
    expect((await get(server.port, '/../../../../etc/passwd')).status).toBe(404);
    expect((await get(server.port, '/%2e%2e/%2e%2e/package.json')).status).toBe(404);
    expect((await get(server.port, '/%E0%A4%A')).status).toBe(400);
  });

  it('refuses WebSockets without the token, with a foreign Origin, or a foreign Host, and a cookie is no credential', async () => {
    expect(await ws(server.port, {})).toBe(401);
    expect(await ws(server.port, { token: 'nope' })).toBe(401);
    expect(await ws(server.port, { token: 'secret-token-12' })).toBe(401);
    expect(await ws(server.port, { cookie: 'portwatch_token=secret-token-123' })).toBe(401);
    expect(await ws(server.port, { token: 'secret-token-123', origin: 'http://evil.example' })).toBe(403);
    expect(await ws(server.port, { token: 'secret-token-123', origin: null })).toBe(403);
    expect(await ws(server.port, { token: 'secret-token-123', host: `evil.example:${server.port}`, origin: `http://evil.example:${server.port}` })).toBe(403);
    welcomed(await ws(server.port, { token: 'secret-token-123' })).close();
  });

  it('a refused WebSocket gets nothing: no snapshot, no answers', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}${WS_PATH}`, { headers: { Origin: `http://127.0.0.1:${server.port}` } });
    const got: string[] = [];
    socket.on('message', (d) => got.push(String(d)));
    await new Promise((r) => socket.once('open', r));
    // a request in place of the hello
    socket.send(JSON.stringify({ id: 1, method: 'getState', args: [] }));
    const [code, reason] = await new Promise<[number, string]>((r) => socket.once('close', (c, why) => r([c, String(why)])));
    expect([code, reason]).toEqual([AUTH_REFUSED, 'no token']);
    expect(got).toEqual([]);
  });

  it('--open: the browser command carries a one-time code, not the token; the code works once, and not after 60 s', async () => {
    const [cmd, args] = browserCommand(server.openUrl(), 'linux');
    expect(cmd).toBe('xdg-open');
    const argv = [cmd, ...args].join(' ');
    expect(argv).not.toContain('secret-token-123');
    const code = /^http:\/\/127\.0\.0\.1:\d+\/#code=([\w-]{20,})$/.exec(args[0] as string)?.[1] as string;
    expect(code).toBeDefined();
    for (const platform of ['darwin', 'win32'] as const) expect(browserCommand(`u#code=${code}`, platform)[1].join(' ')).not.toContain('secret-token-123');
    // the code is traded for the token over the WebSocket
    const first = new WebSocket(`ws://127.0.0.1:${server.port}${WS_PATH}`, { headers: { Origin: `http://127.0.0.1:${server.port}` } });
    const welcome = new Promise<unknown>((r) => first.once('message', (d) => r(JSON.parse(String(d)))));
    first.once('open', () => first.send(JSON.stringify({ type: 'hello', code })));
    expect(await welcome).toEqual({ type: 'welcome', token: 'secret-token-123' });
    first.close();
    // once only
    expect(await ws(server.port, { code })).toBe(401);
    // and not when late
    let now = Date.now();
    const timed = await startServer({ monitor, staticDir: STATIC, port: 0, token: 't'.repeat(24), now: () => now });
    try {
      const late = /#code=(.+)$/.exec(timed.openUrl())?.[1] as string;
      const inTime = /#code=(.+)$/.exec(timed.openUrl())?.[1] as string;
      now += CODE_TTL_MS - 1;
      welcomed(await ws(timed.port, { code: inTime })).close();
      now += 2;
      expect(await ws(timed.port, { code: late })).toBe(401);
    } finally {
      await timed.close();
    }
  });

  it('speaks PortwatchApi: a snapshot on connect, deltas, answers, and typed errors for bad messages', async () => {
    const socket = welcomed(await ws(server.port, { token: 'secret-token-123' }));
    const got = collect(socket);
    await waitFor(() => got.find((m) => m.type === 'event' && m.event === 'snapshot'), 5000, 'snapshot');
    sockets = [sock(80), sock(443)];
    const delta = await waitFor(
      () => got.find((m) => m.type === 'event' && m.event === 'delta' && (m.data as { added: Socket[] }).added.length > 0),
      5000,
      'delta',
    );
    expect((delta as { data: { added: Socket[] } }).data.added.map((s) => s.localPort)).toEqual([443]);

    const send = (raw: string | object): void => socket.send(typeof raw === 'string' ? raw : JSON.stringify(raw));
    send({ id: 1, method: 'getState', args: [] });
    send({ id: 2, method: 'setPollInterval', args: [500] });
    send({ id: 3, method: 'setPollInterval', args: ['500'] });
    send({ id: 4, method: 'setPollInterval', args: [null] });
    send({ id: 5, method: 'nope', args: [] });
    send({ id: 6, method: 'getState', args: [], extra: true });
    send('{not json');
    send({ id: -1, method: 'getState', args: [] });
    send({ id: 7, method: 'setPollInterval', args: [1e308] });
    send({ id: 8, method: 'x'.repeat(10_000), args: [] });
    const result = (id: number | null): WsMessage | undefined => got.find((m) => m.type === 'result' && m.id === id);
    const nullIds = (): WsMessage[] => got.filter((m) => m.type === 'result' && m.id === null);
    await waitFor(() => (result(7) && nullIds().length === 4 ? true : undefined), 5000, 'answers');
    const r1 = result(1) as { result: { ok: true; value: { snapshot: { sockets: Socket[] }; intervalMs: number } } };
    expect(r1.result.ok).toBe(true);
    expect(r1.result.value.snapshot.sockets.map((s) => s.localPort).sort()).toEqual([443, 80]);
    expect(result(2)).toMatchObject({ result: { ok: true, value: 500 } });
    expect(monitor.getIntervalMs()).toBe(500);
    for (const id of [3, 4, 7]) expect(result(id), String(id)).toMatchObject({ result: { ok: false, code: 'bad-request' } });
    expect(result(5)).toMatchObject({ result: { ok: false, code: 'unknown-method' } });
    // extra key, bad JSON, negative id, a 10,000-character method name: refused before dispatch
    for (const m of nullIds()) expect(m).toMatchObject({ result: { ok: false, code: 'bad-request' } });
    expect(result(8)).toBeUndefined();
    // the server survived all of it
    expect(socket.readyState).toBe(WebSocket.OPEN);
    socket.close();
  });

  it('a reconnecting client gets a fresh snapshot', async () => {
    const first = welcomed(await ws(server.port, { token: 'secret-token-123' }));
    const got1 = collect(first);
    await waitFor(() => got1.find((m) => m.type === 'event' && m.event === 'snapshot'), 5000, 'snapshot 1');
    first.terminate();
    sockets = [sock(80), sock(8080)];
    await waitFor(() => (monitor.getSnapshot()?.sockets.length === 2 ? true : undefined), 5000, 'engine sees 8080');
    const second = welcomed(await ws(server.port, { token: 'secret-token-123' }));
    const got2 = collect(second);
    const snap = await waitFor(() => got2.find((m) => m.type === 'event' && m.event === 'snapshot'), 5000, 'snapshot 2');
    expect(((snap as { data: { sockets: Socket[] } }).data.sockets.map((s) => s.localPort) ?? []).sort()).toEqual([80, 8080]);
    second.close();
  });

  it('will not bind a non-loopback address unless told to', async () => {
    await expect(startServer({ monitor, staticDir: STATIC, host: '0.0.0.0', port: 0 })).rejects.toThrow(/--allow-remote/);
    const open = await startServer({ monitor, staticDir: STATIC, host: '0.0.0.0', port: 0, allowRemote: true, token: 't' });
    try {
      expect((await get(open.port, '/')).status).toBe(200);
      expect((await get(open.port, '/', { Host: `attacker.example:${open.port}` })).status).toBe(403);
    } finally {
      await open.close();
    }
  });
});
