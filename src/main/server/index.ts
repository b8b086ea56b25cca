import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { TOKEN_COOKIE, TOKEN_PARAM, WS_PATH, type WsMessage } from '../../shared/api';
import { CSP } from '../../shared/csp';
import { ApiDispatcher } from '../api/dispatch';
import type { MonitorLike } from '../engine/monitor';
import { loadAssets } from './assets';
import { hostForUrl, hostHeaderName, ownAddresses, parseHost } from './host';

export { isLoopback, parseHost } from './host';

/**
 * Web mode: the built renderer and PortwatchApi over a WebSocket, from the same engine as the desktop app.
 * Loopback by default. Every HTTP and WebSocket request needs the per-run token (query parameter, then a
 * SameSite=Strict cookie); the Host header must name this server (DNS rebinding); a WebSocket's Origin must
 * be this server's own. A local user without the token can open connections but not hold the server:
 * connections are capped, one that has not shown the token within UNAUTHENTICATED_MS is closed, and the UI
 * is served from memory, so running out of descriptors cannot fail a page load.
 */

/** Concurrent connections; past this a new one is closed at once. */
export const MAX_CONNECTIONS = 256;
/** A connection that has not made a request (or WebSocket upgrade) carrying the token by then is closed. */
export const UNAUTHENTICATED_MS = 5_000;
const HEADERS_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_MS = 5_000;

export interface ServeOptions {
  monitor: MonitorLike;
  /** Directory of the built renderer (index.html and assets). */
  staticDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token (tests); otherwise a random one per run. */
  token?: string;
  /** Binding a non-loopback address needs this. */
  allowRemote?: boolean;
  /** A client whose send buffer grows past this is dropped (it reconnects and resynchronises). */
  maxBufferedBytes?: number;
  /** The expected-ports baseline file (the CLI passes the user's XDG one). */
  baselinePath?: string;
}

export interface RunningServer {
  /** The URL to open, token included. */
  url: string;
  token: string;
  host: string;
  port: number;
  clients(): number;
  close(): Promise<void>;
}

const Request = z.strictObject({
  id: z.number().int().nonnegative(),
  method: z.string().max(64),
  args: z.array(z.unknown()).max(16),
});

