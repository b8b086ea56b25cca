import type { IpcRenderer, IpcRendererEvent } from 'electron';
import { ipcEventChannel, ipcInvokeChannel, type ApiResult } from '../shared/api';
import { buildApi, type ApiEvent, type ApiMethod, type PortwatchApi } from '../shared/contract';

/**
 * PortwatchApi over IPC, and nothing more: named methods only, never ipcRenderer itself; each subscription
 * returns its own unsubscribe and hands the listener the data, never the raw event.
 */
export function createIpcApi(ipc: Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>): PortwatchApi {
  const invoke = async (method: ApiMethod, ...args: unknown[]): Promise<ApiResult<unknown>> => {
    try {
      return (await ipc.invoke(ipcInvokeChannel(method), ...args)) as ApiResult<unknown>;
    } catch (e) {
      return { ok: false, code: 'disconnected', message: e instanceof Error ? e.message : String(e) };
    }
  };
  const subscribe = (event: ApiEvent, listener: (payload: unknown) => void): (() => void) => {
    const handler = (_event: IpcRendererEvent, payload: unknown): void => listener(payload);
    ipc.on(ipcEventChannel(event), handler);
    return () => {
      ipc.removeListener(ipcEventChannel(event), handler);
    };
  };
  // IPC to our own main process does not drop; if main dies, the window goes with it
  return buildApi(invoke, subscribe, (l) => {
    l(true);
    return () => {};
  });
}
