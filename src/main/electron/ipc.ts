import type { IpcMain, IpcMainInvokeEvent, WebFrameMain } from 'electron';
import { API_METHODS, ipcEventChannel, ipcInvokeChannel, type ApiResult, type Unsubscribe } from '../../shared/api';
import type { ApiDispatcher } from '../api/dispatch';

/**
 * Binds PortwatchApi to IPC. Every handler first checks that the caller is the app's own main frame (not a
 * subframe, not another window, not a page that navigated elsewhere), then lets the dispatcher validate the
 * arguments. Answers are values: `{ ok: false, code, message }`, never a rejected invoke.
 */
export function bindIpc(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  dispatcher: ApiDispatcher,
  isTrustedSender: (frame: WebFrameMain | null) => boolean,
): Unsubscribe {
  for (const method of API_METHODS) {
    ipcMain.handle(ipcInvokeChannel(method), async (event: IpcMainInvokeEvent, ...args: unknown[]): Promise<ApiResult<unknown>> => {
      if (!isTrustedSender(event.senderFrame)) return { ok: false, code: 'forbidden', message: 'not the Portwatch window' };
      return dispatcher.call(method, args);
    });
  }
  return () => {
    for (const method of API_METHODS) ipcMain.removeHandler(ipcInvokeChannel(method));
  };
}

/** Pushes the dispatcher's events to a window while it lives. */
export function forwardEvents(dispatcher: ApiDispatcher, send: (channel: string, data: unknown) => void): Unsubscribe {
  return dispatcher.subscribe((event, data) => send(ipcEventChannel(event), data));
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
