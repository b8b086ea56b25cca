import { Worker } from 'node:worker_threads';

/** One process's descriptors as a walker read them: names, and per name a socket inode, -1 other, -2 unreadable. */
export type WalkedProcess = [pid: number, names: string[], values: number[]] | [pid: number, 'denied'];

/**
 * The walker thread's whole program. Self-contained on purpose: it is handed to the Worker as source text
 * (`eval`), so it works the same from every bundle (CLI, monitor worker, Electron main) without a file path.
 * It takes pids from a shared counter until none are left, so two threads split the work by pace.
 */
function walkerMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const fs = require('node:fs') as typeof import('node:fs');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const { procRoot, pids, next } = workerData as { procRoot: string; pids: number[]; next: Int32Array };
  Error.stackTraceLimit = 0;
  const out: Array<[number, string[], number[]] | [number, 'denied']> = [];
  for (;;) {
    const i = Atomics.add(next, 0, 1);
    if (i >= pids.length) break;
    const pid = pids[i] as number;
    let names: string[];
    try {
      names = fs.readdirSync(`${procRoot}/${pid}/fd`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') out.push([pid, 'denied']);
      continue;
    }
    const keep: string[] = [];
    const values: number[] = [];
    for (const fd of names) {
      let link: string;
      try {
        link = fs.readlinkSync(`${procRoot}/${pid}/fd/${fd}`);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM') {
          keep.push(fd);
          values.push(-2);
        }
        continue;
      }
      keep.push(fd);
      values.push(link.startsWith('socket:[') ? Number(link.slice(8, -1)) : -1);
    }
    out.push([pid, keep, values]);
  }
  parentPort?.postMessage(out);
}

/**
 * Starts a walker thread on `pids`, sharing `next` (an index into pids) with the caller, who walks along:
 * a cold poll reads every descriptor on the machine (about 5 µs each), and two cores halve that.
 * Resolves with what the walker read; rejects if it could not run (the caller then reads the rest itself).
 */
export function startWalker(procRoot: string, pids: number[], next: Int32Array): Promise<WalkedProcess[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(`(${walkerMain.toString()})()`, {
      eval: true,
      workerData: { procRoot, pids, next },
      // it allocates a path and a link string per descriptor: a larger nursery means fewer collections
      resourceLimits: { maxYoungGenerationSizeMb: 64 },
    });
    worker.once('message', (m: WalkedProcess[]) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`fd walker exited with code ${code}`)));
  });
}
