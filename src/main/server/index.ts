import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { WS_PATH, type ApiResult, type EngineState, type WsMessage } from '../../shared/api';
import { CSP } from '../../shared/csp';
import type { RecordingStatus } from '../../shared/recording';
import { encodeSnapshot } from '../../shared/wire';
import { EngineApi } from '../api/engineApi';
import { type MonitorLike, UserDirectory } from '../engine';
import { loadAssets } from './assets';
import { Broadcast, type BroadcastStats } from './broadcast';
import { hostForUrl, hostHeaderName, ownAddresses, parseHost } from './host';
import { isLoopbackAddress, peerUid } from './peer';
import { AUTH_REFUSED, Hello, type Welcome } from './protocol';
import { needsControl, READ_ONLY } from './rights';
import { newToken } from './tokenFile';

export { isLoopback, parseHost } from './host';
export { AUTH_REFUSED } from './protocol';
export { DRAIN_POLL_MS, type BroadcastStats } from './broadcast';
export { READ_ONLY } from './rights';
export { loadTokenFile, type TokenFileResult } from './tokenFile';
export { loadTlsFiles, MAX_TLS_FILE_BYTES, type TlsFilesResult } from './tls';

/**
 * Web mode: the built renderer and PortwatchApi over a WebSocket, from the same engine as the desktop app.
 * Loopback by default. The UI's code and assets are public and served without a token; only the live
 * connection is secret. The token travels in the URL's fragment (never sent to a server, never in a
 * Referer), and the page presents it as the WebSocket's first message: it is in no cookie (cookies reach
 * every port of a host) and in no HTTP request at all. `--open` hands the browser a one-time code instead
 * (argv is readable by every local user), which the page trades for the token over the WebSocket.
 * The Host header must name this server (DNS rebinding); a WebSocket's Origin must be this server's own.
 * A local user without the token can open connections but not hold the server: connections are capped, one
 * that has not shown the token within UNAUTHENTICATED_MS is closed (plain HTTP connections always are), and
 * the UI is served from memory, so running out of descriptors cannot fail a page load.
 * The token is not enough on its own: a loopback client's socket must belong to the server's own user, the
 * user who ran it through sudo, root, or an `allowUsers` uid (found in /proc/net/tcp{,6}, per connection).
 * Control (kill, close, baseline, polling) is a right apart from viewing: `readOnly` takes it from everyone,
 * and clients from other machines, whose user no one can know, lack it unless `remoteControl` is given.
 */

/** Concurrent connections; past this a new one is closed at once. */
export const MAX_CONNECTIONS = 256;
/** A connection that has not opened a WebSocket and shown the token on it by then is closed. */
export const UNAUTHENTICATED_MS = 5_000;
/** How long a one-time code (`--open`) stays good, and how many may be outstanding. */
export const CODE_TTL_MS = 60_000;
const MAX_CODES = 16;
/** Authenticated WebSockets at once; the next is closed with TOO_MANY_CLIENTS. */
export const MAX_CLIENTS = 32;
/** The close code of a client refused for being one too many ("try again later"). */
export const TOO_MANY_CLIENTS = 1013;
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
  /**
   * A client whose backlog grows past this (on top of a snapshot being written to it) is sent no more deltas
   * until it has drained; then it is resynchronised with a fresh snapshot. It is not disconnected.
   */
  maxBufferedBytes?: number;
  /** Authenticated WebSockets at once (MAX_CLIENTS); one more is closed with TOO_MANY_CLIENTS. */
  maxClients?: number;
  /** The expected-ports baseline file (the CLI passes the user's XDG one). */
  baselinePath?: string;
  /** Sees every HTTP request and WebSocket upgrade before it is answered (tests log them). */
  onRequest?: (req: IncomingMessage) => void;
  /** The clock one-time codes expire by. */
  now?: () => number;
  /** Viewing only: the methods that change anything answer READ_ONLY. */
  readOnly?: boolean;
  /** Clients not on loopback may change things too (otherwise they are read-only). */
  remoteControl?: boolean;
  /** Local uids let in besides the server's own, its sudo user's and root's. */
  allowUsers?: readonly number[];
  /** A loopback client refused for its user (the CLI prints it). uid null: its socket was not found. */
  onRefused?: (who: RefusedClient) => void;
  /** Serve https and wss with this certificate (PEM, a chain allowed) and key (PEM); see loadTlsFiles. */
  tls?: { cert: Buffer; key: Buffer };
  /** The history database (EngineApiOptions.historyPath): recorded into with `record`, read by the History view. */
  historyPath?: string;
  /** Record the history while serving (serve records unless --no-record). */
  record?: boolean;
  /** Problems of the recording, and its status as it changes (the CLI prints them). */
  onHistoryError?: (message: string) => void;
  onHistoryStatus?: (s: RecordingStatus) => void;
  /** The user's settings file (EngineApiOptions.settingsPath): alert mutes and snooze kept across restarts. */
  settingsPath?: string;
  onSettingsError?: (message: string) => void;
}

