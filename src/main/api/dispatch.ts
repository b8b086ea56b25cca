import { z } from 'zod';
import { API_METHODS, type ApiEvent, type ApiMethod, type ApiResult, type EngineState, type Unsubscribe } from '../../shared/api';
import { MAX_INTERVAL_MS, MIN_INTERVAL_MS, type MonitorLike } from '../engine/monitor';

/**
 * The one implementation of PortwatchApi's requests, behind both transports (Electron IPC and the web
 * server's WebSocket). Every argument list is validated here; every answer is a value, never a throw.
 */

const ARGS = {
  getState: z.tuple([]),
  setInterval: z.tuple([z.number().int().min(MIN_INTERVAL_MS).max(MAX_INTERVAL_MS)]),
  pause: z.tuple([]),
  resume: z.tuple([]),
} satisfies Record<ApiMethod, z.ZodType>;

export function isApiMethod(m: unknown): m is ApiMethod {
  return typeof m === 'string' && (API_METHODS as readonly string[]).includes(m);
}

export class ApiDispatcher {
  constructor(private readonly monitor: MonitorLike) {}

  state(): EngineState {
    return {
      snapshot: this.monitor.getSnapshot(),
      status: this.monitor.getStatus(),
      intervalMs: this.monitor.getIntervalMs(),
      paused: this.monitor.isPaused(),
      elevated: typeof process.getuid === 'function' && process.getuid() === 0,
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
    ];
    return () => offs.forEach((off) => off());
  }
}
