import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket as NetSocket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_CONNECTIONS, isLoopback, startServer } from '../../../src/main/server';
import { WS_PATH } from '../../../src/shared/api';
import { waitFor } from '../../helpers/children';
import { ROOT } from '../../helpers/paths';
import { serversPerTest } from '../../helpers/servers';

/**
 * The security review's local attacker: no token, but free to open connections and pick Host headers.
 * Every connection goes to 127.0.0.1; only the Host header names other addresses.
 */

const STATIC = join(ROOT, 'out', 'renderer');
const TOKEN = 'secret-token-123';

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { Host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(5_000, () => req.destroy(new Error('no answer')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * A raw TCP connection to the server that says nothing; `closed` resolves when the server drops it, and
 * `received` counts the bytes it was sent (Node's own request timeout answers 408 before it closes; the
 * server's idle limit closes without a word).
 */
function idle(port: number): { socket: NetSocket; closed: Promise<void>; received: () => number } {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  let received = 0;
  // read whatever the server says, or 'close' would wait for the data to be consumed
  socket.on('data', (d: Buffer) => (received += d.length));
  return { socket, closed: new Promise((resolve) => socket.once('close', () => resolve())), received: () => received };
}

describe('serve against a local attacker', () => {
  const { monitor, start } = serversPerTest({ staticDir: STATIC, token: TOKEN });
  const sockets: NetSocket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
  });

  it('closes a connection that has not shown the token on a WebSocket within a few seconds, but not a WebSocket that has', async () => {
    const server = await start();
    const silent = idle(server.port);
    // one that fetched the (public) page, then kept the connection alive
    const asked = idle(server.port);
    sockets.push(silent.socket, asked.socket);
    asked.socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: keep-alive\r\n\r\n`);
    const origin = { headers: { Origin: `http://127.0.0.1:${server.port}` } };
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${WS_PATH}`, origin);
    ws.on('error', () => undefined);
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'hello', token: TOKEN }));
    // one that upgraded but never said hello
    const mute = new WebSocket(`ws://127.0.0.1:${server.port}${WS_PATH}`, origin);
    mute.on('error', () => undefined);
    const muteClosed = new Promise<void>((resolve) => mute.once('close', () => resolve()));

    // the server's idle limit (5 s) closed it, not Node's header timeout (10 s), which would have answered 408
    await silent.closed;
    expect(silent.received()).toBe(0);
    await asked.closed;
    // nothing but the server's idle limit ends an upgraded socket
    await muteClosed;
    // the token holder's limit came due before the mute one's (it connected first): it has passed, and spared it
    await waitFor(() => (server.clients() === 1 ? true : undefined), 5_000, 'the mute client to be let go');
    const answered = new Promise<string>((resolve) => {
      ws.on('message', (m: Buffer) => (JSON.parse(m.toString()) as { type: string; id?: number }).id === 7 && resolve('answered'));
      ws.once('close', () => resolve('closed'));
    });
    ws.send(JSON.stringify({ id: 7, method: 'getState', args: [] }));
    expect(await answered).toBe('answered');
    ws.close();
  }, 20_000);

  it('caps a flood of idle connections, sheds them, and serves the token holder afterwards', async () => {
    const server = await start();
    // the first in: the server's idle limit closes it, the clock the others are measured by
    const first = idle(server.port);
    sockets.push(first.socket);
    await new Promise((resolve) => first.socket.once('connect', resolve));
    const N = 300;
    let closed = 0;
    for (let i = 0; i < N; i++) {
      const c = idle(server.port);
      sockets.push(c.socket);
      void c.closed.then(() => closed++);
    }
    // past the cap a connection is closed at once: all of those before the idle limit has closed the first
    await first.closed;
    expect(closed).toBeGreaterThanOrEqual(N + 1 - MAX_CONNECTIONS);
    // the rest never showed a token: all dropped
    await waitFor(() => (closed === N ? true : undefined), 12_000, 'idle connections closed');
    const ok = await get(server.port, `/`);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('<div id="root">');
  }, 30_000);

  it('serves the UI from memory: a file deleted after start still loads, a missing one is 404', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portwatch-static-'));
    cpSync(STATIC, dir, { recursive: true });
    const index = readFileSync(join(dir, 'index.html'), 'utf8');
    const server = await start({ staticDir: dir });
    rmSync(dir, { recursive: true, force: true });
    const page = await get(server.port, `/`);
    expect(page.status).toBe(200);
    expect(page.body).toBe(index);
    const asset = /src="(\.?\/assets\/[^"]+\.js)"/.exec(index)?.[1]?.replace(/^\./, '') as string;
    expect((await get(server.port, `${asset}`)).status).toBe(200);
    expect((await get(server.port, `/assets/nope.js`)).status).toBe(404);
    expect((await get(server.port, `/assets`)).status).toBe(404);
  });

  it('survives upgrade requests whose sockets are reset while being refused', async () => {
    const server = await start();
    for (let i = 0; i < 30; i++) {
      const c = idle(server.port);
      c.socket.write(
        `GET ${WS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      c.socket.resetAndDestroy();
      await c.closed;
    }
    expect((await get(server.port, `/`)).status).toBe(200);
  });

  it('checks the canonical address: non-canonical IPv4 forms are refused, not read as loopback', async () => {
    for (const h of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1', 'localhost', 'LOCALHOST']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['127.000.000.001', '127.1', '0x7f.0.0.1', '0177.0.0.1', '2130706433', '127.0.0.08', '127.256.0.1', '0.0.0.0', '::', 'example.com']) {
      expect(isLoopback(h), h).toBe(false);
    }
    await expect(startServer({ monitor: monitor(), staticDir: STATIC, host: '127.000.000.001', port: 0 })).rejects.toThrow(/refusing to bind/);
    await expect(startServer({ monitor: monitor(), staticDir: STATIC, host: '127.000.000.001', port: 0, allowRemote: true })).rejects.toThrow(/not an address/);
    await expect(startServer({ monitor: monitor(), staticDir: STATIC, host: '0x7f.1', port: 0, allowRemote: true })).rejects.toThrow(/not an address/);
    const mapped = await start({ host: '::ffff:127.0.0.1' });
    expect(mapped.host).toBe('127.0.0.1');
  });

  it('bound to every interface, accepts only Host values naming this machine', async () => {
    const server = await start({ host: '0.0.0.0', allowRemote: true });
    const p = server.port;
    const status = async (host: string): Promise<number> => (await get(p, '/', { Host: host })).status;
    expect(await status(`127.0.0.1:${p}`)).toBe(200);
    expect(await status(`localhost:${p}`)).toBe(200);
    expect(await status(`${hostname()}:${p}`)).toBe(200);
    for (const foreign of [`1.2.3.4:${p}`, `[2001:db8::1]:${p}`, `127.1:${p}`, `127.0.0.1:${p + 1}`, `attacker.example:${p}`, `1.2.3.4`]) {
      expect(await status(foreign), foreign).toBe(403);
    }
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${p}${WS_PATH}`, { headers: { Host: `1.2.3.4:${p}`, Origin: `http://1.2.3.4:${p}` } });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => resolve(-1));
    });
    expect(refused).toBe(403);
  });
});
