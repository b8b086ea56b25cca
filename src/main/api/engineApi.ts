import si from 'systeminformation';
import type { Alert, AlertSettings, ApiResult, BaselineState, EngineState, InterfaceRate, Unsubscribe, ActionEntry } from '../../shared/api';
import { dispatch, type ApiEventMessage, type ApiHandlers } from '../../shared/contract';
import type { Socket } from '../../shared/model';
import { NO_HISTORY, type RecordingStatus } from '../../shared/recording';
import {
  defaultHistoryPath,
  Emitter,
  HistoryRecording,
  loadSettings,
  type MonitorLike,
  ProcessKiller,
  type SettingsFile,
  UserDirectory,
  writeSettings,
} from '../engine';
import { ActionLog } from './actionLog';
import { Alerts } from './alerts';
import { BaselineService } from './baselineService';
import { enableConntrackAccounting } from './conntrackAccounting';
import { FirstContacts } from './firstContact';
import { HistoryThread } from './historyThread';
import { HostNames, type LookupFn } from './hostNames';
import { ProcessActions } from './processActions';

export interface EngineApiOptions {
  /** Reverse lookups (tests inject one). */
  lookup?: LookupFn;
  /** Interface counters (tests inject one). */
  networkStats?: () => Promise<Array<{ iface: string; rx_sec: number | null; tx_sec: number | null }>>;
  /** The expected-ports baseline file; without one, every listener is unexpected and nothing is saved. */
  baselinePath?: string;
  /** Ends processes (tests give it another `self`). */
  killer?: ProcessKiller;
  /** Runs ss for closing connections (tests wrap it in a namespace). */
  ssCommand?: string[];
  /**
   * The history database this engine records into (with `record`) and a History view reads: the user's
   * (defaultHistoryPath) or `--db PATH`. Without one this engine keeps no history.
   */
  historyPath?: string;
  /**
   * Record into historyPath from the start; setRecording changes it. `'setting'`: as the settings file says
   * (default on), and setRecording is saved there (the desktop app). Default false.
   */
  record?: boolean | 'setting';
  /**
   * The user's settings file (defaultSettingsPath): alert mutes, snooze, loopback and first-contact settings
   * are read from it at start and saved to it on each change. A file that cannot be trusted or read is left
   * as it is (`onSettingsError` says why) and nothing is saved over it. Without one, settings last a run.
   */
  settingsPath?: string;
  onSettingsError?: (message: string) => void;
  /** Who records, as a second Portwatch names the lock's holder (`portwatch serve`). */
  historyCommand?: string;
  /** Problems of the recording for a log (the CLI's stderr), and its status as it changes. */
  onHistoryError?: (message: string) => void;
  onHistoryStatus?: (s: RecordingStatus) => void;
  /** First-contact alerts count loopback destinations too (tests with no other address to reach). */
  firstContactLoopback?: boolean;
}

type ServiceEvents = {
  hostNames: Record<string, string>;
  baseline: BaselineState;
  alert: Alert;
  alertSettings: AlertSettings;
  action: ActionEntry;
  historyStatus: RecordingStatus;
};

const ok = <T>(value: T): ApiResult<T> => ({ ok: true, value });

/**
 * PortwatchApi's engine side, behind both transports (Electron IPC and the web server's WebSocket): small
 * services (alerts, baseline, host names, process actions and their log, interface rates) composed over one
 * monitor, the contract's handlers for them, and their events. Whoever creates it disposes of it (the server
 * on close, the app on quit): it stops listening to the monitor and drops its subscribers.
 */
export class EngineApi {
  readonly handlers: ApiHandlers;
  private readonly events = new Emitter<ServiceEvents>();
  private readonly names: HostNames;
  private readonly alerts: Alerts;
  private readonly baseline: BaselineService;
  private readonly log: ActionLog;
  private readonly actions: ProcessActions;
  private readonly history: HistoryThread;
  private readonly recording: HistoryRecording | null;
  private readonly contacts: FirstContacts;
  /** The settings file as read (null: none, or not to be written over). */
  private settingsFile: SettingsFile | null;
  private readonly offMonitor: Unsubscribe[];
  private readonly subscribers = new Set<Unsubscribe>();
  private disposed = false;
  /** First contacts have what the history knows (from its writer, or its reader: learnFromReader). */
  private contactsLearned = false;
  private contactsAsked = false;
  private historyClosed: Promise<void> = Promise.resolve();

