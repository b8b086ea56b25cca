import type { BaselineRule } from './baseline';
import type { Delta, MonitorStatus, Protocol, Snapshot } from './model';

/**
 * PortwatchApi: everything the UI may ask and hear. The renderer codes against this interface only; the
 * Electron preload implements it over IPC, the web client over a WebSocket. Types and names only.
 */

export type ApiErrorCode =
  /** Arguments failed validation. */
  | 'bad-request'
  /** The method does not exist (or not yet: kill and baseline arrive with their issues). */
  | 'unknown-method'
  /** The caller is not the app's own window. */
  | 'forbidden'
  /** No answer: the connection to the engine is down. */
  | 'disconnected'
  /** The engine failed while answering. */
  | 'internal';

export type ApiResult<T> = { ok: true; value: T } | { ok: false; code: ApiErrorCode; message: string };

/** The engine's state as one answer: the snapshot (null before the first poll) and how it is polling. */
export interface EngineState {
  snapshot: Snapshot | null;
  status: MonitorStatus | null;
  intervalMs: number;
  paused: boolean;
  /** The engine runs with privileges (root): an owner it still cannot see is in another pid namespace. */
  elevated: boolean;
  /**
   * This client may change things (kill, close, baseline, polling). False for a web client of
   * `serve --read-only`, and for one on another machine without `--remote-control`: the UI hides the controls.
   */
  control: boolean;
  /** Reverse DNS of remote addresses is on; `hostNames` holds the names known so far. */
  reverseDns: boolean;
  hostNames: Record<string, string>;
}

/** An unexpected listener appeared. `notify`: whether it was worth a desktop notification (rate limit). */
export interface Alert {
  id: number;
  at: number;
  protocol: Protocol;
  localAddress: string;
  localPort: number;
  exposure: 'all' | 'interface' | 'loopback';
  process: string | null;
  pid: number | null;
  risk: string | null;
  notify: boolean;
  message: string;
}

/**
 * The expected-ports baseline as the UI sees it: its file, whether it exists, and whether it is usable.
 * `ok: false` with an empty path: this engine keeps no baseline (embedded use, tests).
 */
export type BaselineState =
  | { ok: true; path: string; exists: boolean; rules: BaselineRule[] }
  | { ok: false; path: string; message: string };

/** What a kill came to: exited (seen gone), still running after the wait, already gone, or refused and why. */
export type KillResult =
  | { result: 'exited'; pid: number; signal: 'SIGTERM' | 'SIGKILL'; afterMs: number }
  | { result: 'still-running'; pid: number; signal: 'SIGTERM' | 'SIGKILL'; waitedMs: number }
  | { result: 'already-gone'; pid: number }
  | { result: 'refused'; pid: number; code: 'invalid' | 'protected' | 'changed' | 'permission' | 'unsupported'; reason: string };

/** A kill's outcome in words, after the process's name: "exited 12 ms after SIGTERM". */
export function describeKill(o: KillResult): string {
  switch (o.result) {
    case 'exited':
      return `exited ${o.afterMs} ms after ${o.signal}`;
    case 'still-running':
      return `is still running ${o.waitedMs} ms after ${o.signal}`;
    case 'already-gone':
      return 'had already exited';
    case 'refused':
      return `refused: ${o.reason}`;
  }
}

export type CloseResult = { result: 'closed'; id: string } | { result: 'refused'; id: string; code: string; reason: string };

/** One kill or close, as the action log shows it. */
export interface ActionEntry {
  at: number;
  kind: 'kill' | 'close';
  /** "nginx (pid 123)" or "tcp 10.0.0.2:51000 -> 1.1.1.1:443". */
  target: string;
  signal: 'SIGTERM' | 'SIGKILL' | null;
  result: string;
  detail: string;
}

/** Bytes per second in and out of one network interface, averaged since the previous sample. */
export interface InterfaceRate {
  iface: string;
  rxPerSec: number;
  txPerSec: number;
}

export type Unsubscribe = () => void;

