import type { ActionEntry, Alert, AlertMute, AlertSettings, ApiResult, BaselineState, CloseResult, KillResult } from '../../../shared/api';
import { DEFAULT_ALERT_SETTINGS } from '../../../shared/alerts';
import type { BaselineRule, RuleChoice } from '../../../shared/baseline';
import type { PortwatchApi } from '../../../shared/contract';
import type { Delta, MonitorStatus, Snapshot, Socket, SourceName } from '../../../shared/model';
import type { RecordingStatus } from '../../../shared/recording';
import { EngineMirror } from './engineMirror';
import { HistoryQueries } from './historyView';
import { RowTracker, type Row } from './rows';
import { RATE_SAMPLE_MS, withRatePoint, withStatePoint, type RatePoint, type StatePoint } from './series';
import { SparkHistory, type SparkPoint } from './sparkHistory';
import { withTrafficPoint, type TrafficPoint } from './trafficSeries';

export { HIGHLIGHT_MS, type Change, type Row } from './rows';
export { HISTORY_POINTS, type RatePoint, type StatePoint } from './series';
export type { SparkPoint } from './sparkHistory';
export type { TrafficPoint } from './trafficSeries';

/** What the UI renders from. A new object on every change; `rows` is rebuilt only when rows changed. */
export interface StoreView {
  version: number;
  rows: readonly Row[];
  rowsVersion: number;
  seq: number;
  takenAt: number | null;
  source: SourceName | null;
  status: MonitorStatus | null;
  connected: boolean;
  intervalMs: number | null;
  /** Polling is paused in the engine (from this page, another client, the tray or the API). */
  pollingPaused: boolean;
  /** The view is frozen: data keeps arriving underneath, `waiting` changes are held back. */
  frozen: boolean;
  waiting: number;
  elevated: boolean;
  /** This client may change things (false: a read-only web client; the controls are hidden). */
  control: boolean;
  reverseDns: boolean;
  /** Remote address -> host name, as reverse DNS answers arrive. */
  hostNames: Readonly<Record<string, string>>;
  /** The expected-ports baseline (null until known). */
  baseline: BaselineState | null;
  /** Unexpected listeners that appeared, newest last (bounded). */
  alerts: readonly Alert[];
  /** Mutes, snooze, whether loopback (low) alerts are shown: the engine's, for every client. */
  alertSettings: AlertSettings;
  /** Every kill and close, newest last (bounded). */
  actions: readonly ActionEntry[];
  /** Whether the engine records the history, and why not (null until known). */
  recording: RecordingStatus | null;
  /** Sockets by state over the last ten minutes (at most one point a second), oldest first. */
  history: readonly StatePoint[];
  /** Machine throughput, sampled every RATE_SAMPLE_MS from start-up, oldest first (bounded). */
  rates: readonly RatePoint[];
  ratesError: string | null;
  /** Each process's traffic over the last 60 s (one point a poll), by process key; held while the view is frozen. */
  sparks: ReadonlyMap<string, readonly SparkPoint[]>;
  /** The busiest processes and remote hosts over the last ten minutes (at most one point a second), oldest first. */
  traffic: readonly TrafficPoint[];
  /** A command that failed, to show once. */
  error: string | null;
}

/**
 * The renderer's state of the engine, outside React (read through App's useStoreView), composed of parts
 * with one concern each: the engine mirror (snapshot and ordered deltas), the rows and their highlights, the
 * series behind the charts, the slices the engine pushes (status, names, baseline, alerts, actions), and the
 * commands. Components read the view and call the store; none of them touches the API.
 */
