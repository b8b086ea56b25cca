import { createRequire } from 'node:module';
import { koffiModule, socketLinkInode } from './native/libc';
import { fsLinks, koffiLinks, type Links } from './native/links';

/** One process's descriptors as a walker read them: names, and per name a socket inode, -1 other, -2 unreadable. */
export type WalkedProcess = [pid: number, names: string[], values: number[]] | [pid: number, 'denied'];

/**
 * The walker thread's whole program. Self-contained on purpose: it is handed to the Worker as source text
 * (`eval`), so it works the same from every bundle (CLI, monitor worker, Electron main) without a file path.
 * It takes pids from the back of the list (the smallest tables) while the caller takes them from the front
 * (see WalkShare), so two threads split the work by pace.
 */
function walkerMain(koffiLinksHere: typeof koffiLinks, fsLinksHere: typeof fsLinks, inodeOf: typeof socketLinkInode, claimHere: typeof walkerClaims): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const fs = require('node:fs') as typeof import('node:fs');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const { procRoot, pids, flags, tables, koffiPath } = workerData as {
    procRoot: string;
    pids: number[];
    flags: Int32Array;
    tables: string[];
    koffiPath: string | null;
  };
  Error.stackTraceLimit = 0;
  // readlinkat() through koffi where it loads: a quarter cheaper a descriptor than readlinkSync of the path
  const links = ((): Links<unknown> => {
    try {
      if (koffiPath !== null) return koffiLinksHere(koffiPath, fs, inodeOf) as Links<unknown>;
    } catch {
      // node:fs, then
    }
    return fsLinksHere(fs) as Links<unknown>;
  })();
  // First the kernel's socket tables (their formatting is the slow part): meanwhile the caller walks.
  const texts: Record<string, string | null> = {};
  const buf = Buffer.allocUnsafe(1 << 22);
  for (const path of tables) {
    try {
      const fd = fs.openSync(path, 'r');
      let used = 0;
      let n: number;
      while ((n = fs.readSync(fd, buf, used, buf.length - used, null)) > 0) used += n;
      fs.closeSync(fd);
      texts[path] = used < buf.length ? buf.toString('latin1', 0, used) : null; // too big: the caller reads it
    } catch {
      texts[path] = null; // the caller reads it again and reports the error
    }
  }
  parentPort?.postMessage({ type: 'tables', texts });
  const out: Array<[number, string[], number[]] | [number, 'denied']> = [];
  // from the back: where the caller has been, the rest is read
  for (let i = pids.length - 1; i >= 0 && claimHere(flags, i); i--) {
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
    // null: gone since the listing (its table is then empty, as every readlink of it would have failed)
    const dir = links.open(`${procRoot}/${pid}/fd`);
    if (dir !== null) {
      for (const fd of names) {
        // a socket's inode, -1 another kind, -2 unreadable (EACCES), -3 closed since the listing
        const r = links.link(dir, fd);
        if (r === -3) continue;
        keep.push(fd);
        values.push(r);
      }
      links.close(dir);
    }
    out.push([pid, keep, values]);
  }
  parentPort?.postMessage({ type: 'walked', out });
}

/**
 * The walker thread's claim of process `i` of a WalkShare (its `flags`): true when the caller had not taken it.
 * Self-contained, handed to the walker as source text with the rest.
 */
export function walkerClaims(flags: Int32Array, i: number): boolean {
  return Atomics.compareExchange(flags, i, 0, 2) === 0;
}

/**
 * Who reads which process of a first poll's shared walk: the caller from the front of the list (the largest
 * tables first), the walker thread from the back. One flag per process, taken with compareExchange: each is
 * read once, and each side stops where it meets the other. The walker boots late (a thread takes 30 to 60 ms
 * here, longer than the poll's dump) and runs cold code: when both took from the front, it claimed a large
 * table just before the end, and the caller waited 10 to 20 ms for it; from the back it takes small ones.
 */
export class WalkShare {
  readonly flags: Int32Array;
  private at = 0;

  constructor(readonly size: number) {
    this.flags = new Int32Array(new SharedArrayBuffer(Math.max(1, size) * 4));
  }

  /** The caller's next index into the pids, or -1 once the rest is the walker's. */
  next(): number {
    if (this.at >= this.size) return -1;
    const i = this.at++;
    if (Atomics.compareExchange(this.flags, i, 0, 1) === 0) return i;
    this.at = this.size;
    return -1;
  }
}

export interface Walker {
  /** The socket tables' text by path (null: read it yourself). */
  tables: Promise<Record<string, string | null>>;
  /** What the walker read of the descriptors. */
  walked: Promise<WalkedProcess[]>;
}

/**
 * Starts a walker thread that first reads the socket `tables`, then walks `pids`; the caller walks them too, at
 * once, taking share.next() until -1 (see WalkShare). A cold poll reads every descriptor on the machine (about
 * 5 µs each) and has the kernel format every table, and two cores do both at the same time.
 * The promises reject if the walker could not run (the caller then does the rest itself).
 */
export function startWalker(procRoot: string, pids: number[], share: WalkShare, tables: string[]): Walker {
  // required here: a CLI start that walks in no thread loads no node:worker_threads
  const { Worker } = createRequire(__filename)('node:worker_threads') as typeof import('node:worker_threads');
  let koffiPath: string | null = null;
  try {
    koffiPath = koffiModule();
  } catch {
    // no koffi: the walker reads through node:fs
  }
  const worker = new Worker(`(${walkerMain.toString()})(${[koffiLinks, fsLinks, socketLinkInode, walkerClaims].map((f) => f.toString()).join(', ')})`, {
    eval: true,
    workerData: { procRoot, pids, flags: share.flags, tables, koffiPath },
    // it allocates a path and a link string per descriptor: a larger nursery means fewer collections
    resourceLimits: { maxYoungGenerationSizeMb: 64 },
  });
  let gotTables!: (t: Record<string, string | null>) => void;
  let gotWalk!: (w: WalkedProcess[]) => void;
  let failTables!: (e: Error) => void;
  let failWalk!: (e: Error) => void;
  const tablesP = new Promise<Record<string, string | null>>((res, rej) => ((gotTables = res), (failTables = rej)));
  const walkedP = new Promise<WalkedProcess[]>((res, rej) => ((gotWalk = res), (failWalk = rej)));
  worker.on('message', (m: { type: 'tables'; texts: Record<string, string | null> } | { type: 'walked'; out: WalkedProcess[] }) => {
    if (m.type === 'tables') gotTables(m.texts);
    else {
      gotWalk(m.out);
      void worker.terminate();
    }
  });
  const fail = (e: Error): void => {
    failTables(e);
    failWalk(e);
  };
  worker.once('error', fail);
  worker.once('exit', (code) => fail(new Error(`fd walker exited with code ${code}`)));
  return { tables: tablesP, walked: walkedP };
}
