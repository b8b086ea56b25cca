import { Profiler, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { pickApi } from './api';
import { App } from './App';
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

const app = <App store={store} api={api} />;
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
