import type { Delta, MonitorStatus, Snapshot } from '../../shared/model';
import { decodeDeltaKeeping, WireError, type WireDelta } from '../../shared/wire';
import type { RunResult } from './runCommand';
import type { SourceChoice } from './sources';

/**
 * Messages between the monitor host (main thread) and the monitor worker, and the command line of the
 * systeminformation helper. Imports nothing of the engine at run time (only shared/wire): the Electron main
 * process loads it without the engine.
 */

/** The argument that asks the si-child bundle (siChildMain.ts), started as a process, for one systeminformation job. */
export const SI_CHILD_FLAG = '--portwatch-si-child';

/**
 * Given after the job, the helper answers with one line on stdout (the result as JSON, or SI_ERROR_PREFIX and
 * its failure) and then waits to be stopped instead of exiting: a utility process's exit can reach the main
 * process before the last of its output, which Electron then drops, so the answer must not depend on it.
 */
export const SI_UNTIL_STOPPED_FLAG = '--until-stopped';
/** Starts the helper's answer line when it failed (JSON never starts with a letter). */
export const SI_ERROR_PREFIX = 'error: ';

export type SiJob = 'connections' | 'processes';
export const SI_JOBS: readonly SiJob[] = ['connections', 'processes'];

/** The longest a worker may ask the host to let one helper run (SI_TIMEOUT_MS is 10 s). */
export const SI_MAX_TIMEOUT_MS = 60_000;

/**
 * Runs the helper (`<helper> SI_CHILD_FLAG <job>`) for one job and, at `timeoutMs`, kills it with every process
 * it started, then reports as runCommand does. In plain Node a process-group child (siChild's
 * processGroupLauncher); under Electron, where only the main process can start a Node process once RunAsNode is
 * fused off, one the main process injects (electron/siLauncher, on utilityProcess).
 */
export type SiLauncher = (job: SiJob, timeoutMs: number) => Promise<RunResult>;

export type HostToWorker =
  | { type: 'setInterval'; ms: number }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  /** The answer to the worker's `siRun` of the same id. */
  | { type: 'siResult'; id: number; result: RunResult };

export type WorkerToHost =
  | { type: 'snapshot'; snapshot: Snapshot }
  /**
   * A poll's delta in shared/wire.ts's layout (positional rows, each process once): a structured clone of
   * arrays costs both threads about half what one of a thousand sockets' objects did under churn.
   */
  | { type: 'delta'; delta: WireDelta }
  | { type: 'status'; status: MonitorStatus }
  | { type: 'stopped' }
  | { type: 'fatal'; message: string }
  /** Asks the host to run one systeminformation job with its launcher (only when WorkerInit.siViaHost). */
  | { type: 'siRun'; id: number; job: SiJob; timeoutMs: number };

export interface WorkerInit {
  intervalMs: number;
  source: SourceChoice;
  /** systeminformation's helper is run by the host (`siRun`), not as the worker's own child. */
  siViaHost?: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const hasIds = (v: unknown): boolean => Array.isArray(v) && v.every((s) => isObject(s) && typeof s.id === 'string');

/** A worker's message as the host reads it: a delta decoded from its rows. */
export type FromWorker = Exclude<WorkerToHost, { type: 'delta' }> | { type: 'delta'; delta: Delta };

/**
 * What the host accepts from a worker: the envelope and the parts the host itself reads (ids, sequence numbers,
 * the state), checked, and a delta decoded (every row checked); null for anything else. The host then never
 * throws on a message, and its mirror stays consistent.
 */
export function parseWorkerMessage(m: unknown): FromWorker | null {
  if (!isObject(m)) return null;
  switch (m.type) {
    case 'snapshot': {
      const s = m.snapshot;
      return isObject(s) && isNumber(s.seq) && isNumber(s.takenAt) && typeof s.source === 'string' && hasIds(s.sockets) ? (m as FromWorker) : null;
    }
    case 'delta': {
      let delta: Delta;
      try {
        delta = decodeDeltaKeeping(m.delta);
      } catch (e) {
        if (e instanceof WireError) return null;
        throw e;
      }
      // the rows and removed ids are checked by the decoder; the closed records are passed on as they came
      return delta.closed.every((c: unknown) => isObject(c) && typeof c.id === 'string') ? { type: 'delta', delta } : null;
    }
    case 'status': {
      const s = m.status;
      return isObject(s) && (s.state === 'ok' || s.state === 'paused' || s.state === 'error') && typeof s.source === 'string' ? (m as FromWorker) : null;
    }
    case 'stopped':
      return { type: 'stopped' };
    case 'fatal':
      return typeof m.message === 'string' ? { type: 'fatal', message: m.message } : null;
    case 'siRun': {
      const { id, job, timeoutMs } = m;
      const ok =
        Number.isSafeInteger(id) && (SI_JOBS as readonly unknown[]).includes(job) && isNumber(timeoutMs) && timeoutMs > 0 && timeoutMs <= SI_MAX_TIMEOUT_MS;
      return ok ? { type: 'siRun', id: id as number, job: job as SiJob, timeoutMs } : null;
    }
    default:
      return null;
  }
}

/** A RunResult for a helper that never ran. */
export function notStarted(why: string): RunResult {
  return { code: null, spawnError: why, stdout: '', stderr: '', timedOut: false };
}
