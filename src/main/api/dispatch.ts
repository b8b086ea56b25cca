import { z } from 'zod';
import si from 'systeminformation';
import { API_METHODS, type Alert, type ApiEvent, type ApiMethod, type ApiResult, type BaselineState, type EngineState, type InterfaceRate, type Unsubscribe } from '../../shared/api';
import { ruleFor, rulesFor } from '../../shared/baseline';
import { BaselineStore } from '../engine/baselineFile';
import { Alerts } from './alerts';
import { describeKill, type ActionEntry, type CloseResult, type KillResult } from '../../shared/api';
import { formatEndpoint } from '../../shared/model';
import { closeTcpConnection } from '../engine/closeConnection';
import { ProcessKiller } from '../engine/kill';
import { tcpNow } from '../engine/sources/procfs';
import { UserDirectory } from '../engine/users';
import type { Delta, Snapshot } from '../../shared/model';
import { Emitter } from '../engine/events';
import { MAX_INTERVAL_MS, MIN_INTERVAL_MS, type MonitorLike } from '../engine/monitor';
import { HostNames, type LookupFn } from './hostNames';

/**
 * The one implementation of PortwatchApi's requests, behind both transports (Electron IPC and the web
 * server's WebSocket). Every argument list is validated here; every answer is a value, never a throw.
 */

const ARGS = {
  getState: z.tuple([]),
  setInterval: z.tuple([z.number().int().min(MIN_INTERVAL_MS).max(MAX_INTERVAL_MS)]),
  pause: z.tuple([]),
  resume: z.tuple([]),
  setReverseDns: z.tuple([z.boolean()]),
  getNetworkRates: z.tuple([]),
  getBaseline: z.tuple([]),
  markExpected: z.tuple([z.string().min(1).max(512)]),
  acceptAllListeners: z.tuple([]),
  getAlerts: z.tuple([]),
  killProcess: z.tuple([z.number().int().min(1).max(2 ** 31 - 1), z.number().int().nonnegative().nullable(), z.boolean()]),
  closeConnection: z.tuple([z.string().min(1).max(512)]),
  getActionLog: z.tuple([]),
} satisfies Record<ApiMethod, z.ZodType>;

export interface DispatcherOptions {
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
}

export function isApiMethod(m: unknown): m is ApiMethod {
  return typeof m === 'string' && (API_METHODS as readonly string[]).includes(m);
}

export class ApiDispatcher {
  private readonly names: HostNames;
  private readonly events = new Emitter<{ hostnames: Record<string, string>; baseline: BaselineState; alert: Alert; action: ActionEntry }>();
  private readonly killer: ProcessKiller;
  private readonly actionLog: ActionEntry[] = [];
  private readonly ssCommand: string[] | undefined;
  private readonly baseline: BaselineStore | null;
  private readonly alerts: Alerts;
  private readonly networkStats: NonNullable<DispatcherOptions['networkStats']>;

