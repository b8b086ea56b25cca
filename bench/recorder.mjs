// The recorder as a user runs it (issue 16): a real `portwatch record` process against real churn of about
// 1,000 connection events a second, for 10 minutes by default, in a network namespace of its own. Reports the
// recorder's CPU (all its threads: the monitor worker, the writer thread, the main thread; target under 10% of
// one core), how many events it wrote and the database's growth per million events, and the time to query a
// day's flows from what it recorded. Root only (namespaces). Writes bench/results/recorder.md and recorder.json.
//   node bench/recorder.mjs                        (part of npm run bench; needs npm run build)
//   BENCH_RECORDER_SECONDS=60 node bench/recorder.mjs   (a shorter run)
//   BENCH_RECORDER_BIN=/tmp/base/bin/portwatch ...      (another build's launcher, for an A/B; its out/ beside it)
//   BENCH_RECORDER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' ...   (node flags for the recorder: a profile
//                                                       of each of its threads, written when it exits)
//   BENCH_RECORDER_OUT=/tmp/x.json ...                  (the result's JSON there, not in bench/results)
//
// Churn: 250 connections a second, each living about 2.5 s (so every poll at 1 s sees it: an open and a close
// event for each of its two ends, 4 events a connection, about 1,000 a second), each moving a few hundred bytes,
// closed with a reset (no TIME_WAIT pile-up: what is measured is connections, not 60 s of remnants).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const require = createRequire(import.meta.url);
const { HistoryStore } = require('../out/node/history.cjs');

const SECONDS = Number(process.env.BENCH_RECORDER_SECONDS ?? 600);
const RATE = 250;
const LIFE_S = 2.5;
const NS = `pwrec${process.pid}`;
const CLK_TCK = 100; // getconf CLK_TCK on Linux x86-64 and arm64

if (process.getuid?.() !== 0) {
  console.error('bench/recorder.mjs needs root (it makes a network namespace)');
  process.exit(1);
}

const CHURN = String.raw`
import socket, struct, threading, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); srv.bind(('127.0.0.1', 7100)); srv.listen(4096)
def serve():
    while True:
        a, _ = srv.accept()
        threading.Thread(target=hold, args=(a,), daemon=True).start()
def hold(a):
    try:
        while True:
            b = a.recv(4096)
            if not b: break
            a.sendall(b)
    except OSError: pass
    a.close()
threading.Thread(target=serve, daemon=True).start()
print('ready', flush=True)
live = []
start = time.monotonic(); made = 0
RST = struct.pack('ii', 1, 0)
while True:
    now = time.monotonic()
    while made < (now - start) * ${RATE}:
        try:
            c = socket.create_connection(('127.0.0.1', 7100)); c.sendall(b'q' * 200); live.append((now + ${LIFE_S}, c)); made += 1
        except OSError: made += 1
    while live and live[0][0] <= now:
        _, c = live.pop(0)
        try:
            c.recv(4096); c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RST); c.close()
        except OSError: pass
    time.sleep(0.002)
`;

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, all threads
}
/** utime + stime of each of the process's threads, by thread id. */
function threadTicks(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), Number(f[11]) + Number(f[12]));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}
function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return m ? Number(m[1]) / 1024 : NaN;
}
const dbBytes = (p) => ['', '-wal'].reduce((n, s) => n + (existsSync(p + s) ? statSync(p + s).size : 0), 0);

