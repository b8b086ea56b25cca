import type { Delta, MonitorStatus, Snapshot } from '../../shared/model';
import type { SourceChoice } from './sources';

/** Messages between the monitor host (main thread) and the monitor worker. */
export type HostToWorker =
  | { type: 'setInterval'; ms: number }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' };

export type WorkerToHost =
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'delta'; delta: Delta }
  | { type: 'status'; status: MonitorStatus }
  | { type: 'stopped' }
  | { type: 'fatal'; message: string };

export interface WorkerInit {
  intervalMs: number;
  source: SourceChoice;
}
