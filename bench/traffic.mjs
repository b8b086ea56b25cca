// Traffic accuracy (issue 15): known rates driven between two network namespaces joined by a veth pair, read
// back through the Monitor at a 1 s interval, measured against expected per connection, per process and in
// total. Root only (namespaces). Writes bench/results/traffic.md and traffic.json.
//   one connection at 1 MB/s; 100 connections at 1 kB/s each; a burst of 200 connections of 10 kB, each
//   living well under 100 ms (so most open and close between two polls: only the kernel's destroy events and
//   their final bytes see them)
//   node bench/traffic.mjs          (part of npm run bench; needs npm run build)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { Monitor, NetlinkSource } = require('../out/node/engine.cjs');

const POLLS = Number(process.env.BENCH_TRAFFIC_POLLS ?? 12);
const FAST = 1_000_000;
const SLOW = 1000;
const SLOW_COUNT = 100;
const BURST = 200;
const BURST_BYTES = 10_000;
const id = `${process.pid}`;
const C = `pwbc${id}`;
const S = `pwbs${id}`;

// One process: paced senders on 7001 (one connection, FAST bytes/s) and 7002 (each connection SLOW bytes/s),
// and 7003, which sends BURST_BYTES and closes. Pacing by a cumulative schedule: every 5 ms each connection is
// topped up to rate x elapsed, so any one-second window carries its rate within a few bytes.
const SERVER = String.raw`
import socket, threading, time, select
def listener(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('10.79.0.2', port)); s.listen(512); return s
fast, slow, burst = listener(7001), listener(7002), listener(7003)
paced = []
lock = threading.Lock()
def accept(l, rate):
    while True:
        c, _ = l.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); c.setblocking(False)
        with lock: paced.append([c, rate, time.monotonic(), 0])
def bursts():
    while True:
        c, _ = burst.accept(); c.sendall(b'b' * ${BURST_BYTES}); c.close()
for l, r in ((fast, ${FAST}), (slow, ${SLOW})): threading.Thread(target=accept, args=(l, r), daemon=True).start()
threading.Thread(target=bursts, daemon=True).start()
print('ready', flush=True)
while True:
    now = time.monotonic()
    with lock: items = list(paced)
    for p in items:
        due = int(p[1] * (now - p[2])) - p[3]
        if due > 0:
            try: p[3] += p[0].send(b'x' * due)
            except BlockingIOError: pass
            except OSError:
                with lock: paced.remove(p)
    time.sleep(0.005)
`;

// A reader of n connections to port; prints "ready" once all are open.
const READER = (port, n) => String.raw`
import socket, selectors
sel = selectors.DefaultSelector()
for _ in range(${n}):
    c = socket.create_connection(('10.79.0.2', ${port})); c.setblocking(False); sel.register(c, selectors.EVENT_READ)
print('ready', flush=True)
while True:
    for k, _ in sel.select():
        if not k.fileobj.recv(1 << 20): sel.unregister(k.fileobj)
`;

// On "go": BURST connections to 7003, 50 a second, each read to the end and closed; prints the bytes read.
const BURSTER = String.raw`
import socket, sys, time
print('ready', flush=True)
sys.stdin.readline()
got = 0; longest = 0
for i in range(${BURST}):
    t = time.monotonic()
    c = socket.create_connection(('10.79.0.2', 7003))
    while True:
        b = c.recv(65536)
        if not b: break
        got += len(b)
    c.close(); longest = max(longest, time.monotonic() - t)
    time.sleep(max(0, 0.02 - (time.monotonic() - t)))
print(got, round(longest * 1000), flush=True)
sys.stdin.readline()
`;