export interface PortwatchApi {
  /** The current snapshot and polling state. A client first subscribes, then asks this, then applies deltas newer than it. */
  getState(): Promise<ApiResult<EngineState>>;
  /** A fresh full snapshot pushed by the engine: after a reconnect or an engine restart. Replace, don't merge. */
  onSnapshot(listener: (snapshot: Snapshot) => void): Unsubscribe;
  /** One per poll, in `seq` order. A gap in `seq` means: ask getState() again. */
  onDelta(listener: (delta: Delta) => void): Unsubscribe;
  onStatus(listener: (status: MonitorStatus) => void): Unsubscribe;
  /** The transport: false while the engine cannot be reached (web mode reconnecting). Called at once with the current value. */
  onConnection(listener: (connected: boolean) => void): Unsubscribe;
  /** Poll interval in ms, 250 to 3,600,000. Answers the interval now in force. */
  setInterval(ms: number): Promise<ApiResult<number>>;
  pause(): Promise<ApiResult<null>>;
  resume(): Promise<ApiResult<null>>;
  /** Turns reverse DNS of remote addresses on or off; names arrive through onHostNames. */
  setReverseDns(enabled: boolean): Promise<ApiResult<boolean>>;
  onHostNames(listener: (names: Record<string, string>) => void): Unsubscribe;
  /** Throughput of each network interface now (systeminformation networkStats). */
  getNetworkRates(): Promise<ApiResult<InterfaceRate[]>>;
  getBaseline(): Promise<ApiResult<BaselineState>>;
  /** Adds a rule expecting this listener (by socket id) to the baseline file. */
  markExpected(socketId: string): Promise<ApiResult<BaselineState>>;
  /** Adds rules expecting every current listener (the first-run offer). */
  acceptAllListeners(): Promise<ApiResult<BaselineState>>;
  onBaseline(listener: (b: BaselineState) => void): Unsubscribe;
  getAlerts(): Promise<ApiResult<Alert[]>>;
  onAlert(listener: (a: Alert) => void): Unsubscribe;
  /** SIGTERM (SIGKILL with force) to a process named by pid AND start time; the engine re-checks both. */
  killProcess(pid: number, startTime: number | null, force: boolean): Promise<ApiResult<KillResult>>;
  /** Closes one TCP connection (Linux, SOCK_DESTROY) by socket id. */
  closeConnection(socketId: string): Promise<ApiResult<CloseResult>>;
  getActionLog(): Promise<ApiResult<ActionEntry[]>>;
  onAction(listener: (e: ActionEntry) => void): Unsubscribe;
}

/** The request/response methods, as they travel over IPC channels and WebSocket messages. */
export const API_METHODS = ['getState', 'setInterval', 'pause', 'resume', 'setReverseDns', 'getNetworkRates', 'getBaseline', 'markExpected', 'acceptAllListeners', 'getAlerts', 'killProcess', 'closeConnection', 'getActionLog'] as const;
export type ApiMethod = (typeof API_METHODS)[number];

/** Pushed events. */
export const API_EVENTS = ['snapshot', 'delta', 'status', 'hostnames', 'baseline', 'alert', 'action'] as const;
export type ApiEvent = (typeof API_EVENTS)[number];

/** Electron IPC channel names: one place, used by main and preload. */
export const IPC_INVOKE_PREFIX = 'portwatch:invoke:';
export const IPC_EVENT_PREFIX = 'portwatch:event:';
export const ipcInvokeChannel = (m: ApiMethod): string => `${IPC_INVOKE_PREFIX}${m}`;
export const ipcEventChannel = (e: ApiEvent): string => `${IPC_EVENT_PREFIX}${e}`;

/** WebSocket wire format. */
export type WsMessage =
  | { type: 'result'; id: number | null; result: ApiResult<unknown> }
  | { type: 'event'; event: ApiEvent; data: unknown };

/** Where the web UI finds its WebSocket, relative to the page. */
export const WS_PATH = '/api/ws';