  constructor(
    private readonly monitor: MonitorLike,
    private readonly opts: EngineApiOptions = {},
  ) {
    const networkStats = opts.networkStats ?? (() => si.networkStats('*') as Promise<Array<{ iface: string; rx_sec: number | null; tx_sec: number | null }>>);
    this.names = new HostNames((n) => this.events.emit('hostNames', n), opts.lookup);
    this.baseline = new BaselineService(opts.baselinePath ?? null, (b) => this.events.emit('baseline', b));
    const saved = opts.settingsPath ? loadSettings(opts.settingsPath) : null;
    if (saved && !saved.ok) opts.onSettingsError?.(saved.message);
    this.settingsFile = saved?.ok ? saved.settings : null;
    this.alerts = new Alerts({
      rules: () => this.baseline.rules(),
      onAlert: (a) => this.events.emit('alert', a),
      onSettings: (s) => {
        this.events.emit('alertSettings', s);
        const { mutes, snoozedUntil, includeLoopback, firstContact, learningMs } = s;
        this.saveSettings({ alerts: { mutes, snoozedUntil, includeLoopback, firstContact, learningMs } });
      },
      initial: this.settingsFile?.alerts,
    });
    this.log = new ActionLog((e) => this.events.emit('action', e));
    this.history = new HistoryThread(opts.historyPath ?? defaultHistoryPath(), () => this.names.known());
    this.actions = new ProcessActions(opts.killer ?? new ProcessKiller({ users: new UserDirectory(undefined, 'background') }), this.log, opts.ssCommand);
    this.contacts = new FirstContacts({
      onContact: (s) => this.alerts.contact(s),
      enabled: () => this.alerts.settings().firstContact,
      learningMs: () => this.alerts.settings().learningMs,
      includeLoopback: opts.firstContactLoopback,
      current: () => monitor.getSnapshot(),
    });
    this.recording = opts.historyPath
      ? new HistoryRecording(monitor, {
          path: opts.historyPath,
          command: opts.historyCommand ?? 'portwatch',
          enabled: opts.record === 'setting' ? (this.settingsFile?.recordHistory ?? true) : opts.record === true,
          onStatus: (s) => {
            opts.onHistoryStatus?.(s);
            this.events.emit('historyStatus', s);
            if (s.state === 'off' || s.state === 'paused') this.learnFromReader();
          },
          onError: opts.onHistoryError,
          // what the history learned, each time it opens: first contacts are compared with it
          onContacts: (c) => {
            this.contactsLearned = true;
            this.contacts.load(c, monitor.getSnapshot());
          },
        })
      : null;
    if (this.recording?.status().state === 'off') this.learnFromReader();
    // names are looked up as remote addresses appear, beside the poll, never inside it
    this.offMonitor = [
      monitor.on('snapshot', (s) => {
        this.names.want(s.sockets.map((x) => x.remoteAddress));
        this.alerts.snapshot(s);
      }),
      monitor.on('delta', (d) => {
        this.names.want([...d.added, ...d.changed].map((x) => x.remoteAddress));
        this.alerts.delta(d);
        this.contacts.delta(d);
      }),
    ];

    const liveSockets = (): Iterable<Socket> => monitor.getSnapshot()?.sockets ?? [];
    this.handlers = {
      getState: () => ok(this.state()),
      setPollInterval: (ms) => {
        monitor.setIntervalMs(ms);
        return ok(monitor.getIntervalMs());
      },
      pausePolling: () => {
        monitor.pause();
        return ok(null);
      },
      resumePolling: () => {
        monitor.resume();
        return ok(null);
      },
      setReverseDns: (on) => {
        this.names.setEnabled(on);
        if (on) this.names.want(Array.from(liveSockets(), (x) => x.remoteAddress));
        return ok(on);
      },
      getNetworkRates: async () => {
        const stats = await networkStats();
        return ok<InterfaceRate[]>(stats.map((x) => ({ iface: x.iface, rxPerSec: Math.max(0, x.rx_sec ?? 0), txPerSec: Math.max(0, x.tx_sec ?? 0) })));
      },
      getBaseline: () => ok(this.baseline.state()),
      markExpected: (id, choice) => this.baseline.markExpected(monitor.socket(id), choice),
      acceptAllListeners: (rules) => this.baseline.acceptAll(rules),
      editBaselineRule: (old, next) => this.baseline.edit(old, next),
      removeBaselineRule: (old) => this.baseline.edit(old, null),
      getAlerts: () => ok(this.alerts.all()),
      getAlertSettings: () => ok(this.alerts.settings()),
      setAlertsIncludeLoopback: (on) => ok(this.alerts.setIncludeLoopback(on)),
      setFirstContact: (on, learningMs) => ok(this.alerts.setFirstContact(on, learningMs)),
      muteAlerts: (m) => ok(this.alerts.mute(m)),
      unmuteAlerts: (m) => ok(this.alerts.unmute(m)),
      snoozeAlerts: (ms) => ok(this.alerts.snooze(ms)),
      unsnoozeAlerts: () => ok(this.alerts.snooze(0)),
      clearAlerts: () => ok(this.alerts.clear()),
      killProcess: async (pid, startTime, force) => ok(await this.actions.kill(pid, startTime, force, this.processName(pid))),
      closeConnection: async (id) => {
        const s = monitor.socket(id);
        return s ? ok(await this.actions.close(s)) : { ok: false, code: 'bad-request', message: 'no such socket now' };
      },
      getActionLog: () => ok(this.log.all()),
      historyFlows: (range, query) => this.history.flows(range, query),
      historyListeners: (range, port) => this.history.listeners(range, port),
      historyEvents: (key, range) => this.history.events(key, range),
      historyTimeline: (range, buckets) => this.history.timeline(range, buckets),
      enableConntrackAccounting: () => enableConntrackAccounting(),
      getHistoryStatus: () => ok(this.recording?.status() ?? NO_HISTORY),
      setRecording: (on) => {
        if (!this.recording) return { ok: false, code: 'bad-request', message: 'this Portwatch keeps no history' };
        if (opts.record === 'setting') this.saveSettings({ recordHistory: on });
        return ok(this.recording.setEnabled(on));
      },
    };
  }