function ip(...args) {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

function world() {
  ip('netns', 'add', C);
  ip('netns', 'add', S);
  for (const ns of [C, S]) ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  ip('netns', 'exec', C, 'ip', 'link', 'add', `v${id}`, 'type', 'veth', 'peer', 'name', `w${id}`, 'netns', S);
  ip('netns', 'exec', C, 'ip', 'addr', 'add', '10.79.0.1/24', 'dev', `v${id}`);
  ip('netns', 'exec', C, 'ip', 'link', 'set', `v${id}`, 'up');
  ip('netns', 'exec', S, 'ip', 'addr', 'add', '10.79.0.2/24', 'dev', `w${id}`);
  ip('netns', 'exec', S, 'ip', 'link', 'set', `w${id}`, 'up');
}

function teardown() {
  // `ip netns del` of one that is not there says so and fails: nothing to do then
  for (const ns of [C, S]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
}

/** A python child in a namespace, with its stdout as lines. */
function child(ns, code) {
  const p = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  const waiters = [];
  createInterface({ input: p.stdout }).on('line', (l) => {
    const w = waiters.shift();
    if (w) w(l);
    else lines.push(l);
  });
  return {
    proc: p,
    line: () => (lines.length ? Promise.resolve(lines.shift()) : new Promise((r) => waiters.push(r))),
    say: (text) => p.stdin.write(`${text}\n`),
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (measured, expected) => (100 * (measured - expected)) / expected;
const fmt = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;

async function main() {
  if (process.getuid?.() !== 0) throw new Error('bench/traffic.mjs: needs root (network namespaces)');
  teardown();
  world();
  const kids = [];
  try {
    const server = child(S, SERVER);
    kids.push(server);
    await server.line();
    const fastReader = child(C, READER(7001, 1));
    const slowReader = child(C, READER(7002, SLOW_COUNT));
    const burster = child(C, BURSTER);
    kids.push(fastReader, slowReader, burster);
    await Promise.all([fastReader.line(), slowReader.line(), burster.line()]);

    const monitor = new Monitor({ source: new NetlinkSource(), intervalMs: 1000 });
    const current = new Map();
    const polls = [];
    let lastAt = null;
    let resolveDone;
    const done = new Promise((r) => (resolveDone = r));
    let burstAsked = false;
    monitor.on('snapshot', (snap) => {
      for (const s of snap.sockets) current.set(s.id, s);
      lastAt = snap.takenAt;
    });
    monitor.on('delta', (d) => {
      for (const rid of d.removed) current.delete(rid);
      for (const s of [...d.added, ...d.changed]) current.set(s.id, s);
      const dt = d.takenAt - lastAt;
      lastAt = d.takenAt;
      // two polls to settle (first sight has no rate), then record
      if (d.seq <= 3) return;
      const sockets = [...current.values()];
      polls.push({ dt, sockets, closed: d.closed });
      if (!burstAsked && polls.length === 2) {
        burstAsked = true;
        burster.say('go');
      }
      if (polls.length >= POLLS) resolveDone();
    });
    monitor.start();
    await done;
    await monitor.stop();
    const [burstRead, longestMs] = (await burster.line()).split(' ').map(Number);

    // per connection: the client ends, by remote port
    const fastRates = [];
    const slowErrors = [];
    const slowProcess = [];
    const fastProcess = [];
    let burstServerBytes = 0;
    let burstClientBytes = 0;
    let totalIn = 0;
    let expectedIn = 0;
    const slowById = new Map();
    for (const p of polls) {
      const clientSide = p.sockets.filter((s) => s.remoteAddress === '10.79.0.2' && s.state === 'ESTABLISHED');
      const fast = clientSide.find((s) => s.remotePort === 7001);
      if (fast?.rateIn != null) fastRates.push(fast.rateIn);
      for (const s of clientSide.filter((x) => x.remotePort === 7002 && x.rateIn != null)) {
        const list = slowById.get(s.id) ?? [];
        list.push(s.rateIn);
        slowById.set(s.id, list);
      }
      // per process: every socket its pid owns (the readers hold nothing else)
      const ofPid = (pid) => p.sockets.filter((s) => s.pid === pid).reduce((a, s) => a + (s.rateIn ?? 0), 0);
      slowProcess.push(ofPid(slowReader.proc.pid));
      fastProcess.push(ofPid(fastReader.proc.pid));
      // the burst, from the server's side: open connections' rates plus the closed ones' unseen bytes
      const serverBurst = p.sockets.filter((s) => s.localAddress === '10.79.0.2' && s.localPort === 7003 && !s.listening);
      burstServerBytes += serverBurst.reduce((a, s) => a + ((s.rateOut ?? 0) * p.dt) / 1000, 0);
      burstServerBytes += p.closed.filter((c) => c.localPort === 7003).reduce((a, c) => a + (c.unseenBytesOut ?? 0), 0);
      const clientBurst = p.sockets.filter((s) => s.remotePort === 7003 && s.localAddress === '10.79.0.1');
      burstClientBytes += clientBurst.reduce((a, s) => a + ((s.rateIn ?? 0) * p.dt) / 1000, 0);
      burstClientBytes += p.closed.filter((c) => c.remotePort === 7003 && c.localAddress === '10.79.0.1').reduce((a, c) => a + (c.unseenBytesIn ?? 0), 0);
      const clientAll = p.sockets.filter((s) => s.localAddress === '10.79.0.1');
      const clientClosed = p.closed.filter((c) => c.localAddress === '10.79.0.1');
      totalIn += clientAll.reduce((a, s) => a + ((s.rateIn ?? 0) * p.dt) / 1000, 0) + clientClosed.reduce((a, c) => a + (c.unseenBytesIn ?? 0), 0);
      expectedIn += ((FAST + SLOW * SLOW_COUNT) * p.dt) / 1000;
    }
    expectedIn += burstRead;
    for (const list of slowById.values()) slowErrors.push(Math.abs(pct(median(list), SLOW)));
    const result = {
      when: new Date().toISOString(),
      polls: polls.length,
      intervalMs: 1000,
      fast: { expected: FAST, median: median(fastRates), errorPct: pct(median(fastRates), FAST) },
      slow: {
        expected: SLOW,
        connections: slowById.size,
        medianAbsErrorPct: median(slowErrors),
        worstAbsErrorPct: Math.max(...slowErrors),
      },
      processes: {
        fast: { expected: FAST, median: median(fastProcess), errorPct: pct(median(fastProcess), FAST) },
        slow: { expected: SLOW * SLOW_COUNT, median: median(slowProcess), errorPct: pct(median(slowProcess), SLOW * SLOW_COUNT) },
      },
      burst: {
        connections: BURST,
        longestMs,
        bytesRead: burstRead,
        clientSide: { measured: Math.round(burstClientBytes), errorPct: pct(burstClientBytes, burstRead) },
        serverSide: { measured: Math.round(burstServerBytes), errorPct: pct(burstServerBytes, burstRead) },
      },
      total: { expected: Math.round(expectedIn), measured: Math.round(totalIn), errorPct: pct(totalIn, expectedIn) },
    };
    const md = [
      `# Traffic accuracy (bench/traffic.mjs, ${result.when})`,
      '',
      `Between two network namespaces over a veth pair; Monitor at a 1 s interval, ${result.polls} polls recorded. Target: within 5% per connection and per process; short connections' bytes in the totals.`,
      '',
      '| what | expected | measured | error |',
      '|---|---:|---:|---:|',
      `| one connection at 1 MB/s (median of polls) | ${FAST} B/s | ${Math.round(result.fast.median)} B/s | ${fmt(result.fast.errorPct)} |`,
      `| ${SLOW_COUNT} connections at 1 kB/s: median / worst per connection | ${SLOW} B/s | | ${result.slow.medianAbsErrorPct.toFixed(1)}% / ${result.slow.worstAbsErrorPct.toFixed(1)}% |`,
      `| process with the 1 MB/s connection | ${FAST} B/s | ${Math.round(result.processes.fast.median)} B/s | ${fmt(result.processes.fast.errorPct)} |`,
      `| process with the ${SLOW_COUNT} connections | ${SLOW * SLOW_COUNT} B/s | ${Math.round(result.processes.slow.median)} B/s | ${fmt(result.processes.slow.errorPct)} |`,
      `| burst of ${BURST} x 10 kB (longest lived ${longestMs} ms), client side | ${burstRead} B | ${result.burst.clientSide.measured} B | ${fmt(result.burst.clientSide.errorPct)} |`,
      `| the same burst, server side | ${burstRead} B | ${result.burst.serverSide.measured} B | ${fmt(result.burst.serverSide.errorPct)} |`,
      `| client namespace total in, over the recorded polls | ${result.total.expected} B | ${result.total.measured} B | ${fmt(result.total.errorPct)} |`,
      '',
    ].join('\n');
    mkdirSync(join(here, 'results'), { recursive: true });
    writeFileSync(join(here, 'results', 'traffic.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(here, 'results', 'traffic.md'), `${md}\n`);
    process.stdout.write(`${md}\n`);
  } finally {
    for (const k of kids) k.proc.kill('SIGKILL');
    teardown();
  }
}

await main();
