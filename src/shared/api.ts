import type { BaselineRule } from './baseline';
import type { ApiEvent, ApiMethod } from './contract';
import type { MonitorStatus, Protocol, Snapshot } from './model';

/**
 * The types PortwatchApi speaks in, and its transports' names. The methods and events themselves are one table
 * in contract.ts. Types and names only.
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
  | 'internal'
  /** The history database does not exist yet (nothing recorded). */
  | 'no-history'
  /** The history database cannot be read: corrupt, newer, unsafe. */
  | 'history-unreadable'
  /** A history filter that does not parse, or names a field the history does not keep. */
  | 'bad-query';

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

/**
 * How much an unexpected listener matters, from its exposure: `high` on all interfaces (listed and notified),
 * `medium` on one non-loopback interface (listed), `low` on loopback (recorded, shown only when the user asks).
 */
export type AlertSeverity = 'high' | 'medium' | 'low';

/**
 * An unexpected listener appeared and held for two polls. `notify`: whether it was worth a desktop
 * notification (high, not coalesced into another, not snoozed).
 */
export interface Alert {
  id: number;
  at: number;
  severity: AlertSeverity;
  /** The listener's socket id, for "show me" (it may be gone by then). */
  socketId: string;
  protocol: Protocol;
  localAddress: string;
  localPort: number;
  exposure: 'all' | 'interface' | 'loopback';
  /** The process name, as the kernel has it. */
  process: string | null;
  /** The process as people think of it (`python3 sneaky.py`): what the alert names and a mute holds. */
  summary: string | null;
  /** The full command line, for a tooltip. */
  commandLine: string | null;
  pid: number | null;
  risk: string | null;
  notify: boolean;
  message: string;
  /**
   * What raised it: a new unexpected listener (absent: the same), or a first contact (learning mode: a program
   * reached a remote host and port the history never saw it reach). A first contact's local fields are its
   * connection's own end, its exposure `all` (it leaves the machine), and a port mute holds its remote port.
   */
  kind?: 'listener' | 'first-contact';
  /** first-contact: the remote end reached for the first time. */
  remoteAddress?: string;
  remotePort?: number;
}

/** What alerts may be told to leave alone: a process (by its summary, `python3 sneaky.py`) or a port. */
export type AlertMute = { process: string } | { port: number };

/** How the user has tuned alerts: the engine keeps it, the same for every window and client (until it exits). */
export interface AlertSettings {
  /** Show loopback listeners (low) in the list and the unread count; they are recorded either way. */
  includeLoopback: boolean;
  /** Muted until unmuted: these raise no alert at all. */
  mutes: AlertMute[];
  /** Until then (ms since the epoch) alerts are listed but nothing notifies; null: not snoozed. */
  snoozedUntil: number | null;
  /** The list was cleared up to this alert id: a client drops those it holds. */
  clearedThrough: number;
  /**
   * First-contact alerts (opt-in): once the history reaches back `learningMs` (default 24 h), a program reaching a
   * remote host and port it never reached before raises a medium alert. Needs this engine to be recording.
   */
  firstContact: boolean;
  learningMs: number;
}

/**
 * The expected-ports baseline as the UI sees it: its file, whether it exists, and whether it is usable.
 * `ok: false` with an empty path: this engine keeps no baseline (embedded use, tests).
 */
export type BaselineState = { ok: true; path: string; exists: boolean; rules: BaselineRule[] } | { ok: false; path: string; message: string };

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

/** What closing a connection came to: closed (and seen gone), or refused and why. */
export type CloseResult =
  { result: 'closed'; id: string } | { result: 'refused'; id: string; code: 'invalid' | 'unsupported' | 'permission' | 'not-closed'; reason: string };

/** One kill or close, as the action log shows it. */
export interface ActionEntry {
  at: number;
  kind: 'kill' | 'close';
  /** "nginx (pid 123)" or "tcp 10.0.0.2:51000 -> 1.1.1.1:443". */
  target: string;
  signal: 'SIGTERM' | 'SIGKILL' | null;
  /** The outcome's code (`exited`, `refused`, `closed` ...), for styling and tests; `detail` says it in words. */
  result: string;
  /** The outcome in words, whole: "exited 12 ms after SIGTERM", "refused: pid 1 is init: ...". */
  detail: string;
}

/**
 * One entry of the action log as one sentence, worded once: "Kill nginx (pid 123): exited 12 ms after
 * SIGTERM", "Close tcp 10.0.0.2:51000 -> 1.1.1.1:443 (curl): closed, and gone from the kernel table". The
 * outcome is said by `detail` alone (the result code beside it said it twice: "exited exited ...").
 */
export function describeAction(e: Pick<ActionEntry, 'kind' | 'target' | 'signal' | 'result' | 'detail'>): string {
  const verb = e.kind === 'kill' ? 'Kill' : 'Close';
  // the signal is named in an exit's words ("after SIGTERM"); a refusal or an error says which was asked for
  const signal = e.kind === 'kill' && e.signal !== null && !e.detail.includes(e.signal) ? ` with ${e.signal}` : '';
  return `${verb} ${e.target}${signal}: ${e.detail}`;
}

/** Bytes per second in and out of one network interface, averaged since the previous sample. */
export interface InterfaceRate {
  iface: string;
  rxPerSec: number;
  txPerSec: number;
}

export type Unsubscribe = () => void;

/** Electron IPC channel names: one place, used by main and preload. */
export const IPC_INVOKE_PREFIX = 'portwatch:invoke:';
export const IPC_EVENT_PREFIX = 'portwatch:event:';
export const ipcInvokeChannel = (m: ApiMethod): string => `${IPC_INVOKE_PREFIX}${m}`;
export const ipcEventChannel = (e: ApiEvent): string => `${IPC_EVENT_PREFIX}${e}`;

/** WebSocket wire format. */
export type WsMessage = { type: 'result'; id: number | null; result: ApiResult<unknown> } | { type: 'event'; event: ApiEvent; data: unknown };

/** Where the web UI finds its WebSocket, relative to the page. */
export const WS_PATH = '/api/ws';
