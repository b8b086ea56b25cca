'use strict';
// One collector in a process of its own, timed on request, so that the contestants of bench/collect.mjs do not
// share a heap (systeminformation's garbage would be collected during Portwatch's polls) and can be run in
// alternation. stdin: "steady" | "cold" | "si", one per line; stdout: one JSON line per request
// {"ms", "sockets", "readlinks"}.
const { join } = require('node:path');
const { ProcfsSource } = require(join(__dirname, '..', 'out', 'node', 'engine.cjs'));
const si = require('systeminformation');

let steady = null;
const jobs = {
  // one long-lived source, as the monitor runs it (default settings, its rolling re-read included)
  async steady() {
    if (steady === null) {
      steady = new ProcfsSource();
      await steady.list();
    }
    const t = performance.now();
    const n = (await steady.list()).sockets.length;
    return { ms: performance.now() - t, sockets: n, readlinks: steady.lastOwnerStats().readlinks };
  },
  // a fresh source: the first poll after start
  async cold() {
    const src = new ProcfsSource();
    const t = performance.now();
    const n = (await src.list()).sockets.length;
    return { ms: performance.now() - t, sockets: n, readlinks: src.lastOwnerStats().readlinks };
  },
  async si() {
    const t = performance.now();
    const n = (await si.networkConnections()).length;
    return { ms: performance.now() - t, sockets: n, readlinks: null };
  },
};

let queue = Promise.resolve();
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const job = jobs[buf.slice(0, nl).trim()];
    buf = buf.slice(nl + 1);
    queue = queue.then(async () => {
      if (!job) throw new Error('unknown job');
      process.stdout.write(JSON.stringify(await job()) + '\n');
    });
  }
});
process.stdin.on('end', () => queue.then(() => process.exit(0)));
