import { parentPort, workerData } from 'node:worker_threads';
import { Monitor } from './monitor';
import { createSource } from './sources';
import { SI_CHILD_FLAG, siChildMain } from './sources/siChild';
import type { HostToWorker, WorkerInit, WorkerToHost } from './workerProtocol';

/**
 * Worker entry: runs the Monitor off the host's event loop and forwards its events. The same bundle, started as
 * a process with SI_CHILD_FLAG, is the killable helper that runs systeminformation (see siChild).
 */
if (process.argv[2] === SI_CHILD_FLAG) {
  void siChildMain(process.argv[3]).then((code) => {
    process.exitCode = code;
  });
} else {
  runWorker();
}

function runWorker(): void {
  const port = parentPort;
  if (!port) throw new Error('monitor worker must run in a worker thread');
  const init = workerData as WorkerInit;
  const send = (m: WorkerToHost): void => port.postMessage(m);

  try {
    const monitor = new Monitor({ source: createSource(init.source, { siHelper: __filename }), intervalMs: init.intervalMs });
    monitor.on('snapshot', (snapshot) => send({ type: 'snapshot', snapshot }));
    monitor.on('delta', (delta) => send({ type: 'delta', delta }));
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
      }
    });
    monitor.start();
  } catch (e) {
    send({ type: 'fatal', message: e instanceof Error ? e.message : String(e) });
  }
}
