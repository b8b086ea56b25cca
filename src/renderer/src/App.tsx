import { useMemo, useState, useSyncExternalStore, type ReactElement } from 'react';
import { ProcessList } from './components/ProcessList';
import { StatusBar } from './components/StatusBar';
import { groupByProcess } from './store/groups';
import type { SocketStore } from './store/socketStore';

const INTERVALS = [250, 500, 1000, 2000, 5000, 10000];

export function App({ store }: { store: SocketStore }): ReactElement {
  const view = useSyncExternalStore(store.subscribe, store.getView);
  const groups = useMemo(() => groupByProcess(view.sockets.values(), view.elevated), [view.sockets, view.elevated]);
  const [allOpen, setAllOpen] = useState(false);
  return (
    <div className="app">
      <header className="toolbar">
        <h1>Portwatch</h1>
        <button data-testid="pause" onClick={() => void store.togglePause()} aria-pressed={view.paused}>
          {view.paused ? 'Resume' : 'Pause'}
        </button>
        <label>
          Refresh{' '}
          <select
            data-testid="interval"
            value={view.intervalMs ?? 1000}
            onChange={(e) => void store.setIntervalMs(Number(e.target.value))}
          >
            {INTERVALS.map((ms) => (
              <option key={ms} value={ms}>
                {ms < 1000 ? `${ms} ms` : `${ms / 1000} s`}
              </option>
            ))}
          </select>
        </label>
        <button onClick={() => setAllOpen((o) => !o)}>{allOpen ? 'Collapse all' : 'Expand all'}</button>
        {view.error && <span className="status-error">{view.error}</span>}
      </header>
      <main>
        <ProcessList groups={groups} allOpen={allOpen} />
      </main>
      <StatusBar view={view} processes={groups.length} />
    </div>
  );
}
