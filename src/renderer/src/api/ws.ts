import {
  TOKEN_PARAM,
  WS_PATH,
  type ApiEvent,
  type ApiMethod,
  type ApiResult,
  type PortwatchApi,
  type WsMessage,
} from '../../../shared/api';
import { buildApi } from '../../../shared/apiClient';

type Listener = (data: never) => void;

export interface WsApiOptions {
  /** Full ws:// URL; defaults to this page's server, token from the page URL. */
  url?: string;
  /** Reconnect delays grow from this to maxDelayMs. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** A request unanswered this long resolves as disconnected. */
  requestTimeoutMs?: number;
}

/** The WebSocket URL of the server that served this page, carrying the page's token. */
export function defaultWsUrl(loc: Location = window.location): string {
  const token = new URLSearchParams(loc.search).get(TOKEN_PARAM) ?? '';
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}${WS_PATH}?${TOKEN_PARAM}=${encodeURIComponent(token)}`;
}

/**
 * PortwatchApi over a WebSocket, for web mode. Reconnects by itself with backoff; the server opens every
 * connection with a full snapshot, so a dropped connection resynchronises instead of missing deltas.
 */
export function createWsApi(opts: WsApiOptions = {}): PortwatchApi & { close(): void } {
  const url = opts.url ?? defaultWsUrl();
  const minDelay = opts.minDelayMs ?? 250;
  const maxDelay = opts.maxDelayMs ?? 5000;
  const timeout = opts.requestTimeoutMs ?? 10_000;
  const listeners = new Map<ApiEvent | 'connection', Set<Listener>>();
  const pending = new Map<number, { resolve: (r: ApiResult<unknown>) => void; timer: ReturnType<typeof setTimeout> }>();
  let nextId = 1;
  let ws: WebSocket | null = null;
  let connected = false;
  let closed = false;
  let delay = minDelay;
  let retry: ReturnType<typeof setTimeout> | null = null;

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

  const connect = (): void => {
    if (closed) return;
    const socket = new WebSocket(url);
    ws = socket;
    socket.onopen = () => {
      delay = minDelay;
      setConnected(true);
    };
    socket.onmessage = (e) => {
      let m: WsMessage;
      try {
        m = JSON.parse(String(e.data)) as WsMessage;
      } catch {
        return;
      }
      if (m.type === 'event') emit(m.event, m.data);
      else if (m.type === 'result' && m.id !== null) {
        const p = pending.get(m.id);
        if (!p) return;
        clearTimeout(p.timer);
        pending.delete(m.id);
        p.resolve(m.result);
      }
    };
    socket.onclose = () => {
      if (ws !== socket) return;
      ws = null;
      setConnected(false);
      failPending('connection to Portwatch lost');
      if (closed) return;
      retry = setTimeout(connect, delay);
      delay = Math.min(maxDelay, delay * 2);
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
      pending.set(id, { resolve: resolve as (r: ApiResult<unknown>) => void, timer });
      ws.send(JSON.stringify({ id, method, args }));
    });

  connect();
  const api = buildApi(invoke, (event, l) => on(event, l as Listener), (l) => {
    l(connected);
    return on('connection', l as Listener);
  });
  return {
    ...api,
    close: () => {
      closed = true;
      if (retry) clearTimeout(retry);
      ws?.close();
      failPending('closed');
    },
  };
}