const dir = mkdtempSync(join(tmpdir(), 'pw-bench-recorder-'));
const db = join(dir, 'history.db');
spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
execFileSync('ip', ['netns', 'add', NS]);
execFileSync('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up']);
let churn = null;
let recorder = null;
try {
  churn = spawn('ip', ['netns', 'exec', NS, 'python3', '-c', CHURN], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    const rl = createInterface({ input: churn.stdout });
    rl.once('line', resolve);
    churn.once('exit', (c) => reject(new Error(`the churn exited (${c})`)));
  });
  const bin = process.env.BENCH_RECORDER_BIN ?? join(root, 'bin', 'portwatch');
  const nodeArgs = (process.env.BENCH_RECORDER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  recorder = spawn(process.execPath, [...nodeArgs, bin, 'record', '--db', db], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  recorder.stderr.on('data', (b) => (err += b));
  // recording: the database exists and has its first events
  const t0 = Date.now();
  while (!existsSync(db)) {
    if (recorder.exitCode !== null || Date.now() - t0 > 30_000) throw new Error(`portwatch record did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // a warm-up of 20 s (the churn reaches its steady population in LIFE_S), then the measured window
  await new Promise((r) => setTimeout(r, 20_000));
  const startTicks = cpuTicks(recorder.pid);
  const startThreads = threadTicks(recorder.pid);
  const startAt = performance.now();
  const startBytes = dbBytes(db);
  const eventsNow = () => {
    const r = HistoryStore.open(db, { mode: 'read' });
    if (!r.ok) throw new Error(r.message);
    const n = r.store.counts().events;
    r.store.close();
    return n;
  };
  const startEvents = eventsNow();
  const samples = [];
  while (performance.now() - startAt < SECONDS * 1000) {
    await new Promise((r) => setTimeout(r, 10_000));
    if (recorder.exitCode !== null) throw new Error(`portwatch record exited: ${err}`);
    samples.push({ s: Math.round((performance.now() - startAt) / 1000), ticks: cpuTicks(recorder.pid), rss: rssMb(recorder.pid) });
  }
  const wallS = (performance.now() - startAt) / 1000;
  const cpuPct = ((cpuTicks(recorder.pid) - startTicks) / CLK_TCK / wallS) * 100;
  // per thread: the main thread (the tracker, and posting to the writer), the busiest other (in every run so far
  // the monitor's worker: the poll), and the rest together (the writer thread, the poll's helpers, V8's GC threads)
  const threadPct = [...threadTicks(recorder.pid)].map(([tid, t]) => ({ tid, pct: ((t - (startThreads.get(tid) ?? 0)) / CLK_TCK / wallS) * 100 }));
  const mainPct = threadPct.find((x) => x.tid === recorder.pid)?.pct ?? NaN;
  const others = threadPct.filter((x) => x.tid !== recorder.pid).sort((a, b) => b.pct - a.pct);
  const threads = { mainPct, busiestPct: others[0]?.pct ?? 0, secondPct: others[1]?.pct ?? 0, restPct: others.slice(2).reduce((n, x) => n + x.pct, 0) };
  const endBytes = dbBytes(db);
  const windowEvents = eventsNow() - startEvents;
  const rssEnd = rssMb(recorder.pid);
  recorder.kill('SIGTERM');
  const code = await new Promise((r) => recorder.once('exit', (c) => r(c)));
  // its last line: "N polls written, X ms each on average in the writer thread, at most Y ms"
  const writeMs = /written, ([\d.]+) ms each on average in the writer thread, at most ([\d.]+) ms/.exec(err);
  churn.kill('SIGKILL');
  const opened = HistoryStore.open(db, { mode: 'read' });
  if (!opened.ok) throw new Error(opened.message);
  const store = opened.store;
  const counts = store.counts();
  const now = Date.now();
  const times = [];
  let flows = 0;
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    flows = store.flows({ since: now - 86_400_000, until: now }).length;
    times.push(performance.now() - t);
  }
  store.close();
  const finalBytes = dbBytes(db);
  const perMillion = ((endBytes - startBytes) / windowEvents) * 1e6;
  const dayMs = [...times].sort((a, b) => a - b)[2];
  const perCore = cpuPct;
  const cpuSeries = samples.map((x, i) => {
    const prev = i === 0 ? startTicks : samples[i - 1].ticks;
    const span = i === 0 ? x.s : x.s - samples[i - 1].s;
    return ((x.ticks - prev) / CLK_TCK / span) * 100;
  });
  const result = {
    seconds: Math.round(wallS),
    rate: RATE,
    events: windowEvents,
    eventsPerSecond: windowEvents / wallS,
    cpuPct: perCore,
    cpuMaxWindowPct: Math.max(...cpuSeries),
    threads,
    writeMsMean: writeMs ? Number(writeMs[1]) : null,
    writeMsMax: writeMs ? Number(writeMs[2]) : null,
    rssEndMb: rssEnd,
    bytesPerMillion: perMillion,
    dbBytes: finalBytes,
    counts,
    dayQueryMs: dayMs,
    dayFlows: flows,
    exitCode: code,
    load: loadavg()[0],
  };
  const outJson = process.env.BENCH_RECORDER_OUT ?? join(here, 'results', 'recorder.json');
  mkdirSync(dirname(outJson), { recursive: true });
  writeFileSync(outJson, JSON.stringify(result, null, 2) + '\n');
  const f1 = (x) => x.toFixed(1);
  const md = [
    '# The recorder under churn',
    '',
    `\`node bench/recorder.mjs\`, ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} cores, load average ${f1(result.load)} at the end.`,
    `A real \`portwatch record --db ${'<tmp>'}/history.db\` (1 s polls, netlink) against ${RATE} connections a second on loopback in a`,
    `network namespace, each living about ${LIFE_S} s (an open and a close event for each of its two ends), for ${result.seconds} s after a 20 s warm-up.`,
    '',
    '| measure | value | target |',
    '|---|---:|---|',
    `| events written a second | ${Math.round(result.eventsPerSecond)} | about 1,000 |`,
    `| recorder CPU, all threads, over the window | ${f1(result.cpuPct)}% of one core | under 10% |`,
    `| recorder CPU, busiest 10 s | ${f1(result.cpuMaxWindowPct)}% of one core | |`,
    `| of it: the main thread / the busiest other / the second busiest / the rest | ${f1(threads.mainPct)}% / ${f1(threads.busiestPct)}% / ${f1(threads.secondPct)}% / ${f1(threads.restPct)}% | |`,
    `| a poll's transaction in the writer thread, mean / max | ${result.writeMsMean ?? '?'} / ${result.writeMsMax ?? '?'} ms | |`,
    `| recorder RSS at the end | ${f1(result.rssEndMb)} MB | |`,
    `| database growth per million events | ${f1(result.bytesPerMillion / 1e6)} MB | |`,
    `| a day's flows from this database (\`store.flows\`, median of 5) | ${f1(result.dayQueryMs)} ms (${result.dayFlows} flows) | under 200 ms |`,
    `| exit on SIGTERM | ${result.exitCode} | 0 |`,
    '',
    `Rows: ${result.counts.events} events, ${result.counts.flows} hourly flow rows, ${result.counts.keys} flow keys, ${result.counts.listeners} listener spans.`,
    `The day query on a full day of hourly rows is in bench/results/history.md (\`node bench/history.mjs\`).`,
    '',
  ].join('\n');
  if (!process.env.BENCH_RECORDER_OUT) writeFileSync(join(here, 'results', 'recorder.md'), md);
  console.log(md);
} finally {
  if (recorder && recorder.exitCode === null) recorder.kill('SIGKILL');
  if (churn && churn.exitCode === null) churn.kill('SIGKILL');
  spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}
