// Filter language benchmark (issue 14): a keystroke in the search box parses the query and re-filters every
// socket; at 10,000 sockets that must fit in a frame (16 ms). Times parseQuery + filterRows (the UI's own
// code, compiled from src/ with esbuild, as scripts/build-cli.mjs loads its sources) over 10,000 realistic
// sockets, for free text, field terms, OR, ss syntax, CIDR and the displayed forms. Each query runs many times:
// "keystroke" with the sockets as the UI holds them between polls (what each socket shows is computed once per
// socket object, on first use), "fresh" with new socket objects every run (the first filter after every
// socket changed). Writes bench/results/query.md and query.json.
//   node bench/query.mjs        (BENCH_SOCKETS, BENCH_RUNS to change the size)
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 10000);
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const FRESH_RUNS = Math.max(5, Math.round(RUNS / 5));
const BUDGET_MS = 16;

/** The UI's query and view code, bundled from the sources and run as a CommonJS module. */
async function loadUiCode() {
  const filename = join(root, 'bench', 'query-entry.ts');
  const { outputFiles } = await build({
    stdin: {
      contents: [
        "export { parseQuery } from '../src/shared/query';",
        "export { filterRows, NO_TOGGLES } from '../src/renderer/src/store/view';",
        "export { serviceName } from '../src/shared/services';",
      ].join('\n'),
      resolveDir: here,
      sourcefile: filename,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    logLevel: 'warning',
  });
  const module = { exports: {} };
  new Script(Module.wrap(outputFiles[0].text), { filename })
    .runInThisContext()
    .call(module.exports, module.exports, createRequire(filename), module, filename, dirname(filename));
  return module.exports;
}

/**
 * A socket as the UI holds it: one object literal in the model's field order, as shared/wire.ts decodes it (objects
 * of one shape; the mixed shapes of spreads make every property read several times slower, and no real socket).
 */
function asDecoded(s) {
  return {
    id: s.id,
    protocol: s.protocol,
    family: s.family,
    localAddress: s.localAddress,
    localPort: s.localPort,
    remoteAddress: s.remoteAddress,
    remotePort: s.remotePort,
    state: s.state,
    listening: s.listening,
    pid: s.pid,
    pids: s.pids,
    uid: s.uid,
    user: s.user,
    ownerHidden: s.ownerHidden,
    noOwner: s.noOwner,
    interface: s.interface,
    v6only: s.v6only,
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
    rttMs: s.rttMs,
    netns: s.netns,
    container: s.container,
    process: s.process,
  };
}

/** A deterministic machine: ~120 processes, listeners on all kinds of addresses, clients, TIME_WAIT, UDP. */
function makeSockets(n) {
  let seed = 42;
  const rand = (k) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % k);
  const names = ['nginx', 'postgres', 'node', 'chrome', 'sshd', 'redis-server', 'java', 'python3', 'code', 'dockerd', 'systemd-resolved', 'curl'];
  const cmdlines = {
    nginx: ['nginx: worker process'],
    postgres: ['postgres: checkpointer'],
    node: ['node', '/home/alice/app/server.js', '--port', '3000'],
    chrome: ['/opt/google/chrome/chrome', '--type=renderer', '--lang=en-US'],
    sshd: ['sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups'],
    'redis-server': ['redis-server *:6379'],
    java: ['java', '-Xmx2g', '-jar', 'app.jar'],
    python3: ['python3', 'sneaky.py'],
    code: ['/usr/share/code/code', '--type=utility'],
    dockerd: ['/usr/bin/dockerd', '-H', 'fd://'],
    'systemd-resolved': ['/lib/systemd/systemd-resolved'],
    curl: ['curl', 'https://github.com'],
  };
  const procs = Array.from({ length: 120 }, (_, i) => {
    const name = names[i % names.length];
    return {
      pid: 1000 + i,
      ppid: 1,
      name,
      exe: `/usr/bin/${name}`,
      cmdline: cmdlines[name],
      uid: i % 3 === 0 ? 0 : 1000,
      user: i % 3 === 0 ? 'root' : 'alice',
      startTime: 1_700_000_000_000 + i,
    };
  });
  const remotes = [
    '140.82.121.4',
    '142.250.74.110',
    '10.0.0.12',
    '10.20.30.40',
    '192.168.1.1',
    '2606:50c0:8000::153',
    'fd00::1:2',
    '2a00:1450:4001:82b::200e',
    '127.0.0.1',
    '::1',
  ];
  const locals4 = ['10.1.2.3', '192.168.1.50', '127.0.0.1'];
  const out = [];
  for (let i = 0; i < n; i++) {
    const p = procs[rand(procs.length)];
    const kind = rand(100);
    const base = {
      protocol: 'tcp',
      family: 4,
      remoteAddress: null,
      remotePort: null,
      pid: p.pid,
      pids: [p.pid],
      uid: p.uid,
      user: p.user,
      ownerHidden: false,
      noOwner: null,
      interface: null,
      v6only: null,
      bytesIn: null,
      bytesOut: null,
      rttMs: null,
      netns: null,
      container: null,
      process: p,
    };
    let s;
    if (kind < 6) {
      // listeners: all interfaces, loopback, one address, dual-stack, IPv6-only
      const where = [
        ['0.0.0.0', 4, null],
        ['127.0.0.1', 4, null],
        ['192.168.1.50', 4, null],
        ['::', 6, false],
        ['::1', 6, true],
      ][rand(5)];
      const port = [22, 80, 443, 3000, 5173, 5432, 6379, 8080, 9229, 19002, 19005][rand(11)] + (rand(4) === 0 ? rand(20000) : 0);
      s = { ...base, localAddress: where[0], family: where[1], v6only: where[2], localPort: port, state: 'LISTEN', listening: true };
    } else if (kind < 9) {
      const six = rand(2) === 0;
      s = {
        ...base,
        protocol: 'udp',
        family: six ? 6 : 4,
        localAddress: six ? '::' : '0.0.0.0',
        v6only: six ? false : null,
        localPort: [53, 123, 5353, 40000 + rand(20000)][rand(4)],
        state: 'UNCONN',
        listening: true,
      };
    } else {
      const remote = remotes[rand(remotes.length)];
      const six = remote.includes(':');
      const tw = kind > 85;
      s = {
        ...base,
        family: six ? 6 : 4,
        localAddress: six ? (remote === '::1' ? '::1' : 'fd00::5') : remote === '127.0.0.1' ? '127.0.0.1' : locals4[rand(2)],
        localPort: 32768 + rand(28000),
        remoteAddress: remote,
        remotePort: [443, 80, 22, 5432, 3000, 8080, 25][rand(7)],
        state: tw ? 'TIME_WAIT' : ['ESTABLISHED', 'ESTABLISHED', 'ESTABLISHED', 'CLOSE_WAIT', 'SYN_SENT'][rand(5)],
        listening: false,
        ...(tw ? { pid: null, pids: [], process: null, uid: null, user: null, noOwner: 'closed' } : {}),
        bytesIn: rand(1e6),
        bytesOut: rand(1e6),
      };
    }
    s.id = `${s.protocol}|${s.localAddress}|${s.localPort}|${s.remoteAddress ?? '*'}|${s.remotePort ?? '*'}|${i}`;
    out.push(asDecoded(s));
  }
  return out;
}

