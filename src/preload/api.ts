import type { IpcRenderer, IpcRendererEvent } from 'electron';
import { ipcEventChannel, ipcInvokeChannel, type ApiEvent, type ApiMethod, type ApiResult, type PortwatchApi } from '../shared/api';
import { buildApi } from '../shared/apiClient';

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
  // IPC to our own main process does not drop; if main dies, the window goes with it
  return buildApi(invoke, subscribe as (event: ApiEvent, listener: (data: never) => void) => () => void, (l) => {
    l(true);
    return () => {};
  });
}
