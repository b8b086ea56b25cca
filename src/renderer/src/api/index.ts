import type { PortwatchApi } from '../../../shared/contract';
import { createWsApi } from './ws';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in web mode. */
    portwatch?: PortwatchApi;
  }
}

/** The Electron bridge when the preload provided one, otherwise the WebSocket client (web mode). */
export function pickApi(): PortwatchApi {
  return window.portwatch ?? createWsApi();
}