const QUERIES = [
  ['free text', 'nginx'],
  ['free text, two words', 'python3 sneaky'],
  ['field terms', 'port:443 state:established'],
  ['field terms, negated', 'proc:node -user:root'],
  ['list and service name', 'port:80,https,ssh'],
  ['OR', 'port:5432 or proc:redis or proc:java'],
  ['OR with parentheses', '(node server) or -state:listen'],
  ['ss syntax', "state established '( dport = :https or sport = :https )'"],
  ['ss syntax, comparison and CIDR', 'dport > :1024 and src 10.0.0.0/8'],
  ['CIDR, IPv4', 'host:10.0.0.0/8'],
  ['CIDR, IPv6', 'host:fd00::/8'],
  ['displayed endpoint, IPv4', '127.0.0.1:19002'],
  ['displayed endpoint, IPv6', '[::1]:19005'],
  [':PORT', ':3000'],
  ['protocol and family', 'tcp6'],
  ['exposure and risk', 'exposure:all risk'],
  ['unexpected', 'unexpected'],
  ['an error (shows nothing)', 'port:80 or'],
];

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const round = (x) => Math.round(x * 100) / 100;

const ui = await loadUiCode();
const sockets = makeSockets(SOCKETS);
const rowsOf = (list) => list.map((socket) => ({ socket, change: null, firstSeen: 1_700_000_000_000 }));
const names = new Map([
  ['140.82.121.4', 'lb-140-82-121-4-fra.github.com'],
  ['142.250.74.110', 'fra24s06-in-f14.1e100.net'],
]);
const ctx = {
  hostName: (a) => names.get(a),
  serviceName: ui.serviceName,
  // a baseline that expects the well-known ports
  expected: (s) => (s.listening ? s.localPort < 1024 : null),
};