function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: IncomingMessage): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === TOKEN_COOKIE) return v.join('=');
  }
  return null;
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const parsed = parseHost(opts.host ?? '127.0.0.1');
  if (!parsed.ok) throw new Error(`refusing to bind: ${parsed.message}`);
  // bind the canonical form: the address checked is the address bound
  const host = parsed.host;
  if (!parsed.loopback && !opts.allowRemote) {
    throw new Error(`refusing to bind ${host}: it is reachable from other machines; pass --allow-remote to mean it`);
  }
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const maxBuffered = opts.maxBufferedBytes ?? 8 << 20;
  const assets = await loadAssets(opts.staticDir);
  const dispatcher = new ApiDispatcher(opts.monitor, { baselinePath: opts.baselinePath });
  const wildcard = host === '0.0.0.0' || host === '::';
  let port = opts.port ?? 0;

  /** Host header names (canonical, without the port) that name this server; never an arbitrary IP literal. */
  const hostNames = (): Set<string> => {
    const names = new Set([host]);
    if (parsed.loopback) for (const n of ['localhost', '127.0.0.1', '::1']) names.add(n);
    if (wildcard) {
      // read per request: interfaces come and go while serve runs
      for (const n of ['localhost', hostname().toLowerCase(), ...ownAddresses()]) names.add(n);
    }
    return names;
  };
  const hostOk = (req: IncomingMessage): boolean => {
    const name = hostHeaderName(req.headers.host ?? '', port);
    return name !== null && hostNames().has(name);
  };
  const tokenOk = (req: IncomingMessage, url: URL): boolean => sameToken(url.searchParams.get(TOKEN_PARAM), token) || sameToken(cookieToken(req), token);
  /** Connections that have shown the token once; the others are closed after UNAUTHENTICATED_MS. */
  const authenticated = new WeakSet<Duplex>();

  const deny = (res: ServerResponse, status: number, message: string): void => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`${message}\n`);
  };

  const server = createServer(
    { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: HEADERS_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_MS, connectionsCheckingInterval: 1_000 },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'http://placeholder');
      if (!hostOk(req)) return deny(res, 403, 'wrong Host header');
      if (!tokenOk(req, url)) return deny(res, 401, 'missing or wrong token: open the URL portwatch serve printed');
      authenticated.add(req.socket);
      if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'method not allowed');
      let rel: string;
      try {
        rel = decodeURIComponent(url.pathname);
      } catch {
        return deny(res, 400, 'bad path');
      }
      if (rel === '/' || rel === '') rel = '/index.html';
      // only files read at start are served: a path outside the directory is simply not in the map
      const asset = assets.get(rel);
      if (!asset) return deny(res, 404, 'not found');
      const headers: Record<string, string | number> = {
        'Content-Type': asset.type,
        'Content-Length': asset.body.length,
        'Content-Security-Policy': CSP,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': 'no-store',
      };
      if (url.searchParams.has(TOKEN_PARAM)) {
        headers['Set-Cookie'] = `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
      }
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : asset.body);
    },
  );
  server.maxConnections = MAX_CONNECTIONS;
  server.on('connection', (socket: Socket) => {
    // the HTTP server drops its own error listener when a socket is upgraded: this one outlives it
    socket.on('error', () => socket.destroy());
    const timer = setTimeout(() => {
      if (!authenticated.has(socket)) socket.destroy();
    }, UNAUTHENTICATED_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const reject = (socket: Duplex, status: number, text: string): void => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    if (url.pathname !== WS_PATH) return reject(socket, 404, 'Not Found');
    if (!hostOk(req)) return reject(socket, 403, 'Forbidden');
    const origin = req.headers.origin;
    if (!origin || origin.toLowerCase() !== `http://${(req.headers.host ?? '').toLowerCase()}`) return reject(socket, 403, 'Forbidden');
    if (!tokenOk(req, url)) return reject(socket, 401, 'Unauthorized');
    authenticated.add(socket);
    wss.handleUpgrade(req, socket, head, (ws) => connect(ws));
  });

  function connect(ws: WebSocket): void {
    const send = (m: WsMessage): void => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > maxBuffered) {
        // a client this far behind is better off resynchronising from a fresh snapshot
        ws.close(1013, 'too far behind');
        return;
      }
      ws.send(JSON.stringify(m));
    };
    const off = dispatcher.subscribe((event, data) => send({ type: 'event', event, data }));
    ws.on('close', off);
    ws.on('error', off);
    ws.on('message', (raw, isBinary) => {
      let parsed: z.infer<typeof Request>;
      try {
        if (isBinary) throw new Error('binary frames are not part of the protocol');
        parsed = Request.parse(JSON.parse(raw.toString()));
      } catch (e) {
        const message = e instanceof z.ZodError ? z.prettifyError(e).replace(/\s+/g, ' ') : e instanceof Error ? e.message : 'bad message';
        send({ type: 'result', id: null, result: { ok: false, code: 'bad-request', message: message.slice(0, 300) } });
        return;
      }
      void dispatcher.call(parsed.method, parsed.args).then((result) => send({ type: 'result', id: parsed.id, result }));
    });
    // a (re)connected client starts from a full snapshot
    const snapshot = opts.monitor.getSnapshot();
    if (snapshot) send({ type: 'event', event: 'snapshot', data: snapshot });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // after listen, errors are per connection (EMFILE or ENFILE on accept): that connection is lost, the server is not
  server.on('error', () => undefined);
  port = (server.address() as { port: number }).port;

  return {
    url: `http://${hostForUrl(wildcard ? hostname() : host)}:${port}/?${TOKEN_PARAM}=${token}`,
    token,
    host,
    port,
    clients: () => wss.clients.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
