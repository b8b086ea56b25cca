import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { extname, join, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { TOKEN_COOKIE, TOKEN_PARAM, WS_PATH, type WsMessage } from '../../shared/api';
import { CSP } from '../../shared/csp';
import { ApiDispatcher } from '../api/dispatch';
import type { MonitorLike } from '../engine/monitor';

/**
 * Web mode: the built renderer and PortwatchApi over a WebSocket, from the same engine as the desktop app.
 * Loopback by default. Every HTTP and WebSocket request needs the per-run token (query parameter, then a
 * SameSite=Strict cookie); the Host header must name this server (DNS rebinding); a WebSocket's Origin must
 * be this server's own.
 */

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

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

const Request = z.strictObject({
  id: z.number().int().nonnegative(),
  method: z.string().max(64),
  args: z.array(z.unknown()).max(16),
});

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::ffff:127.0.0.1';
}

function hostForUrl(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

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
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host) && !opts.allowRemote) {
    throw new Error(`refusing to bind ${host}: it is reachable from other machines; pass --allow-remote to mean it`);
  }
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const maxBuffered = opts.maxBufferedBytes ?? 8 << 20;
  const dispatcher = new ApiDispatcher(opts.monitor, { baselinePath: opts.baselinePath });
  const staticRoot = realpathSync(opts.staticDir);
  let port = opts.port ?? 0;

  /** Host header values that name this server. */
  const allowedHosts = (): Set<string> => {
    const names = new Set([`${hostForUrl(host)}:${port}`]);
    if (isLoopback(host)) for (const n of ['localhost', '127.0.0.1', '[::1]']) names.add(`${n}:${port}`);
    if (host === '0.0.0.0' || host === '::') names.add(`${hostname()}:${port}`);
    return names;
  };
  const hostOk = (req: IncomingMessage): boolean => {
    const h = (req.headers.host ?? '').toLowerCase();
    if (allowedHosts().has(h)) return true;
    // bound to every interface: any IP literal of this machine, with our port
    if (host === '0.0.0.0' || host === '::') {
      const m = /^(\[[0-9a-f:.]+\]|[0-9.]+):(\d+)$/.exec(h);
      return m !== null && Number(m[2]) === port && isIP((m[1] as string).replace(/^\[|\]$/g, '')) !== 0;
    }
    return false;
  };
  const tokenOk = (req: IncomingMessage, url: URL): boolean => sameToken(url.searchParams.get(TOKEN_PARAM), token) || sameToken(cookieToken(req), token);

  const deny = (res: ServerResponse, status: number, message: string): void => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`${message}\n`);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    if (!hostOk(req)) return deny(res, 403, 'wrong Host header');
    if (!tokenOk(req, url)) return deny(res, 401, 'missing or wrong token: open the URL portwatch serve printed');
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'method not allowed');
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      return deny(res, 400, 'bad path');
    }
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = join(staticRoot, rel);
    let real: string;
    try {
      real = realpathSync(file);
      if (!real.startsWith(staticRoot + sep) || !statSync(real).isFile()) throw new Error('outside');
    } catch {
      return deny(res, 404, 'not found');
    }
    const headers: Record<string, string> = {
      'Content-Type': MIME[extname(real)] ?? 'application/octet-stream',
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    };
    if (url.searchParams.has(TOKEN_PARAM)) {
      headers['Set-Cookie'] = `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return res.end();
    createReadStream(real).pipe(res);
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
  port = (server.address() as { port: number }).port;

  return {
    url: `http://${hostForUrl(host === '0.0.0.0' || host === '::' ? hostname() : host)}:${port}/?${TOKEN_PARAM}=${token}`,
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