/** New socket objects for every socket, sharing new process objects as decoded messages do (one per process). */
function renew(list) {
  const procs = new Map();
  return list.map((s) => {
    let p = s.process && procs.get(s.process.pid);
    if (s.process && !p) procs.set(s.process.pid, (p = { ...s.process }));
    return asDecoded({ ...s, process: p ?? null });
  });
}

const stats = (xs) => ({ median: round(percentile(xs, 50)), p95: round(percentile(xs, 95)), max: round(Math.max(...xs)) });
const results = QUERIES.map(([what, query]) => ({ what, query, shown: 0, keystroke: null, fresh: null }));
// keystrokes first, every query: the same socket objects each time, as between two polls (the first run of a
// query fills what they show); then fresh, so that its garbage does not land in the keystrokes' timings
const rows = rowsOf(sockets);
for (const r of results) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const parsed = ui.parseQuery(r.query);
    r.shown = ui.filterRows(rows, ui.NO_TOGGLES, parsed, ctx).length;
    times.push(performance.now() - t);
  }
  r.keystroke = stats(times);
}
// fresh: every socket a new object (made outside the timing), as on the first keystroke after a page load
for (const r of results) {
  const times = [];
  for (let i = 0; i < FRESH_RUNS; i++) {
    const renewed = rowsOf(renew(sockets));
    const t = performance.now();
    ui.filterRows(renewed, ui.NO_TOGGLES, ui.parseQuery(r.query), ctx);
    times.push(performance.now() - t);
  }
  r.fresh = stats(times);
}

const worst = Math.max(...results.map((r) => r.keystroke.p95));
const worstFresh = Math.max(...results.map((r) => r.fresh.p95));
const machine = `${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), Node ${process.version}`;
const result = {
  machine,
  date: new Date().toISOString(),
  loadAverage: loadavg()[0],
  sockets: SOCKETS,
  runs: RUNS,
  freshRuns: FRESH_RUNS,
  budgetMs: BUDGET_MS,
  worstKeystrokeP95: worst,
  worstFreshP95: worstFresh,
  queries: results,
};

const md = `# Filter language benchmark

${machine}. ${SOCKETS.toLocaleString('en-US')} synthetic sockets (listeners, UDP, clients, TIME_WAIT; ~120 processes),
parseQuery + filterRows, the UI's code. "keystroke" (${RUNS} runs): the sockets as the UI holds them between polls;
"fresh" (${FRESH_RUNS} runs): every socket and process a new object (what each shows is computed again), as on the first
keystroke after a page load. Budget: a keystroke within ${BUDGET_MS} ms. Load average at the start: ${loadavg()[0].toFixed(1)}.

| query | | shown | keystroke median / p95 | fresh median / p95 |
|---|---|---:|---:|---:|
${results.map((r) => `| ${r.what} | \`${r.query.replace(/\|/g, '\\|')}\` | ${r.shown} | ${r.keystroke.median} / ${r.keystroke.p95} ms | ${r.fresh.median} / ${r.fresh.p95} ms |`).join('\n')}

Worst keystroke p95: ${worst} ms (${worst <= BUDGET_MS ? 'within' : '**over**'} ${BUDGET_MS} ms); worst fresh p95: ${worstFresh} ms.
`;

mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'query.md'), md);
writeFileSync(join(here, 'results', 'query.json'), JSON.stringify(result, null, 2) + '\n');
console.log(md);
