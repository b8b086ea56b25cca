import type { ApiEvent, ApiMethod, ApiResult, PortwatchApi, Unsubscribe } from './api';

/**
 * Builds PortwatchApi from a transport's two primitives, so the Electron preload and the WebSocket client
 * cannot drift apart: `invoke` sends one request, `subscribe` listens to one pushed event.
 */
export function buildApi(
  invoke: (method: ApiMethod, ...args: unknown[]) => Promise<ApiResult<unknown>>,
  subscribe: (event: ApiEvent, listener: (data: never) => void) => Unsubscribe,
  onConnection: PortwatchApi['onConnection'],
): PortwatchApi {
  const call = <T>(method: ApiMethod, ...args: unknown[]): Promise<ApiResult<T>> => invoke(method, ...args) as Promise<ApiResult<T>>;
  return {
    getState: () => call('getState'),
    setInterval: (ms) => call('setInterval', ms),
    pause: () => call('pause'),
    resume: () => call('resume'),
    setReverseDns: (on) => call('setReverseDns', on),
    getNetworkRates: () => call('getNetworkRates'),
    getBaseline: () => call('getBaseline'),
    markExpected: (id) => call('markExpected', id),
    acceptAllListeners: () => call('acceptAllListeners'),
    getAlerts: () => call('getAlerts'),
    killProcess: (pid, startTime, force) => call('killProcess', pid, startTime, force),
    closeConnection: (id) => call('closeConnection', id),
    getActionLog: () => call('getActionLog'),
    onSnapshot: (l) => subscribe('snapshot', l),
    onDelta: (l) => subscribe('delta', l),
    onStatus: (l) => subscribe('status', l),
    onHostNames: (l) => subscribe('hostnames', l),
    onBaseline: (l) => subscribe('baseline', l),
    onAlert: (l) => subscribe('alert', l),
    onAction: (l) => subscribe('action', l),
    onConnection,
  };
}
