'use strict';
// One collector in a process of its own, timed on request, so that the contestants of bench/collect.mjs do not
// share a heap (systeminformation's garbage would be collected during Portwatch's polls) and can be run in
// alternation. stdin: "steady SOURCE" | "cold SOURCE" | "si", one per line (SOURCE: netlink, the default, or
// procfs); stdout: one JSON line per request {"ms", "sockets", "readlinks"}.
const { join } = require('node:path');
const { NetlinkSource, ProcfsSource } = require(join(__dirname, '..', 'out', 'node', 'engine.cjs'));
const si = require('systeminformation');

const make = (name) => (name === 'procfs' ? new ProcfsSource() : new NetlinkSource());
const steadyBy = new Map();
const jobs = {
  // one long-lived source, as the monitor runs it (default settings, its rolling re-read included)
  async steady(name) {
    let steady = steadyBy.get(name);
    if (!steady) {
      steadyBy.set(name, (steady = make(name)));
      await steady.list();
    }
    const t = performance.now();
    const n = (await steady.list()).sockets.length;
    return { ms: performance.now() - t, sockets: n, readlinks: steady.lastOwnerStats().readlinks };
  },
  // a fresh source: the first poll after start
  async cold(name) {
    const src = make(name);
    const t = performance.now();
    const n = (await src.list()).sockets.length;
    const readlinks = src.lastOwnerStats().readlinks;
    src.close();
    return { ms: performance.now() - t, sockets: n, readlinks };
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
    const [name, arg = 'netlink'] = buf.slice(0, nl).trim().split(/\s+/);
    const job = jobs[name];
    buf = buf.slice(nl + 1);
    queue = queue.then(async () => {
      if (!job) throw new Error('unknown job');
      process.stdout.write(JSON.stringify(await job(arg)) + '\n');
    });
  }
});
process.stdin.on('end', () => queue.then(() => process.exit(0)));
