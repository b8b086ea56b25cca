// The history's cost at 10,000 sockets with 5% churn a poll: how long one poll's write takes (the tracker,
// which turns a delta into a batch, and the store's transaction, measured apart), and how fast the database
// grows, from simulated polls on an injected clock (one a second), extrapolated to a day.
// Run: npm run build:cli && node bench/history.mjs [--polls N]   (writes bench/results/history.md)
// Not in `npm run bench`: its figures are for the history's closing note, not a budget yet.
import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { HistoryStore, HistoryTracker, HistoryWriter } = createRequire(import.meta.url)(join(root, 'out', 'node', 'history.cjs'));

const SOCKETS = 10_000;
const CHURN = 0.05;
const BUSY = 0.2; // connections whose counters move in a poll
const arg = process.argv.indexOf('--polls');
const POLLS = arg > 0 ? Number(process.argv[arg + 1]) : 600;
const T0 = Date.UTC(2026, 11, 1, 0, 0, 0);

const programs = Array.from({ length: 40 }, (_, i) => ({
  pid: 1000 + i,
  ppid: 1,
  name: `app${i}`,
  exe: `/usr/bin/app${i}`,
  cmdline: [`app${i}`],
  uid: 0,
  user: 'root',
  startTime: 1,
}));
const remotes = Array.from({ length: 300 }, (_, i) => `203.0.${i >> 8}.${i & 255}`);

let next = 0;
function connection(takenAt) {
  const n = next++;
  const p = programs[n % programs.length];
  const remote = remotes[(n * 7) % remotes.length];
  const localPort = 10_000 + (n % 50_000);
  const remotePort = [443, 80, 5432, 6379][n % 4];
  return {
    id: `tcp|10.0.0.2|${localPort}|${remote}|${remotePort}|${n}`,
    protocol: 'tcp',
    family: 4,
    localAddress: '10.0.0.2',
    localPort,
    remoteAddress: remote,
    remotePort,
    state: 'ESTABLISHED',
    listening: false,
    pid: p.pid,
    pids: [p.pid],
    uid: 0,
    user: 'root',
    ownerHidden: false,
    noOwner: null,
    interface: null,
    v6only: null,
    bytesIn: 1000,
    bytesOut: 200,
    rttMs: 1,
    direction: 'out',
    netns: null,
    container: null,
    process: p,
    _born: takenAt,
  };
}