export class SocketStore {
  private readonly mirror: EngineMirror;
  private readonly rowTracker: RowTracker;
  /** The History view's questions (the history database, read by the engine). */
  readonly history: HistoryQueries;
  private readonly sparkHistory = new SparkHistory();
  private view: StoreView = {
    version: 0,
    rows: [],
    rowsVersion: 0,
    seq: 0,
    takenAt: null,
    source: null,
    status: null,
    connected: false,
    intervalMs: null,
    pollingPaused: false,
    frozen: false,
    waiting: 0,
    elevated: false,
    control: true,
    reverseDns: false,
    hostNames: {},
    history: [],
    rates: [],
    ratesError: null,
    sparks: new Map(),
    traffic: [],
    baseline: null,
    alerts: [],
    alertSettings: DEFAULT_ALERT_SETTINGS,
    actions: [],
    recording: null,
    error: null,
  };
  private readonly listeners = new Set<() => void>();
  private readonly alertListeners = new Set<(a: Alert) => void>();
  private resyncing = false;
  private detach: Array<() => void> = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private rateTimer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly api: PortwatchApi,
    private readonly now: () => number = Date.now,
  ) {
    this.rowTracker = new RowTracker(now);
    this.history = new HistoryQueries(api);
    this.mirror = new EngineMirror({
      replaced: (s) => this.replaced(s),
      applied: (d) => this.applied(d),
      gap: () => void this.resync(),
    });
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getView = (): StoreView => this.view;

  /** The current socket of an id, whether shown or held back by a frozen view. */
  liveSocket(id: string): Socket | undefined {
    return this.mirror.get(id);
  }

  /** Every live socket (for details: everything a process owns). */
  liveSockets(): IterableIterator<Socket> {
    return this.mirror.sockets();
  }

  /** Each alert as it arrives (the page notifies with it in web mode). */
  onAlert(listener: (a: Alert) => void): () => void {
    this.alertListeners.add(listener);
    return () => this.alertListeners.delete(listener);
  }

  /** Subscribes to the engine first, then asks for its state: nothing falls between the two. */
  start(): void {
    this.detach = [
      this.api.onSnapshot((s) => this.mirror.replace(s)),
      this.api.onDelta((d) => this.mirror.delta(d)),
      this.api.onStatus((status) =>
        this.set({ status, pollingPaused: status.state === 'paused' ? true : status.state === 'ok' ? false : this.view.pollingPaused }),
      ),
      this.api.onHostNames((names) => this.set({ hostNames: { ...this.view.hostNames, ...names } })),
      this.api.onBaseline((baseline) => this.set({ baseline })),
      this.api.onAlert((a) => {
        this.set({ alerts: withAlert(this.view.alerts, a) });
        for (const l of [...this.alertListeners]) l(a);
      }),
      this.api.onAlertSettings((alertSettings) => this.settingsChanged(alertSettings)),
      this.api.onAction((e) => this.set({ actions: [...this.view.actions.slice(-199), e] })),
      this.api.onHistoryStatus((recording) => this.set({ recording })),
      this.api.onConnection((connected) => {
        this.set({ connected });
        if (connected) void this.resync();
        if (connected && this.view.rates.length === 0) void this.sampleRates();
      }),
    ];
    this.timer = setInterval(() => this.expire(EXPIRE_GRACE_MS), 250);
    this.rateTimer = setInterval(() => void this.sampleRates(), RATE_SAMPLE_MS);
    void this.sampleRates();
  }

  stop(): void {
    for (const off of this.detach) off();
    this.detach = [];
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.rateTimer) clearInterval(this.rateTimer);
    this.rateTimer = null;
  }

  // ---- commands: each answers the API's own result, and a failure is also shown once as `error`

  setPollInterval(ms: number): Promise<ApiResult<number>> {
    return this.command(this.api.setPollInterval(ms), (v) => ({ intervalMs: v }));
  }

  togglePolling(): Promise<ApiResult<null>> {
    const pause = !this.view.pollingPaused;
    return this.command(pause ? this.api.pausePolling() : this.api.resumePolling(), () => ({ pollingPaused: pause }));
  }

  setReverseDns(on: boolean): Promise<ApiResult<boolean>> {
    return this.command(this.api.setReverseDns(on), (v) => ({ reverseDns: v }));
  }

  markExpected(socketId: string, choice?: RuleChoice): Promise<ApiResult<BaselineState>> {
    return this.command(choice ? this.api.markExpected(socketId, choice) : this.api.markExpected(socketId), (v) => ({ baseline: v }));
  }

  /** Expects exactly these rules: the ones the confirmation showed. */
  acceptAllListeners(rules: BaselineRule[]): Promise<ApiResult<BaselineState>> {
    return this.command(this.api.acceptAllListeners(rules), (v) => ({ baseline: v }));
  }

  /** Replaces a rule of the baseline, or removes it (null: "un-mark"). */
  editBaselineRule(old: BaselineRule, next: BaselineRule | null): Promise<ApiResult<BaselineState>> {
    return this.command(next ? this.api.editBaselineRule(old, next) : this.api.removeBaselineRule(old), (v) => ({ baseline: v }));
  }

  setAlertsIncludeLoopback(on: boolean): Promise<ApiResult<AlertSettings>> {
    return this.alertCommand(this.api.setAlertsIncludeLoopback(on));
  }

  /** First-contact alerts (learning mode) on or off, for the engine; optionally how much history to learn from. */
  setFirstContact(on: boolean, learningMs?: number): Promise<ApiResult<AlertSettings>> {
    return this.alertCommand(this.api.setFirstContact(on, learningMs));
  }

  muteAlerts(m: AlertMute): Promise<ApiResult<AlertSettings>> {
    return this.alertCommand(this.api.muteAlerts(m));
  }

  unmuteAlerts(m: AlertMute): Promise<ApiResult<AlertSettings>> {
    return this.alertCommand(this.api.unmuteAlerts(m));
  }

  /** Nothing notifies for `ms`; 0 ends the snooze. */
  snoozeAlerts(ms: number): Promise<ApiResult<AlertSettings>> {
    return this.alertCommand(ms > 0 ? this.api.snoozeAlerts(ms) : this.api.unsnoozeAlerts());
  }

  clearAlerts(): Promise<ApiResult<AlertSettings>> {
    return this.alertCommand(this.api.clearAlerts());
  }

  /** Asks the engine to end a process; the answer says what happened (never success without it gone). */
  kill(pid: number, startTime: number | null, force: boolean): Promise<ApiResult<KillResult>> {
    return this.command(this.api.killProcess(pid, startTime, force));
  }

  closeConnection(id: string): Promise<ApiResult<CloseResult>> {
    return this.command(this.api.closeConnection(id));
  }

  /** Turns on conntrack accounting in the engine's namespace (the user confirmed it): UDP rates from the next polls. */
  enableConntrackAccounting(): Promise<ApiResult<boolean>> {
    return this.command(this.api.enableConntrackAccounting());
  }

  /** Turns recording the history on or off, for the engine (every window and client). */
  setRecording(on: boolean): Promise<ApiResult<RecordingStatus>> {
    return this.command(this.api.setRecording(on), (recording) => ({ recording }));
  }

  /**
   * One throughput sample into the rolling series. Sampled from start-up, not from when the Charts open, so
   * the chart shows the minutes before it was opened (bounded: RATE_POINTS). A disconnected page skips it:
   * the status bar says so already.
   */
  private async sampleRates(): Promise<void> {
    const r = await this.api.getNetworkRates();
    if (this.rateTimer === null) return; // stopped meanwhile
    if (!r.ok) {
      if (r.code !== 'disconnected') this.set({ ratesError: r.message });
      return;
    }
    this.set({ rates: withRatePoint(this.view.rates, this.now(), r.value), ratesError: null });
  }

  // ---- the view

  /** Freezes or unfreezes the view. Unfreezing shows everything that happened meanwhile, highlighted. */
  setFrozen(frozen: boolean): void {
    if (frozen === this.view.frozen) return;
    if (frozen) {
      this.set({ frozen: true, waiting: 0 });
      return;
    }
    this.rowTracker.catchUp(this.mirror.sockets(), (id) => this.mirror.has(id));
    this.rowsChanged({ frozen: false, waiting: 0, sparks: this.sparkHistory.current });
  }

  /**
   * Ends highlights that are due (`graceMs` ago or earlier); closed rows leave. Called by a timer, with a grace
   * that leaves them to the next delta (see EXPIRE_GRACE_MS); public for tests.
   */
  expire(graceMs = 0): void {
    if (this.rowTracker.expire(graceMs)) this.rowsChanged();
  }

  private alertCommand(call: Promise<ApiResult<AlertSettings>>): Promise<ApiResult<AlertSettings>> {
    return this.command(call, (v) => this.settingsPatch(v));
  }

  private settingsChanged(alertSettings: AlertSettings): void {
    this.set(this.settingsPatch(alertSettings));
  }

  /** New settings, and the list without what they say was cleared. */
  private settingsPatch(alertSettings: AlertSettings): Partial<StoreView> {
    return { alertSettings, alerts: this.view.alerts.filter((a) => a.id > alertSettings.clearedThrough) };
  }

  private async command<T>(call: Promise<ApiResult<T>>, onOk?: (v: T) => Partial<StoreView>): Promise<ApiResult<T>> {
    const r = await call;
    if (r.ok) this.set({ ...onOk?.(r.value), error: null });
    else this.set({ error: r.message });
    return r;
  }

  private async resync(): Promise<void> {
    if (this.resyncing) return;
    this.resyncing = true;
    try {
      const r = await this.api.getState();
      if (!r.ok) {
        this.set({ error: r.message });
        return;
      }
      const v = r.value;
      this.set({
        intervalMs: v.intervalMs,
        pollingPaused: v.paused,
        elevated: v.elevated,
        control: v.control,
        reverseDns: v.reverseDns,
        hostNames: { ...this.view.hostNames, ...v.hostNames },
        status: v.status ?? this.view.status,
      });
      if (v.snapshot && (v.snapshot.seq >= this.view.seq || this.mirror.waiting)) this.mirror.replace(v.snapshot);
      const [b, a, l, st] = await Promise.all([this.api.getBaseline(), this.api.getAlerts(), this.api.getActionLog(), this.api.getAlertSettings()]);
      if (b.ok) this.set({ baseline: b.value });
      if (a.ok) this.set({ alerts: a.value });
      if (st.ok) this.settingsChanged(st.value);
      if (l.ok) this.set({ actions: l.value });
      const h = await this.api.getHistoryStatus();
      if (h.ok) this.set({ recording: h.value });
    } finally {
      this.resyncing = false;
    }
  }

  /** The traffic series after a poll: recorded whether or not the view is frozen (data keeps arriving). */
  private trafficPatch(takenAt: number, closed: Delta['closed']): Pick<StoreView, 'traffic'> & Partial<Pick<StoreView, 'sparks'>> {
    const intervalMs = this.view.takenAt === null ? 0 : takenAt - this.view.takenAt;
    const sparks = this.sparkHistory.record(takenAt, this.mirror.sockets(), closed);
    const traffic = withTrafficPoint(this.view.traffic, takenAt, this.mirror.sockets(), closed, intervalMs);
    return this.view.frozen ? { traffic } : { traffic, sparks };
  }

  private replaced(s: Snapshot): void {
    const history = withStatePoint(this.view.history, s.takenAt, this.mirror.sockets());
    const meta = { seq: s.seq, takenAt: s.takenAt, source: s.source, history, ...this.trafficPatch(s.takenAt, []) };
    // a frozen view stays as it is; unfreezing compares it with what is live then
    if (this.view.frozen && !this.rowTracker.fresh) return this.set(meta);
    this.rowTracker.replace(this.mirror.sockets(), (id) => this.mirror.has(id), s.takenAt);
    this.rowsChanged(meta);
  }

  private applied(d: Delta): void {
    const count = d.added.length + d.removed.length + d.changed.length;
    const history = withStatePoint(this.view.history, d.takenAt, this.mirror.sockets());
    const traffic = this.trafficPatch(d.takenAt, d.closed);
    if (this.view.frozen) return this.set({ seq: d.seq, takenAt: d.takenAt, history, ...traffic, waiting: this.view.waiting + count });
    // the highlights due end with the delta: one new set of rows (filtered, sorted, grouped again) for both
    const expired = this.rowTracker.expire();
    if (count === 0 && !expired) return this.set({ seq: d.seq, takenAt: d.takenAt, history, ...traffic });
    this.rowTracker.apply(d);
    this.rowsChanged({ seq: d.seq, takenAt: d.takenAt, history, ...traffic });
  }

  private rowsChanged(patch: Partial<StoreView> = {}): void {
    this.set({ ...patch, rows: this.rowTracker.rows(), rowsVersion: this.view.rowsVersion + 1 });
  }

  private set(patch: Partial<StoreView>): void {
    this.view = { ...this.view, ...patch, version: this.view.version + 1 };
    for (const l of [...this.listeners]) l();
  }
}

/**
 * How late the timer ends a highlight: those due by the next delta end with it (SocketStore.applied), so that
 * at one poll a second the rows change once a second, not once for the delta and again a fraction of a second
 * later for the highlights of a few polls ago (each a filter, sort and group of every row, and a commit). The
 * timer ends them when no delta comes (a slower interval, polling paused): at most this much late.
 */
export const EXPIRE_GRACE_MS = 500;

/** How many alerts the view keeps. */
export const MAX_ALERTS = 200;

/**
 * The alert list with one more: past MAX_ALERTS the oldest low (loopback) alert goes first, then the oldest
 * quiet one, so that a flood (another user's decoys, test servers on loopback) never pushes out one that
 * notified (a listener on all interfaces).
 */
export function withAlert(list: readonly Alert[], a: Alert): Alert[] {
  const next = [...list, a];
  if (next.length <= MAX_ALERTS) return next;
  const low = next.findIndex((x) => x.severity === 'low');
  const quiet = low >= 0 ? low : next.findIndex((x) => !x.notify);
  next.splice(quiet >= 0 ? quiet : 0, 1);
  return next;
}
