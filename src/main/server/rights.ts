import type { ApiMethod, ApiResult } from '../../shared/api';

/**
 * Viewing and control are separate rights. Each method is one or the other; the table must name every
 * method, so a new one cannot be added without deciding. `change` is anything that acts on the machine or
 * alters what every client of the engine sees (the poll interval, pausing, reverse DNS, the baseline file).
 */
export const METHOD_RIGHT = {
  getState: 'view',
  setInterval: 'change',
  pause: 'change',
  resume: 'change',
  setReverseDns: 'change',
  getNetworkRates: 'view',
  getBaseline: 'view',
  markExpected: 'change',
  acceptAllListeners: 'change',
  getAlerts: 'view',
  killProcess: 'change',
  closeConnection: 'change',
  getActionLog: 'view',
} as const satisfies Record<ApiMethod, 'view' | 'change'>;

export const READ_ONLY: ApiResult<never> = { ok: false, code: 'forbidden', message: 'this server is read-only' };

/** True when a read-only connection may not call `method` (unknown methods are left to the dispatcher). */
export function needsControl(method: string): boolean {
  return Object.hasOwn(METHOD_RIGHT, method) && METHOD_RIGHT[method as ApiMethod] === 'change';
}
