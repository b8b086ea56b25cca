import { z } from 'zod';
import si from 'systeminformation';
import { API_METHODS, type ApiEvent, type ApiMethod, type ApiResult, type EngineState, type InterfaceRate, type Unsubscribe } from '../../shared/api';
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
} satisfies Record<ApiMethod, z.ZodType>;

export interface DispatcherOptions {
  /** Reverse lookups (tests inject one). */
  lookup?: LookupFn;
  /** Interface counters (tests inject one). */
  networkStats?: () => Promise<Array<{ iface: string; rx_sec: number | null; tx_sec: number | null }>>;
}

export function isApiMethod(m: unknown): m is ApiMethod {
  return typeof m === 'string' && (API_METHODS as readonly string[]).includes(m);
}

export class ApiDispatcher {
  private readonly names: HostNames;
  private readonly events = new Emitter<{ hostnames: Record<string, string> }>();
  private readonly networkStats: NonNullable<DispatcherOptions['networkStats']>;

  constructor(
    private readonly monitor: MonitorLike,
    opts: DispatcherOptions = {},
  ) {
    this.names = new HostNames((n) => this.events.emit('hostnames', n), opts.lookup);
    this.networkStats = opts.networkStats ?? (() => si.networkStats('*') as Promise<Array<{ iface: string; rx_sec: number | null; tx_sec: number | null }>>);
    // names are looked up as remote addresses appear, beside the poll, never inside it
    monitor.on('snapshot', (s: Snapshot) => this.names.want(s.sockets.map((x) => x.remoteAddress)));
    monitor.on('delta', (d: Delta) => this.names.want([...d.added, ...d.changed].map((x) => x.remoteAddress)));
  }

  state(): EngineState {
    return {
      snapshot: this.monitor.getSnapshot(),
      status: this.monitor.getStatus(),
      intervalMs: this.monitor.getIntervalMs(),
      paused: this.monitor.isPaused(),
      elevated: typeof process.getuid === 'function' && process.getuid() === 0,
      reverseDns: this.names.isEnabled(),
      hostNames: this.names.known(),
    };
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
    ];
    return () => offs.forEach((off) => off());
  }
}
