import { WS_PATH, type ApiResult, type EngineState, type WsMessage } from '../../../shared/api';
import { buildApi, type ApiEvent, type ApiMethod, type PortwatchApi } from '../../../shared/contract';
import { decodeDelta, decodeSnapshot } from '../../../shared/wire';

type Listener = (data: never) => void;

/*
 * The credential handshake, the page's side (src/main/server/protocol.ts is the server's): the first message
 * is a hello with the token or a one-time code; the server answers with a welcome carrying the token, or
 * closes with AUTH_REFUSED and a reason.
 */
const AUTH_REFUSED = 4401;
type ServerMessage = WsMessage | { type: 'welcome'; token: string };

/** Where the page keeps its token: this tab, this origin (scheme, host and port) only. */
export const TOKEN_KEY = 'portwatch.token';

/** What the page can show the server: the token, or a one-time code from `serve --open`. */
export type Credential = { kind: 'token'; value: string } | { kind: 'code'; value: string };

/**
 * Takes the credential from the page's fragment (`#token=...` or `#code=...`), removes it from the address
 * bar and the history entry, and keeps a token in sessionStorage; without a fragment, the kept token.
 */
export function takeCredential(
  loc: Location = window.location,
  storage: Storage = window.sessionStorage,
  history: History = window.history,
): Credential | null {
  const hash = new URLSearchParams(loc.hash.replace(/^#/, ''));
  const token = hash.get('token');
  const code = hash.get('code');
  if (token !== null || code !== null) history.replaceState(history.state, '', `${loc.pathname}${loc.search}`);
  if (token) {
    storage.setItem(TOKEN_KEY, token);
    return { kind: 'token', value: token };
  }
  if (code) return { kind: 'code', value: code };
  const kept = storage.getItem(TOKEN_KEY);
  return kept ? { kind: 'token', value: kept } : null;
}

/** Why the server will not take this page's credential, in words for the page. */
function refusal(reason: string, kind: Credential['kind'] | null): string {
  if (kind === null || reason === 'no token') return 'This page has no Portwatch token: open the URL that portwatch serve printed.';
  if (kind === 'code' || reason === 'code used or expired') {
    return 'This one-time link was already used or has expired: open the URL that portwatch serve printed, or run portwatch serve --open again.';
  }
  return "Portwatch refused this page's token: the server restarted with a new token (serve --token-file keeps one across restarts), or the token is wrong. Open the URL that portwatch serve printed.";
}

export interface WsApiOptions {
  /** Full ws:// URL; defaults to this page's server. */
  url?: string;
  /** What to show the server; defaults to takeCredential(). */
  credential?: Credential | null;
  /** Where a token received for a one-time code is kept; defaults to sessionStorage. */
  storage?: Pick<Storage, 'setItem' | 'removeItem'>;
  /** Reconnect delays double from this (1 s) up to maxDelayMs (30 s)... */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** ...and start again from minDelayMs only after a connection has held this long (a minute). */
  stableMs?: number;
  /** A request unanswered this long resolves as disconnected. */
  requestTimeoutMs?: number;
}

/** The WebSocket URL of the server that served this page (no credential in it: that is the first message). */
export function defaultWsUrl(loc: Location = window.location): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}${WS_PATH}`;
}

/** getState's answer with its snapshot out of the wire layout; a malformed one is an error, not a throw. */
function stateOf(r: ApiResult<unknown>): ApiResult<unknown> {
  if (!r.ok) return r;
  const v = r.value as EngineState & { snapshot: unknown };
  try {
    return { ok: true, value: { ...v, snapshot: v.snapshot === null ? null : decodeSnapshot(v.snapshot) } };
  } catch (e) {
    return { ok: false, code: 'internal', message: e instanceof Error ? e.message : String(e) };
  }
}

/** The web client: PortwatchApi, plus the end of retrying when the server refuses the credential. */
export interface WsApi extends PortwatchApi {
  /** Calls `l` with a message for the user once the server has refused the credential; retrying has stopped. */
  onRefused(l: (message: string) => void): () => void;
  close(): void;
}

/**
 * PortwatchApi over a WebSocket, for web mode. Reconnects by itself with backoff; the server opens every
 * connection with a full snapshot, so a dropped connection resynchronises instead of missing deltas. A
 * refused credential ends the retrying: a new server token will not come by waiting.
 */
export function createWsApi(opts: WsApiOptions = {}): WsApi {
  const url = opts.url ?? defaultWsUrl();
  let credential = opts.credential !== undefined ? opts.credential : takeCredential();
  const storage = opts.storage ?? window.sessionStorage;
  const minDelay = opts.minDelayMs ?? 1000;
  const maxDelay = opts.maxDelayMs ?? 30_000;
  const stableMs = opts.stableMs ?? 60_000;
  const timeout = opts.requestTimeoutMs ?? 10_000;
  const listeners = new Map<ApiEvent | 'connection', Set<Listener>>();
  const refusedListeners = new Set<(message: string) => void>();
  const pending = new Map<number, { method: ApiMethod; resolve: (r: ApiResult<unknown>) => void; timer: ReturnType<typeof setTimeout> }>();
  let nextId = 1;
  let ws: WebSocket | null = null;
  let connected = false;
  let closed = false;
  let refused: string | null = null;
  /** Failed attempts since the last stable connection: the next delay is minDelay * 2^failures. */
  let failures = 0;
  let retry: ReturnType<typeof setTimeout> | null = null;
  let stable: ReturnType<typeof setTimeout> | null = null;

  const emit = (event: ApiEvent | 'connection', data: unknown): void => {
    for (const l of [...(listeners.get(event) ?? [])]) (l as (d: unknown) => void)(data);
  };
  const on = (event: ApiEvent | 'connection', l: Listener): (() => void) => {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(l);
    return () => {
      set.delete(l);
    };
  };
  const setConnected = (v: boolean): void => {
    if (v === connected) return;
    connected = v;
    emit('connection', v);
  };
  const failPending = (message: string): void => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      p.resolve({ ok: false, code: 'disconnected', message });
      pending.delete(id);
    }
  };

  const refuse = (message: string): void => {
    refused = message;
    storage.removeItem(TOKEN_KEY);
    for (const l of [...refusedListeners]) l(message);
  };

  const connect = (): void => {
    if (closed || refused !== null) return;
    const shown = credential;
    if (!shown) {
      refuse(refusal('no token', null));
      return;
    }
    const socket = new WebSocket(url);
    ws = socket;
    socket.onopen = () => {
      socket.send(JSON.stringify(shown.kind === 'token' ? { type: 'hello', token: shown.value } : { type: 'hello', code: shown.value }));
    };
    socket.onmessage = (e) => {
      let m: ServerMessage;
      try {
        m = JSON.parse(String(e.data)) as ServerMessage;
      } catch {
        return;
      }
      if (m.type === 'welcome') {
        // a one-time code is spent: from now on the token is what this tab shows
        credential = { kind: 'token', value: m.token };
        storage.setItem(TOKEN_KEY, m.token);
        stable = setTimeout(() => (failures = 0), stableMs);
        setConnected(true);
      } else if (m.type === 'event') {
        // snapshots and deltas come in the wire layout (shared/wire.ts); a malformed one is dropped whole
        // and the state asked for again, never half applied
        let data: unknown;
        try {
          data = m.event === 'snapshot' ? decodeSnapshot(m.data) : m.event === 'delta' ? decodeDelta(m.data) : m.data;
        } catch (e) {
          console.error(e);
          socket.close(4400, 'malformed message');
          return;
        }
        emit(m.event, data);
      } else if (m.type === 'result' && m.id !== null) {
        const p = pending.get(m.id);
        if (!p) return;
        clearTimeout(p.timer);
        pending.delete(m.id);
        p.resolve(p.method === 'getState' ? stateOf(m.result) : m.result);
      }
    };
    socket.onclose = (e) => {
      if (ws !== socket) return;
      ws = null;
      if (stable) clearTimeout(stable);
      stable = null;
      setConnected(false);
      failPending('connection to Portwatch lost');
      if (closed) return;
      if (e.code === AUTH_REFUSED) {
        refuse(refusal(e.reason, shown.kind));
        return;
      }
      retry = setTimeout(connect, Math.min(maxDelay, minDelay * 2 ** Math.min(failures, 30)));
      failures++;
    };
  };

  const invoke = <T>(method: ApiMethod, ...args: unknown[]): Promise<ApiResult<T>> =>
    new Promise((resolve) => {
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        resolve({ ok: false, code: 'disconnected', message: 'not connected to Portwatch' });
        return;
      }
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve({ ok: false, code: 'disconnected', message: `${method}: no answer within ${timeout} ms` });
      }, timeout);
      pending.set(id, { method, resolve: resolve as (r: ApiResult<unknown>) => void, timer });
      ws.send(JSON.stringify({ id, method, args }));
    });

  connect();
  const api = buildApi(
    invoke,
    (event, l) => on(event, l as Listener),
    (l) => {
      l(connected);
      return on('connection', l as Listener);
    },
  );
  return {
    ...api,
    onRefused: (l) => {
      if (refused !== null) l(refused);
      refusedListeners.add(l);
      return () => {
        refusedListeners.delete(l);
      };
    },
    close: () => {
      closed = true;
      if (retry) clearTimeout(retry);
      if (stable) clearTimeout(stable);
      ws?.close();
      failPending('closed');
    },
  };
}