  constructor(
    private readonly monitor: MonitorLike,
    opts: DispatcherOptions = {},
  ) {
    this.names = new HostNames((n) => this.events.emit('hostnames', n), opts.lookup);
    this.networkStats = opts.networkStats ?? (() => si.networkStats('*') as Promise<Array<{ iface: string; rx_sec: number | null; tx_sec: number | null }>>);
    this.baseline = opts.baselinePath ? new BaselineStore(opts.baselinePath) : null;
    this.killer = opts.killer ?? new ProcessKiller({ users: new UserDirectory() });
    this.ssCommand = opts.ssCommand;
    this.alerts = new Alerts({ rules: () => this.baseline?.rules() ?? [], onAlert: (a) => this.events.emit('alert', a) });
    // names are looked up as remote addresses appear, beside the poll, never inside it
    monitor.on('snapshot', (s: Snapshot) => {
      this.names.want(s.sockets.map((x) => x.remoteAddress));
      this.alerts.snapshot(s);
    });
    monitor.on('delta', (d: Delta) => {
      this.names.want([...d.added, ...d.changed].map((x) => x.remoteAddress));
      this.alerts.delta(d);
    });
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

  baselineState(): BaselineState {
    if (!this.baseline) return { ok: false, path: '', message: 'no baseline file in this mode' };
    const c = this.baseline.current();
    return c.ok ? { ok: true, path: this.baseline.path, exists: c.exists, rules: c.baseline.rules } : { ok: false, path: this.baseline.path, message: c.message };
  }

  private changeBaseline(rules: ReturnType<typeof rulesFor>): ApiResult<BaselineState> {
    if (!this.baseline) return { ok: false, code: 'bad-request', message: 'no baseline file in this mode' };
    try {
      this.baseline.add(rules);
    } catch (e) {
      return { ok: false, code: 'internal', message: e instanceof Error ? e.message : String(e) };
    }
    const state = this.baselineState();
    this.events.emit('baseline', state);
    return { ok: true, value: state };
  }

  private log(entry: Omit<ActionEntry, 'at'>): void {
    const e = { at: Date.now(), ...entry };
    this.actionLog.push(e);
    if (this.actionLog.length > 500) this.actionLog.shift();
    this.events.emit('action', e);
  }

  private async kill(pid: number, startTime: number | null, force: boolean): Promise<KillResult> {
    const name = this.monitor.getSnapshot()?.sockets.find((s) => s.process?.pid === pid)?.process?.name;
    const out = await this.killer.terminate({ pid, startTime }, force);
    const detail = out.result === 'refused' ? out.reason : describeKill(out);
    this.log({ kind: 'kill', target: `${name ?? 'process'} (pid ${pid})`, signal: force ? 'SIGKILL' : 'SIGTERM', result: out.result, detail });
    return out;
  }

  private async close(id: string): Promise<CloseResult | null> {
    const s = this.monitor.getSnapshot()?.sockets.find((x) => x.id === id);
    if (!s) return null;
    const out = await closeTcpConnection(s, { listAgain: async () => tcpNow(), command: this.ssCommand });
    this.log({
      kind: 'close',
      target: `${s.protocol} ${formatEndpoint(s.localAddress, s.localPort)} -> ${formatEndpoint(s.remoteAddress, s.remotePort)}${s.process ? ` (${s.process.name})` : ''}`,
      signal: null,
      result: out.result,
      detail: out.result === 'closed' ? 'closed, and gone from the kernel table' : out.reason,
    });
    return out;
  }

  async call(method: unknown, args: unknown): Promise<ApiResult<unknown>> {
    if (!isApiMethod(method)) return { ok: false, code: 'unknown-method', message: `no method ${JSON.stringify(method)?.slice(0, 80)}` };
    const parsed = ARGS[method].safeParse(args);
    if (!parsed.success) {
      return { ok: false, code: 'bad-request', message: `${method}: ${z.prettifyError(parsed.error).replace(/\s+/g, ' ').slice(0, 300)}` };
    }
    try {
      switch (method) {
        case 'getState':
          return { ok: true, value: this.state() };
        case 'setInterval':
          this.monitor.setIntervalMs(parsed.data[0] as number);
          return { ok: true, value: this.monitor.getIntervalMs() };
        case 'pause':
          this.monitor.pause();
          return { ok: true, value: null };
        case 'resume':
          this.monitor.resume();
          return { ok: true, value: null };
        case 'setReverseDns': {
          const on = parsed.data[0] as boolean;
          this.names.setEnabled(on);
          if (on) this.names.want(this.monitor.getSnapshot()?.sockets.map((x) => x.remoteAddress) ?? []);
          return { ok: true, value: on };
        }
        case 'getBaseline':
          return { ok: true, value: this.baselineState() };
        case 'markExpected': {
          const socket = this.monitor.getSnapshot()?.sockets.find((x) => x.id === parsed.data[0]);
          if (!socket) return { ok: false, code: 'bad-request', message: 'no such socket now' };
          if (!socket.listening) return { ok: false, code: 'bad-request', message: 'only listening sockets are judged' };
          return this.changeBaseline([ruleFor(socket)]);
        }
        case 'acceptAllListeners':
          return this.changeBaseline(rulesFor(this.monitor.getSnapshot()?.sockets ?? []));
        case 'getAlerts':
          return { ok: true, value: this.alerts.all() };
        case 'killProcess': {
          const [pid, startTime, force] = parsed.data as [number, number | null, boolean];
          return { ok: true, value: await this.kill(pid, startTime, force) };
        }
        case 'closeConnection': {
          const out = await this.close(parsed.data[0] as string);
          return out ? { ok: true, value: out } : { ok: false, code: 'bad-request', message: 'no such socket now' };
        }
        case 'getActionLog':
          return { ok: true, value: [...this.actionLog] };
        case 'getNetworkRates': {
          const stats = await this.networkStats();
          const rates: InterfaceRate[] = stats.map((x) => ({ iface: x.iface, rxPerSec: Math.max(0, x.rx_sec ?? 0), txPerSec: Math.max(0, x.tx_sec ?? 0) }));
          return { ok: true, value: rates };
        }
      }
    } catch (e) {
      return { ok: false, code: 'internal', message: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Forwards the monitor's pushed events. */
  subscribe(listener: (event: ApiEvent, data: unknown) => void): Unsubscribe {
    const offs = [
      this.monitor.on('snapshot', (s) => listener('snapshot', s)),
      this.monitor.on('delta', (d) => listener('delta', d)),
      this.monitor.on('status', (s) => listener('status', s)),
      this.events.on('hostnames', (n) => listener('hostnames', n)),
      this.events.on('baseline', (b) => listener('baseline', b)),
      this.events.on('alert', (a) => listener('alert', a)),
      this.events.on('action', (a) => listener('action', a)),
    ];
    return () => offs.forEach((off) => off());
  }
}
