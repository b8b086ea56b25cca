import { Profiler, StrictMode, useSyncExternalStore, type ReactElement } from 'react';
import { createRoot } from 'react-dom/client';
import { pickApi } from './api';
import { App } from './App';
import type { WsApi } from './api/ws';
import { SocketStore } from './store/socketStore';
import './styles.css';

const api = pickApi();
const store = new SocketStore(api);
store.start();
declare global {
  interface Window {
    /** Commit durations (ms), recorded only by the profiling build the benchmark uses. */
    __portwatchCommits?: number[];
  }
}

/** Web mode only: once the server refuses this page's token, retrying has stopped, and the page says why. */
const onRefused = (api as Partial<WsApi>).onRefused;
let refused: string | null = null;
const subscribeRefused = (notify: () => void): (() => void) =>
  onRefused?.((message) => {
    refused = message;
    notify();
  }) ?? (() => undefined);

function Root(): ReactElement {
  const message = useSyncExternalStore(subscribeRefused, () => refused);
  if (message !== null) {
    return (
      <div className="banner error" role="alert" data-testid="token-refused">
        {message}
      </div>
    );
  }
  return <App store={store} />;
}

const app = <Root />;
createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    {import.meta.env.VITE_PORTWATCH_PROFILE === '1' ? (
      <Profiler id="portwatch" onRender={(_id, _phase, duration) => (window.__portwatchCommits ??= []).push(duration)}>
        {app}
      </Profiler>
    ) : (
      app
    )}
  </StrictMode>,
);