/** `polls` polls of churn into a fresh database; `sink` is the store itself or a HistoryWriter (its own thread). */
async function simulate(polls, threaded) {
  const dir = mkdtempSync(join(tmpdir(), 'pw-bench-history-'));
  const path = join(dir, 'history.db');
  let now = T0;
  next = 0;
  let store;
  let sink;
  if (threaded) {
    const w = await HistoryWriter.open({ path, command: 'bench' }, (m) => process.stderr.write(`${m}\n`), join(root, 'out', 'node', 'history-writer.cjs'));
    if (!w.ok) throw new Error(w.message);
    sink = w.writer;
  } else {
    const opened = HistoryStore.open(path, { mode: 'write', command: 'bench', now: () => now });
    if (!opened.ok) throw new Error(opened.message);
    store = opened.store;
    sink = store;
  }
  const tracker = new HistoryTracker();
  let live = Array.from({ length: SOCKETS }, () => connection(now));
  sink.write(tracker.snapshot({ seq: 1, takenAt: now, source: 'netlink', sockets: live }, sink.openListenerKeys()));
  const trackMs = [];
  const writeMs = [];
  const pruneMs = [];
  let events = 0;
  for (let seq = 2; seq <= polls + 1; seq++) {
    now += 1000;
    const churn = Math.round(SOCKETS * CHURN);
    const gone = live.slice(0, churn);
    const stay = live.slice(churn);
    const born = Array.from({ length: churn }, () => connection(now));
    const changed = [];
    for (let i = 0; i < stay.length * BUSY; i++) {
      const s = stay[Math.floor(Math.random() * stay.length)];
      s.bytesIn += 1500;
      s.bytesOut += 300;
      changed.push(s);
    }
    // half of what goes closes with a kernel record (TCP), and as many again lived between two polls
    const closed = [...gone.slice(0, churn / 2), ...Array.from({ length: churn / 2 }, () => connection(now))].map((s) => ({
      id: s.id,
      protocol: 'tcp',
      family: 4,
      localAddress: s.localAddress,
      localPort: s.localPort,
      remoteAddress: s.remoteAddress,
      remotePort: s.remotePort,
      state: 'CLOSE',
      pid: s.pid,
      name: s.process.name,
      uid: 0,
      bytesIn: s.bytesIn + 100,
      bytesOut: s.bytesOut + 100,
      firstSeen: null,
      closedAt: now - 10,
      netns: null,
    }));
    live = [...stay, ...born];
    const delta = { seq, takenAt: now, added: born, removed: gone.map((s) => s.id), changed: [...new Set(changed)], closed };
    let t = performance.now();
    const batch = tracker.delta(delta);
    trackMs.push(performance.now() - t);
    events += batch.events.length;
    t = performance.now();
    const ms = sink.write(batch);
    writeMs.push(threaded ? performance.now() - t : ms);
    t = performance.now();
    sink.prune();
    pruneMs.push(performance.now() - t);
    // a poll a second, in the threaded run, so that the writer keeps up as it would
    if (threaded) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  let used = 0;
  let counts = { events: 0, flows: 0 };
  let threadMs = [];
  if (threaded) {
    await sink.close();
    threadMs = [sink.stats.totalMs / sink.stats.written, sink.stats.maxMs];
  } else {
    used = store.usedBytes();
    counts = store.counts();
    store.close();
  }
  const fileBytes = statSync(path).size;
  rmSync(dir, { recursive: true, force: true });
  return { trackMs, writeMs, pruneMs, events, used, counts, fileBytes, threadMs };
}

const { trackMs, writeMs, pruneMs, events, used, counts, fileBytes } = await simulate(POLLS, false);
const threaded = await simulate(Math.min(POLLS, 120), true);

/** A day of hourly flows (24 h x `perHour` distinct flows), then the time to query them all, median of 5. */
function dayQuery(perHour) {
  const dir = mkdtempSync(join(tmpdir(), 'pw-bench-history-'));
  const opened = HistoryStore.open(join(dir, 'history.db'), { mode: 'write', command: 'bench' });
  if (!opened.ok) throw new Error(opened.message);
  const store = opened.store;
  for (let h = 0; h < 24; h++) {
    const hour = T0 + h * 3_600_000;
    const flows = Array.from({ length: perHour }, (_, i) => ({
      hour,
      program: `/usr/bin/app${i % 40}`,
      name: `app${i % 40}`,
      remoteAddress: `198.51.${(i >> 8) & 255}.${i & 255}`,
      port: [443, 80, 5432, 6379][i % 4],
      protocol: 'tcp',
      direction: 'out',
      opened: 3,
      closed: 3,
      bytesIn: 1000 + i,
      bytesOut: 100 + i,
      firstSeen: hour + 1,
      lastSeen: hour + 3_599_000,
    }));
    store.write({ events: [], flows });
  }
  const times = [];
  let rows = 0;
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    rows = store.flows({ since: T0, until: T0 + 86_400_000 }).length;
    times.push(performance.now() - t);
  }
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return { ms: [...times].sort((a, b) => a - b)[2], rows, stored: perHour * 24 };
}
const day = dayQuery(5000);

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const f = (x) => x.toFixed(1);
const perDay = (fileBytes / POLLS) * 86_400;
const perEvent = fileBytes / events;
const lines = [
  '# History: write time and growth',
  '',
  `\`node bench/history.mjs --polls ${POLLS}\`, ${new Date().toISOString()}, Node ${process.version}, ${process.platform}/${process.arch}.`,
  `${SOCKETS} connections, ${CHURN * 100}% churn a poll (${SOCKETS * CHURN} closed and as many opened, half of the closes with a kernel`,
  `record, plus ${(SOCKETS * CHURN) / 2} connections that lived between two polls), ${BUSY * 100}% of connections moving bytes;`,
  `${POLLS} polls one simulated second apart; real libsql file in ${tmpdir()}. ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at the end:`,
  'on a shared machine these move by a third or more from run to run.',
  '',
  '| per poll | median | p95 | max |',
  '|---|---|---|---|',
  `| tracker (delta -> batch) | ${f(pct(trackMs, 50))} ms | ${f(pct(trackMs, 95))} ms | ${f(Math.max(...trackMs))} ms |`,
  `| store.write (one transaction) | ${f(pct(writeMs, 50))} ms | ${f(pct(writeMs, 95))} ms | ${f(Math.max(...writeMs))} ms |`,
  `| prune step | ${f(pct(pruneMs, 50))} ms | ${f(pct(pruneMs, 95))} ms | ${f(Math.max(...pruneMs))} ms |`,
  '',
  `Through a HistoryWriter (the store in its own thread, what \`portwatch record\` uses; ${threaded.trackMs.length} polls):`,
  '',
  '| per poll | median | p95 | max |',
  '|---|---|---|---|',
  `| host: tracker | ${f(pct(threaded.trackMs, 50))} ms | ${f(pct(threaded.trackMs, 95))} ms | ${f(Math.max(...threaded.trackMs))} ms |`,
  `| host: posting the batch | ${f(pct(threaded.writeMs, 50))} ms | ${f(pct(threaded.writeMs, 95))} ms | ${f(Math.max(...threaded.writeMs))} ms |`,
  `| writer thread: transaction (mean, max) | ${f(threaded.threadMs[0])} ms | | ${f(threaded.threadMs[1])} ms |`,
  '',
  `A day's flows: ${day.stored} hourly rows (5,000 distinct flows an hour), summed into ${day.rows} flows by \`store.flows\` for the whole day in ${f(day.ms)} ms (median of 5; \`portwatch history --since 24h\` runs this query).`,
  '',
  `Events per poll: ${Math.round(events / POLLS)}; rows: ${counts.events} events, ${counts.flows} hourly flows.`,
  `Database: ${(fileBytes / 1e6).toFixed(1)} MB on disk (${(used / 1e6).toFixed(1)} MB in use) after ${POLLS} s simulated: ${f(perEvent)} bytes an event;`,
  `extrapolated, ${(perDay / 1e9).toFixed(1)} GB a day at this churn, so the default 1 GiB cap holds about ${f((1 << 30) / (fileBytes / POLLS) / 3600)} hours of raw events`,
  `(the hourly flows, ${counts.flows} rows for ${f(POLLS / 3600)} h here, are what a year of history keeps).`,
  '',
];
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'history.md'), lines.join('\n'));
writeFileSync(
  join(root, 'bench', 'results', 'history.json'),
  JSON.stringify(
    { polls: POLLS, dayQueryMs: day.ms, dayRows: day.stored, dayFlows: day.rows, bytesPerEvent: perEvent, writeMedianMs: pct(writeMs, 50) },
    null,
    2,
  ) + '\n',
);
process.stdout.write(lines.join('\n'));
