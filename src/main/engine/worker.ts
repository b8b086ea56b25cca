import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { encodeDelta } from '../../shared/wire';
import { bundlePath } from './bundles';
import { Monitor } from './monitor';
import type { RunResult } from './runCommand';
import { createSource } from './sources';
import { notStarted, type HostToWorker, type SiLauncher, type WorkerInit, type WorkerToHost } from './workerProtocol';

/**
 * Worker entry (out/node/worker.cjs): runs the Monitor off the host's event loop and forwards its events.
 * systeminformation runs in a helper of its own, the si-child bundle (siChildMain.ts), which this worker starts
 * itself or, under Electron, asks its host to start.
 */
runWorker();

/** How long past a job's own timeout the worker waits for the host's answer before it gives up on it. */
const HOST_GRACE_MS = 5000;

/**
 * A launcher that asks the host to run the helper (`siRun`) and resolves with its `siResult`. The host kills the
 * helper at the timeout; the grace timer only keeps a poll from waiting forever on a host that never answers.
 */
function hostLauncher(send: (m: WorkerToHost) => void): { launch: SiLauncher; answer: (id: number, result: RunResult) => void } {
  const pending = new Map<number, (r: RunResult) => void>();
  let nextId = 1;
  return {
    launch: (job, timeoutMs) =>
      new Promise((resolve) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve(notStarted(`the monitor host did not answer within ${((timeoutMs + HOST_GRACE_MS) / 1000).toFixed(1)} s`));
        }, timeoutMs + HOST_GRACE_MS);
        pending.set(id, (r) => {
          clearTimeout(timer);
          pending.delete(id);
          resolve(r);
        });
        send({ type: 'siRun', id, job, timeoutMs });
      }),
    answer: (id, result) => pending.get(id)?.(result),
  };
}

function runWorker(): void {
  const port: MessagePort | null = parentPort;
  if (!port) throw new Error('monitor worker must run in a worker thread');
  const init = workerData as WorkerInit;
  const send = (m: WorkerToHost): void => port.postMessage(m);
  const relay = init.siViaHost ? hostLauncher(send) : null;

  try {
    const monitor = new Monitor({ source: createSource(init.source, { siHelper: relay?.launch ?? bundlePath('si-child') }), intervalMs: init.intervalMs });
    monitor.on('snapshot', (snapshot) => send({ type: 'snapshot', snapshot }));
    monitor.on('delta', (delta) => send({ type: 'delta', delta: encodeDelta(delta) }));
    monitor.on('status', (status) => send({ type: 'status', status }));
    port.on('message', (m: HostToWorker) => {
      switch (m.type) {
        case 'setInterval':
          monitor.setIntervalMs(m.ms);
          break;
        case 'pause':
          monitor.pause();
          break;
        case 'resume':
          monitor.resume();
          break;
        case 'stop':
          void monitor.stop().then(() => {
            send({ type: 'stopped' });
            port.close();
          });
          break;
        case 'siResult':
          relay?.answer(m.id, m.result);
          break;
      }
    });
    monitor.start();
  } catch (e) {
    send({ type: 'fatal', message: e instanceof Error ? e.message : String(e) });
  }
}