export interface RefusedClient {
  uid: number | null;
  user: string | null;
  address: string;
  port: number;
}

export interface RunningServer {
  /** The URL to print, the token in its fragment: `http://127.0.0.1:7777/#token=...`. */
  url: string;
  /** A URL for a browser's command line: a one-time code (good once, for CODE_TTL_MS) in place of the token. */
  openUrl(): string;
  token: string;
  host: string;
  port: number;
  clients(): number;
  /** Authenticated clients, those behind, and how many messages were serialised. */
  stats(): BroadcastStats;
  close(): Promise<void>;
}

const Request = z.strictObject({
  id: z.number().int().nonnegative(),
  method: z.string().max(64),
  args: z.array(z.unknown()).max(16),
});

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const parsed = parseHost(opts.host ?? '127.0.0.1');
  if (!parsed.ok) throw new Error(`refusing to bind: ${parsed.message}`);
  // bind the canonical form: the address checked is the address bound
  const host = parsed.host;
  if (!parsed.loopback && !opts.allowRemote) {
    throw new Error(`refusing to bind ${host}: it is reachable from other machines; pass --allow-remote to mean it`);
  }
  const token = opts.token ?? newToken();
  const now = opts.now ?? Date.now;
  const maxBuffered = opts.maxBufferedBytes ?? 8 << 20;
  const maxClients = opts.maxClients ?? MAX_CLIENTS;
  const assets = await loadAssets(opts.staticDir);
  const engineApi = new EngineApi(opts.monitor, {
    baselinePath: opts.baselinePath,
    historyPath: opts.historyPath,
    record: opts.record,
    historyCommand: 'portwatch serve',
    onHistoryError: opts.onHistoryError,
    onHistoryStatus: opts.onHistoryStatus,
    settingsPath: opts.settingsPath,
    onSettingsError: opts.onSettingsError,
  });
  const wildcard = host === '0.0.0.0' || host === '::';
  // on the server's thread: a uid passwd does not list is asked of getent in the background, never waited for
  const users = new UserDirectory(undefined, 'background');
  const allowedUids = new Set<number>([0, ...(opts.allowUsers ?? [])]);
  const euid = process.geteuid?.();
  if (euid !== undefined) allowedUids.add(euid);
  const sudoUid = process.env.SUDO_UID;
  if (sudoUid !== undefined && /^\d+$/.test(sudoUid)) allowedUids.add(Number(sudoUid));
  /** A loopback client's owner, checked where the kernel says it (Linux); null when it may come in. */
  const refusedUser = (socket: Socket): RefusedClient | null => {
    if (process.platform !== 'linux') return null;
    const client = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const uid = peerUid(client, { address: socket.localAddress ?? '', port: socket.localPort ?? 0 });
    if (uid !== null && allowedUids.has(uid)) return null;
    return { uid, user: users.name(uid), ...client };
  };
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
  /** Connections that have shown the token on a WebSocket; the others are closed after UNAUTHENTICATED_MS. */
  const authenticated = new WeakSet<Duplex>();
  /** Outstanding one-time codes and when each expires; a code is deleted on its first use, good or late. */
  const codes = new Map<string, number>();
  const issueCode = (): string => {
    for (const [c, until] of codes) if (until <= now()) codes.delete(c);
    // bounded: the oldest goes first
    while (codes.size >= MAX_CODES) codes.delete(codes.keys().next().value as string);
    const c = randomBytes(18).toString('base64url');
    codes.set(c, now() + CODE_TTL_MS);
    return c;
  };
  const useCode = (given: string): boolean => {
    for (const [c, until] of codes) {
      if (!sameToken(given, c)) continue;
      codes.delete(c);
      return until > now();
    }
    return false;
  };

  const deny = (res: ServerResponse, status: number, message: string): void => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`${message}\n`);
  };

  const answer: RequestListener = (req, res) => {
    opts.onRequest?.(req);
    const url = new URL(req.url ?? '/', 'http://placeholder');
    if (!hostOk(req)) return deny(res, 403, 'wrong Host header');
    // no token here: the UI's files are public, the WebSocket is what is guarded
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
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  };
  const timeouts = {
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: HEADERS_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_MS,
    connectionsCheckingInterval: 1_000,
  };
  // https is http over TLS: same server, same timeouts; a handshake must not outlast the token's deadline either
  const server: HttpServer = opts.tls
    ? createTlsServer({ ...timeouts, cert: opts.tls.cert, key: opts.tls.key, handshakeTimeout: UNAUTHENTICATED_MS }, answer)
    : createServer(timeouts, answer);
  /** The page's own scheme: the printed URL's, and the only one a WebSocket's Origin may have. */
  const scheme = opts.tls ? 'https' : 'http';
  server.maxConnections = MAX_CONNECTIONS;
  // over TLS, 'connection' is the raw TCP socket; requests and upgrades see the TLS socket made on it
  server.on(opts.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    // the HTTP server drops its own error listener when a socket is upgraded: this one outlives it
    socket.on('error', () => socket.destroy());
    const timer = setTimeout(() => {
      if (!authenticated.has(socket)) socket.destroy();
    }, UNAUTHENTICATED_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const broadcast = new Broadcast({ limit: maxBuffered, snapshot: () => opts.monitor.getSnapshot() });
  // one subscription for all clients: each event is serialised once
  const unsubscribe = engineApi.subscribe((m) => broadcast.publish(m.event, m.payload));
  const reject = (socket: Duplex, status: number, text: string): void => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  server.on('upgrade', (req, socket, head) => {
    opts.onRequest?.(req);
    const url = new URL(req.url ?? '/', 'http://placeholder');
    if (url.pathname !== WS_PATH) return reject(socket, 404, 'Not Found');
    if (!hostOk(req)) return reject(socket, 403, 'Forbidden');
    const origin = req.headers.origin;
    if (!origin || origin.toLowerCase() !== `${scheme}://${(req.headers.host ?? '').toLowerCase()}`) return reject(socket, 403, 'Forbidden');
    const local = isLoopbackAddress(req.socket.remoteAddress);
    if (local) {
      const refused = refusedUser(req.socket);
      if (refused) {
        opts.onRefused?.(refused);
        return reject(socket, 403, 'Forbidden');
      }
    }
    // another machine's user is unknowable: it may look, and change things only when the server says so
    const control = !opts.readOnly && (local || opts.remoteControl === true);
    // the credential travels in the first message, never in the request line (it would sit in logs)
    wss.handleUpgrade(req, socket, head, (ws) => awaitHello(ws, socket, control));
  });

  /** Nothing is sent or dispatched until the first message shows the token or a good one-time code. */
  function awaitHello(ws: WebSocket, socket: Duplex, control: boolean): void {
    ws.once('message', (raw, isBinary) => {
      const hello = isBinary ? null : Hello.safeParse(parseJson(raw.toString()));
      if (!hello?.success) return ws.close(AUTH_REFUSED, 'no token');
      const ok = 'token' in hello.data ? sameToken(hello.data.token, token) : useCode(hello.data.code);
      if (!ok) return ws.close(AUTH_REFUSED, 'token' in hello.data ? 'wrong token' : 'code used or expired');
      if (broadcast.size >= maxClients) return ws.close(TOO_MANY_CLIENTS, `too many clients (${maxClients})`);
      authenticated.add(socket);
      connect(ws, control);
    });
  }

  /** getState as this client sees it: the snapshot in the wire layout, and whether it may change things. */
  function stateFor(result: ApiResult<unknown>, control: boolean): ApiResult<unknown> {
    if (!result.ok) return result;
    const state = result.value as EngineState;
    return { ok: true, value: { ...state, control, snapshot: state.snapshot && encodeSnapshot(state.snapshot) } };
  }

  function connect(ws: WebSocket, control: boolean): void {
    broadcast.sendTo(ws, { type: 'welcome', token } satisfies Welcome);
    const send = (m: WsMessage): void => broadcast.sendTo(ws, m);
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
      if (!control && needsControl(parsed.method)) {
        send({ type: 'result', id: parsed.id, result: READ_ONLY });
        return;
      }
      void engineApi
        .call(parsed.method, parsed.args)
        .then((result) => send({ type: 'result', id: parsed.id, result: parsed.method === 'getState' ? stateFor(result, control) : result }));
    });
    // a (re)connected client starts from a full snapshot
    broadcast.add(ws);
  }

  await new Promise<void>((resolve, reject) => {
    const failed = (e: Error): void => {
      unsubscribe();
      broadcast.dispose();
      engineApi.dispose();
      reject(e);
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  // after listen, errors are per connection (EMFILE or ENFILE on accept): that connection is lost, the server is not
  server.on('error', () => undefined);
  port = (server.address() as { port: number }).port;
  const origin = `${scheme}://${hostForUrl(wildcard ? hostname() : host)}:${port}`;

  return {
    url: `${origin}/#token=${token}`,
    openUrl: () => `${origin}/#code=${issueCode()}`,
    token,
    host,
    port,
    clients: () => wss.clients.size,
    stats: () => broadcast.stats(),
    close: () =>
      new Promise<void>((resolve) => {
        unsubscribe();
        broadcast.dispose();
        // the API's services stop listening to the monitor, which outlives this server
        engineApi.dispose();
        for (const c of wss.clients) c.terminate();
        wss.close();
        // the history's last batch written and its lock released before the caller goes on
        server.close(() => void engineApi.close().then(resolve));
        server.closeAllConnections();
      }),
  };
}
