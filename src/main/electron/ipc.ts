import type { IpcMain, IpcMainInvokeEvent, WebFrameMain } from 'electron';
import { ipcEventChannel, ipcInvokeChannel, type ApiResult, type Unsubscribe } from '../../shared/api';
import { API_METHODS } from '../../shared/contract';
import type { EngineApi } from '../api/engineApi';

/**
 * Binds PortwatchApi to IPC. Every handler first checks that the caller is the app's own main frame (not a
 * subframe, not another window, not a page that navigated elsewhere), then lets the engine API validate the
 * arguments against the contract. Answers are values: `{ ok: false, code, message }`, never a rejected invoke.
 */
export function bindIpc(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  api: Pick<EngineApi, 'call'>,
  isTrustedSender: (frame: WebFrameMain | null) => boolean,
): Unsubscribe {
  for (const method of API_METHODS) {
    ipcMain.handle(ipcInvokeChannel(method), async (event: IpcMainInvokeEvent, ...args: unknown[]): Promise<ApiResult<unknown>> => {
      if (!isTrustedSender(event.senderFrame)) return { ok: false, code: 'forbidden', message: 'not the Portwatch window' };
      return api.call(method, args);
    });
  }
  return () => {
    for (const method of API_METHODS) ipcMain.removeHandler(ipcInvokeChannel(method));
  };
}

/** Pushes the engine API's events to a window while it lives. */
export function forwardEvents(api: Pick<EngineApi, 'subscribe'>, send: (channel: string, data: unknown) => void): Unsubscribe {
  return api.subscribe((m) => send(ipcEventChannel(m.event), m.payload));
}

/** A trusted sender: the given window's main frame, showing the app's own page. */
export function trustedSender(mainFrame: () => WebFrameMain | null, appUrl: () => string): (frame: WebFrameMain | null) => boolean {
  return (frame) => {
    const main = mainFrame();
    if (!frame || !main || frame !== main) return false;
    const base = appUrl();
    return frame.url === base || frame.url.startsWith(`${base}#`) || frame.url.startsWith(`${base}?`);
  };
}
