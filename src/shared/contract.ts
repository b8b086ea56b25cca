import { z } from 'zod';
import type { ActionEntry, Alert, AlertSettings, ApiResult, BaselineState, CloseResult, EngineState, InterfaceRate, KillResult, Unsubscribe } from './api';
import type { Delta, MonitorStatus, Snapshot } from './model';
import type { RecordingStatus } from './recording';
import { BaselineRuleSchema } from './baseline';
import { MAX_HISTORY_SPAN_MS, MAX_TIMELINE_BUCKETS, type HistoryEvents, type HistoryFlows, type HistoryListeners, type HistoryTimeline } from './history';
import { MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS } from './polling';

/*
 * PortwatchApi as one table. Each method has its argument schema (checked at every transport's boundary),
 * its result type and the right it needs; each event its payload type. The client (Electron preload and
 * WebSocket), the validation, the handler types and the web server's rights all come from here, so a new
 * method is one entry below and one handler in src/main/api. Nothing else lists methods or events.
 */

/** A result or payload type carried by the table: a type only, nothing at run time. */
export interface Carries<T> {
  readonly carries?: T;
}
const carries = <T>(): Carries<T> => ({});

/**
 * `view` methods only read; `change` methods act on the machine or change what every client of the engine sees
 * (killing, closing, the baseline file, polling, reverse DNS). A read-only web client may call only `view`.
 */
export type ApiRight = 'view' | 'change';

const socketId = z.string().min(1).max(512);
const rule = BaselineRuleSchema;
/** How wide "Mark as expected" makes its rule: this port, any port or a range; this exposure or any. */
const ruleChoice = z.strictObject({ ports: z.union([z.enum(['this', 'any']), z.string().regex(/^\d{1,5}-\d{1,5}$/)]), exposure: z.enum(['this', 'any']) });
const epochMs = z.number().int().min(0).max(8.64e15);
/** A history range: epoch ms, since at most until, at most MAX_HISTORY_SPAN_MS wide. */
const historyRange = z
  .strictObject({ since: epochMs, until: epochMs })
  .refine((r) => r.since <= r.until, 'since is after until')
  .refine((r) => r.until - r.since <= MAX_HISTORY_SPAN_MS, 'the range is wider than 400 days');
const port = z.number().int().min(0).max(65535);
const flowKey = z.strictObject({
  program: z.string().max(4096),
  remoteAddress: z.string().min(1).max(64),
  port,
  protocol: z.enum(['tcp', 'udp', 'udplite', 'raw', 'icmp', 'mptcp']),
  direction: z.enum(['in', 'out']),
});
const alertMute = z.union([z.strictObject({ process: z.string().min(1).max(256) }), z.strictObject({ port: z.number().int().min(0).max(65535) })]);

