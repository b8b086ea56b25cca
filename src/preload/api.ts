import type { IpcRenderer, IpcRendererEvent } from 'electron';
import { ipcEventChannel, ipcInvokeChannel, type ApiEvent, type ApiMethod, type ApiResult, type PortwatchApi } from '../shared/api';

/**
 * PortwatchApi over IPC, and nothing more: named methods only, never ipcRenderer itself; each subscription
 * returns its own unsubscribe and hands the listener the data, never the raw event.
 */
export function createIpcApi(ipc: Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>): PortwatchApi {
  const invoke = async <T>(method: ApiMethod, ...args: unknown[]): Promise<ApiResult<T>> => {
    try {
      return (await ipc.invoke(ipcInvokeChannel(method), ...args)) as ApiResult<T>;
    } catch (e) {
      return { ok: false, code: 'disconnected', message: e instanceof Error ? e.message : String(e) };
    }
  };
  const subscribe = <T>(event: ApiEvent, listener: (data: T) => void): (() => void) => {
    const handler = (_event: IpcRendererEvent, data: T): void => listener(data);
    ipc.on(ipcEventChannel(event), handler);
    return () => {
      ipc.removeListener(ipcEventChannel(event), handler);
    };
  };
  return {
    getState: () => invoke('getState'),
    setInterval: (ms) => invoke('setInterval', ms),
    pause: () => invoke('pause'),
    resume: () => invoke('resume'),
    setReverseDns: (on) => invoke('setReverseDns', on),
    getNetworkRates: () => invoke('getNetworkRates'),
    onHostNames: (l) => subscribe('hostnames', l),
    getBaseline: () => invoke('getBaseline'),
    markExpected: (id) => invoke('markExpected', id),
    acceptAllListeners: () => invoke('acceptAllListeners'),
    onBaseline: (l) => subscribe('baseline', l),
    getAlerts: () => invoke('getAlerts'),
    onAlert: (l) => subscribe('alert', l),
    killProcess: (pid, startTime, force) => invoke('killProcess', pid, startTime, force),
    closeConnection: (id) => invoke('closeConnection', id),
    getActionLog: () => invoke('getActionLog'),
    onAction: (l) => subscribe('action', l),
    onSnapshot: (l) => subscribe('snapshot', l),
    onDelta: (l) => subscribe('delta', l),
    onStatus: (l) => subscribe('status', l),
    // IPC to our own main process does not drop; if main dies, the window goes with it
    onConnection: (l) => {
      l(true);
      return () => {};
    },
  };
}