  state(): EngineState {
    return {
      snapshot: this.monitor.getSnapshot(),
      status: this.monitor.getStatus(),
      intervalMs: this.monitor.getIntervalMs(),
      paused: this.monitor.isPaused(),
      elevated: typeof process.getuid === 'function' && process.getuid() === 0,
      // the transport narrows it per client (serve --read-only, remote clients)
      control: true,
      reverseDns: this.names.isEnabled(),
      hostNames: this.names.known(),
    };
  }

  /** One call from a transport, validated against the contract; every answer is a value. */
  call(method: unknown, args: unknown): Promise<ApiResult<unknown>> {
    if (this.disposed) return Promise.resolve({ ok: false, code: 'disconnected', message: 'Portwatch is shutting down' });
    return dispatch(this.handlers, method, args);
  }

  /** Every pushed event: the monitor's and the services'. */
  subscribe(listener: (m: ApiEventMessage) => void): Unsubscribe {
    if (this.disposed) return () => undefined;
    const offs = [
      this.monitor.on('snapshot', (payload) => listener({ event: 'snapshot', payload })),
      this.monitor.on('delta', (payload) => listener({ event: 'delta', payload })),
      this.monitor.on('status', (payload) => listener({ event: 'status', payload })),
      this.events.on('hostNames', (payload) => listener({ event: 'hostNames', payload })),
      this.events.on('baseline', (payload) => listener({ event: 'baseline', payload })),
      this.events.on('alert', (payload) => listener({ event: 'alert', payload })),
      this.events.on('alertSettings', (payload) => listener({ event: 'alertSettings', payload })),
      this.events.on('action', (payload) => listener({ event: 'action', payload })),
      this.events.on('historyStatus', (payload) => listener({ event: 'historyStatus', payload })),
    ];
    const off = (): void => {
      offs.forEach((o) => o());
      this.subscribers.delete(off);
    };
    this.subscribers.add(off);
    return off;
  }

  /**
   * First contacts learn what the history knows when its writer opens it. When this engine does not write it
   * (another process records, recording is off, or the writer could not open it), the reader thread reads the
   * same set instead, once: `serve` beside a `portwatch record` service still alerts on first contacts. A history
   * that does not exist yet is learned from now on; one that cannot be read is asked again at the next change.
   */
  private learnFromReader(): void {
    if (this.contactsLearned || this.contactsAsked || this.disposed) return;
    this.contactsAsked = true;
    void this.history.contacts().then((r) => {
      this.contactsAsked = false;
      if (this.disposed || this.contactsLearned) return;
      if (!r.ok && r.code !== 'no-history') return;
      this.contactsLearned = true;
      this.contacts.load(r.ok ? r.value : { keys: [], truncated: false, since: null }, this.monitor.getSnapshot());
    });
  }

  /** Stops listening to the monitor, ends every subscription and lookups; later calls answer `disconnected`. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const off of this.offMonitor) off();
    for (const off of [...this.subscribers]) off();
    this.names.setEnabled(false);
    const reader = this.history.dispose();
    this.historyClosed = Promise.all([reader, this.recording?.dispose()]).then(() => undefined);
  }

  /** Disposes (see dispose) and waits until the history is written, its databases closed and its lock released. */
  close(): Promise<void> {
    this.dispose();
    return this.historyClosed;
  }

  /** Saves a change into the settings file, keeping what else it holds; a file that was refused is never written. */
  private saveSettings(patch: Partial<SettingsFile>): void {
    if (!this.opts.settingsPath || !this.settingsFile) return;
    this.settingsFile = { ...this.settingsFile, ...patch };
    try {
      writeSettings(this.opts.settingsPath, this.settingsFile);
    } catch (e) {
      this.opts.onSettingsError?.((e as Error).message);
    }
  }

  private processName(pid: number): string | undefined {
    for (const s of this.monitor.getSnapshot()?.sockets ?? []) if (s.process?.pid === pid) return s.process.name;
    return undefined;
  }
}