export const METHODS = {
  /** The current snapshot and polling state. A client first subscribes, then asks this, then applies deltas newer than it. */
  getState: { args: z.tuple([]), returns: carries<EngineState>(), right: 'view' },
  /** Poll interval in ms (MIN_POLL_INTERVAL_MS to MAX_POLL_INTERVAL_MS). Answers the interval now in force. */
  setPollInterval: { args: z.tuple([z.number().int().min(MIN_POLL_INTERVAL_MS).max(MAX_POLL_INTERVAL_MS)]), returns: carries<number>(), right: 'change' },
  /** Stops polling the machine, for every client (freezing one view is the UI's own business). */
  pausePolling: { args: z.tuple([]), returns: carries<null>(), right: 'change' },
  resumePolling: { args: z.tuple([]), returns: carries<null>(), right: 'change' },
  /** Turns reverse DNS of remote addresses on or off; names arrive through onHostNames. */
  setReverseDns: { args: z.tuple([z.boolean()]), returns: carries<boolean>(), right: 'change' },
  /** Throughput of each network interface now. */
  getNetworkRates: { args: z.tuple([]), returns: carries<InterfaceRate[]>(), right: 'view' },
  getBaseline: { args: z.tuple([]), returns: carries<BaselineState>(), right: 'view' },
  /** Adds a rule expecting this listener (by socket id) to the baseline file, as wide as the choice says (default: exactly it). */
  markExpected: { args: z.tuple([socketId, ruleChoice.optional()]), returns: carries<BaselineState>(), right: 'change' },
  /**
   * Adds exactly these rules (the first-run offer: the ones its confirmation listed, never recomputed at the
   * click, when other listeners may have come).
   */
  acceptAllListeners: { args: z.tuple([z.array(rule).min(1).max(10_000)]), returns: carries<BaselineState>(), right: 'change' },
  /** Replaces one rule (found by its fields and note) with another. */
  editBaselineRule: { args: z.tuple([rule, rule]), returns: carries<BaselineState>(), right: 'change' },
  /** Removes one rule (found by its fields and note): "un-mark". */
  removeBaselineRule: { args: z.tuple([rule]), returns: carries<BaselineState>(), right: 'change' },
  getAlerts: { args: z.tuple([]), returns: carries<Alert[]>(), right: 'view' },
  getAlertSettings: { args: z.tuple([]), returns: carries<AlertSettings>(), right: 'view' },
  /** Shows loopback listeners (low alerts) in every client's list and unread count, or hides them again. */
  setAlertsIncludeLoopback: { args: z.tuple([z.boolean()]), returns: carries<AlertSettings>(), right: 'change' },
  /**
   * First-contact alerts (learning mode) on or off, optionally with how much history to learn from first (ms, an
   * hour to a year; default a day). Learns from the history: the one this engine records, or another's.
   */
  setFirstContact: {
    args: z.tuple([
      z.boolean(),
      z
        .number()
        .int()
        .min(3_600_000)
        .max(365 * 86_400_000)
        .optional(),
    ]),
    returns: carries<AlertSettings>(),
    right: 'change',
  },
  /** Mutes a process (by summary) or a port until unmuted: it raises no alert. */
  muteAlerts: { args: z.tuple([alertMute]), returns: carries<AlertSettings>(), right: 'change' },
  unmuteAlerts: { args: z.tuple([alertMute]), returns: carries<AlertSettings>(), right: 'change' },
  /** Nothing notifies for this many ms (a minute to a day). */
  snoozeAlerts: {
    args: z.tuple([
      z
        .number()
        .int()
        .min(60_000)
        .max(24 * 3_600_000),
    ]),
    returns: carries<AlertSettings>(),
    right: 'change',
  },
  /** Ends a snooze now. */
  unsnoozeAlerts: { args: z.tuple([]), returns: carries<AlertSettings>(), right: 'change' },
  /** Empties the alert list, for every client. */
  clearAlerts: { args: z.tuple([]), returns: carries<AlertSettings>(), right: 'change' },
  /** SIGTERM (SIGKILL with force) to a process named by pid AND start time; the engine re-checks both. */
  killProcess: {
    args: z.tuple([
      z
        .number()
        .int()
        .min(1)
        .max(2 ** 31 - 1),
      z.number().int().nonnegative().nullable(),
      z.boolean(),
    ]),
    returns: carries<KillResult>(),
    right: 'change',
  },
  /** Closes one TCP connection (Linux, SOCK_DESTROY) by socket id. */
  closeConnection: { args: z.tuple([socketId]), returns: carries<CloseResult>(), right: 'change' },
  getActionLog: { args: z.tuple([]), returns: carries<ActionEntry[]>(), right: 'view' },
  /** The history's flows overlapping a range, busiest first (at most MAX_HISTORY_FLOWS), filtered by the filter language ('': all). */
  historyFlows: { args: z.tuple([historyRange, z.string().max(2000)]), returns: carries<HistoryFlows>(), right: 'view' },
  /** The times ports listened (who, from, until) overlapping a range; of one local port, or all (null). */
  historyListeners: { args: z.tuple([historyRange, port.nullable()]), returns: carries<HistoryListeners>(), right: 'view' },
  /** One flow's events (opened, closed with bytes and duration, owner changes) in a range, oldest first (bounded). */
  historyEvents: { args: z.tuple([flowKey, historyRange]), returns: carries<HistoryEvents>(), right: 'view' },
  /** Connections and bytes per bucket over a range, about `buckets` of them, for the History view's chart. */
  historyTimeline: { args: z.tuple([historyRange, z.number().int().min(1).max(MAX_TIMELINE_BUCKETS)]), returns: carries<HistoryTimeline>(), right: 'view' },
  /**
   * Turns on conntrack's byte accounting (`net.netfilter.nf_conntrack_acct=1`) in the engine's network namespace,
   * so UDP flows get counters. Only on this call (a user confirmed it), never by itself; root only. Answers the
   * switch as read back.
   */
  enableConntrackAccounting: { args: z.tuple([]), returns: carries<boolean>(), right: 'change' },
  /** Whether this engine records the history (recording, off, starting, or paused and why), where, and how much. */
  getHistoryStatus: { args: z.tuple([]), returns: carries<RecordingStatus>(), right: 'view' },
  /** Turns recording the history on or off for this engine (the desktop app's and serve's setting; serve --no-record). */
  setRecording: { args: z.tuple([z.boolean()]), returns: carries<RecordingStatus>(), right: 'change' },
} as const satisfies Record<string, { args: z.ZodTuple; returns: Carries<unknown>; right: ApiRight }>;

export const EVENTS = {
  /** A fresh full snapshot: after a reconnect or an engine restart. Replace, don't merge. */
  snapshot: carries<Snapshot>(),
  /** One per poll, in `seq` order. A gap in `seq` means: ask getState() again. */
  delta: carries<Delta>(),
  status: carries<MonitorStatus>(),
  /** Reverse DNS answers as they come, a few at a time: merge them. */
  hostNames: carries<Record<string, string>>(),
  baseline: carries<BaselineState>(),
  alert: carries<Alert>(),
  /** Mutes, snooze, loopback shown, and how far the list was cleared. */
  alertSettings: carries<AlertSettings>(),
  action: carries<ActionEntry>(),
  /** The recording's status changed (started, paused and why, off, resumed); the event count now and then. */
  historyStatus: carries<RecordingStatus>(),
} as const;

type Methods = typeof METHODS;
export type ApiMethod = keyof Methods;
export type ApiEvent = keyof typeof EVENTS;
export type ArgsOf<M extends ApiMethod> = z.infer<Methods[M]['args']>;
export type ResultOf<M extends ApiMethod> = Methods[M]['returns'] extends Carries<infer T> ? T : never;
export type PayloadOf<E extends ApiEvent> = (typeof EVENTS)[E] extends Carries<infer T> ? T : never;

export const API_METHODS = Object.keys(METHODS) as ApiMethod[];
export const API_EVENTS = Object.keys(EVENTS) as ApiEvent[];

/** One pushed event, discriminated by its name: narrowing on `event` types `payload`. */
export type ApiEventMessage = { [E in ApiEvent]: { event: E; payload: PayloadOf<E> } }[ApiEvent];

type Subscriber<E extends ApiEvent> = `on${Capitalize<E>}`;
export type ApiCalls = { [M in ApiMethod]: (...args: ArgsOf<M>) => Promise<ApiResult<ResultOf<M>>> };
export type ApiSubscriptions = { [E in ApiEvent as Subscriber<E>]: (listener: (payload: PayloadOf<E>) => void) => Unsubscribe };

/**
 * Everything the UI may ask and hear. The renderer codes against this only; the Electron preload implements it
 * over IPC, the web client over a WebSocket (both with buildApi).
 */
export interface PortwatchApi extends ApiCalls, ApiSubscriptions {
  /** The transport: false while the engine cannot be reached (web mode reconnecting). Called at once with the current value. */
  onConnection(listener: (connected: boolean) => void): Unsubscribe;
}

/** What the engine side implements: each handler gets its arguments already validated. */
export type ApiHandlers = { [M in ApiMethod]: (...args: ArgsOf<M>) => ApiResult<ResultOf<M>> | Promise<ApiResult<ResultOf<M>>> };

export function isApiMethod(m: unknown): m is ApiMethod {
  return typeof m === 'string' && Object.hasOwn(METHODS, m);
}

/** The right a method needs; unknown methods need none here (dispatch refuses them). */
export function rightOf(method: string): ApiRight | null {
  return isApiMethod(method) ? METHODS[method].right : null;
}

export const subscriberName = <E extends ApiEvent>(e: E): Subscriber<E> => `on${e[0]?.toUpperCase() ?? ''}${e.slice(1)}` as Subscriber<E>;

/** `args` without the undefined ones at its end (optional arguments left out). */
export function withoutTrailingUndefined(args: readonly unknown[]): unknown[] {
  let n = args.length;
  while (n > 0 && args[n - 1] === undefined) n--;
  return args.slice(0, n);
}

/**
 * PortwatchApi from a transport's two primitives, so the Electron preload and the WebSocket client cannot
 * drift apart: `invoke` sends one request, `subscribe` listens to one pushed event.
 */
export function buildApi(
  invoke: (method: ApiMethod, ...args: unknown[]) => Promise<ApiResult<unknown>>,
  subscribe: (event: ApiEvent, listener: (payload: unknown) => void) => Unsubscribe,
  onConnection: PortwatchApi['onConnection'],
): PortwatchApi {
  const api: Record<string, unknown> = { onConnection };
  // an optional argument left out is not sent: JSON (the WebSocket) would turn a trailing undefined into null,
  // which the argument's schema refuses
  for (const m of API_METHODS) api[m] = (...args: unknown[]) => invoke(m, ...withoutTrailingUndefined(args));
  for (const e of API_EVENTS) api[subscriberName(e)] = (listener: (payload: unknown) => void) => subscribe(e, listener);
  // the one place the table's shape is asserted: the loops above give every method and subscription
  return api as unknown as PortwatchApi;
}

/**
 * Validates a call against the table and runs its handler: the one dispatch behind every transport. Every
 * answer is a value: unknown method, bad arguments and a throwing handler included.
 */
export async function dispatch(handlers: ApiHandlers, method: unknown, args: unknown): Promise<ApiResult<unknown>> {
  if (!isApiMethod(method)) return { ok: false, code: 'unknown-method', message: `no method ${JSON.stringify(method)?.slice(0, 80)}` };
  const parsed = METHODS[method].args.safeParse(args);
  if (!parsed.success) {
    return { ok: false, code: 'bad-request', message: `${method}: ${z.prettifyError(parsed.error).replace(/\s+/g, ' ').slice(0, 300)}` };
  }
  try {
    const handler = handlers[method] as (...a: readonly unknown[]) => ApiResult<unknown> | Promise<ApiResult<unknown>>;
    return await handler(...(parsed.data as readonly unknown[]));
  } catch (e) {
    return { ok: false, code: 'internal', message: e instanceof Error ? e.message : String(e) };
  }
}
