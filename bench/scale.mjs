// The web transport at scale (issue 12), over the machine's real sockets (bench/holders.mjs) and the default
// (netlink) engine at 1 Hz:
//   1. wire size of a snapshot and of a 5% delta, per socket, at 10,000 and 50,000 sockets, as a WebSocket
//      client receives them (and what the model's own JSON would have been);
//   2. the serving process's RSS with 1 and with 20 stalled clients at 30,000 sockets (bench/serveChild.mjs in
//      a process of its own, clients in another), and how long a page request takes meanwhile;
//   3. Chromium holding 50,000 sockets at 1 Hz with 5% churn for two minutes: reconnects, new listener to its
//      row, React commit time (the profiling build, out/renderer-profile).
// Writes bench/results/scale.md and scale.json.
//   npm run build && VITE_PORTWATCH_PROFILE=1 npx electron-vite build && node bench/scale.mjs
//   BENCH_SCALE_PARTS=wire,stalled,browser  BENCH_SECONDS=120  (defaults)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { launchChromium } from './chromium.mjs';
import { churnEverySecond, holdSockets, socketCount } from './holders.mjs';
import { newListenerToRow } from './newListener.mjs';
import { LineChild } from './lineChild.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const require = createRequire(import.meta.url);
const { MonitorHost } = require('../out/node/engine.cjs');
const { startServer } = require('../out/node/server.cjs');

const PARTS = new Set((process.env.BENCH_SCALE_PARTS ?? 'wire,stalled,browser').split(','));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 120);
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;
const median = (xs) => quantile(xs, 0.5);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The holders, grown or shrunk (by stopping some) to bring the machine to about `total` sockets. */
const holders = [];
async function worldOf(total) {
  while (holders.length && socketCount() > total + 2000) await holders.pop().stop();
  holders.push(...(await holdSockets(total)));
}
/** Pairs per holder that replace 5% of `total` sockets. */
const perHolder = (total) => Math.max(1, Math.round((total * 0.05) / 2 / holders.length));
/** Replaces 5% of the sockets (as connected pairs) across the holders, once. */
const churn = (total) => Promise.all(holders.map((h) => h.churn(perHolder(total))));

/** A WebSocket client of `server` that records the byte length of each event message. */
function recorder(port, token) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, { headers: { Origin: `http://127.0.0.1:${port}` }, maxPayload: 1 << 30 });
  const got = [];
  ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', token })));
  ws.on('message', (d) => {
    const text = String(d);
    const m = JSON.parse(text);
    if (m.type === 'event' && (m.event === 'snapshot' || m.event === 'delta')) got.push({ event: m.event, bytes: Buffer.byteLength(text), data: m.data });
  });
  return { ws, got };
}
const waitUntil = async (check, what, ms = 60_000) => {
  const until = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`scale bench: gave up waiting for ${what}`);
    await sleep(20);
  }
};

const result = { date: new Date().toISOString() };

// 1. wire size
if (PARTS.has('wire')) {
  result.wire = [];
  for (const total of [10_000, 50_000]) {
    await worldOf(total);
    const monitor = new MonitorHost({ intervalMs: 1000 });
    monitor.start();
    const server = await startServer({ monitor, staticDir: join(root, 'out', 'renderer'), port: 0 });
    const c = recorder(server.port, server.token);
    const snap = await waitUntil(() => c.got.find((m) => m.event === 'snapshot'), 'the snapshot');
    const sockets = snap.data.sockets.length;
    const modelSnapshot = Buffer.byteLength(JSON.stringify({ type: 'event', event: 'snapshot', data: monitor.getSnapshot() }));
    const deltas = [];
    const modelDeltas = [];
    for (let round = 0; round < 5; round++) {
      const before = c.got.length;
      const seen = new Promise((resolve) => {
        const off = monitor.on('delta', (d) => {
          if (d.added.length + d.removed.length < total * 0.04) return;
          off();
          resolve(d);
        });
      });
      await churn(total);
      const d = await seen;
      modelDeltas.push(Buffer.byteLength(JSON.stringify({ type: 'event', event: 'delta', data: d })));
      const m = await waitUntil(() => c.got.slice(before).find((x) => x.event === 'delta' && x.data.seq === d.seq), 'the delta on the wire');
      deltas.push({ bytes: m.bytes, added: d.added.length, removed: d.removed.length, changed: d.changed.length });
    }
    const d = deltas.sort((a, b) => a.bytes - b.bytes)[2];
    result.wire.push({
      sockets,
      processes: snap.data.processes.length,
      snapshotBytes: snap.bytes,
      snapshotPerSocket: snap.bytes / sockets,
      modelSnapshotBytes: modelSnapshot,
      delta: d,
      deltaPerSocket: d.bytes / sockets,
      deltaPerChanged: d.bytes / (d.added + d.removed + d.changed),
      modelDeltaBytes: median(modelDeltas),
    });
    c.ws.close();
    await server.close();
    await monitor.stop();
  }
}

// 2. stalled clients
/** Peak and final RSS of a process, sampled every 250 ms for `ms`, with page requests timed meanwhile. */
async function watchProcess(pid, port, ms) {
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
  let peak = 0;
  const pages = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    peak = Math.max(peak, rss());
    const t = performance.now();
    await new Promise((resolve) =>
      get({ host: '127.0.0.1', port, path: '/', headers: { Host: `127.0.0.1:${port}` } }, (res) => res.resume().on('end', resolve)).on('error', resolve),
    );
    pages.push(performance.now() - t);
    await sleep(250);
  }
  return { peakMb: peak, endMb: rss(), pageMaxMs: Math.max(...pages), pageP50Ms: median(pages) };
}
if (PARTS.has('stalled')) {
  const total = 30_000;
  await worldOf(total);
  result.stalled = { sockets: socketCount(), runs: [] };
  const stopChurn = churnEverySecond(holders, perHolder(total));
  // alternating, two rounds each; every run a fresh server, warmed up for 10 s before its clients stall
  for (const k of [1, 20, 1, 20]) {
    const serve = new LineChild(join(here, 'serveChild.mjs'));
    const { port, token } = JSON.parse(await serve.next());
    await sleep(10_000);
    const baseMb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${serve.proc.pid}/status`, 'utf8'))?.[1]) / 1024;
    const clients = new LineChild(join(here, 'stalledClients.mjs'), [String(port), token, String(k)]);
    await clients.next();
    const watched = await watchProcess(serve.proc.pid, port, 30_000);
    result.stalled.runs.push({ clients: k, baseMb, ...watched });
    await clients.stop();
    await serve.stop();
  }
  await stopChurn();
  const of = (k, f) => median(result.stalled.runs.filter((r) => r.clients === k).map(f));
  result.stalled.oneMb = of(1, (r) => r.peakMb);
  result.stalled.twentyMb = of(20, (r) => r.peakMb);
  result.stalled.ratio = result.stalled.twentyMb / result.stalled.oneMb;
}

// 3. Chromium at 50,000 sockets
if (PARTS.has('browser')) {
  const total = 50_000;
  await worldOf(total);
  const monitor = new MonitorHost({ intervalMs: 1000 });
  monitor.start();
  let upgrades = 0;
  const server = await startServer({
    monitor,
    staticDir: join(root, 'out', 'renderer-profile'),
    port: 0,
    onRequest: (req) => {
      if (req.url?.startsWith('/api/ws')) upgrades++;
    },
  });
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const t0 = Date.now();
  await page.goto(server.url);
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=count-sockets]')?.textContent) >= n * 0.9, total, { timeout: 120_000 });
  const firstRender = Date.now() - t0;
  // disconnections the page itself went through
  await page.evaluate(() => {
    window.__pwDisconnects = 0;
    const bar = document.querySelector('[data-testid=status-bar]');
    new MutationObserver(() => {
      if (bar?.getAttribute('data-state') === 'disconnected') window.__pwDisconnects++;
    }).observe(bar, { attributes: true, attributeFilter: ['data-state'] });
    window.__portwatchCommits = [];
  });
  const stopChurn = churnEverySecond(holders, perHolder(total));
  const latencies = [];
  const started = Date.now();
  // new listeners spread over the run, at different phases of the poll
  for (let i = 0; Date.now() - started < SECONDS * 1000; i++) {
    const { ms, stop } = await newListenerToRow(page);
    latencies.push(ms);
    await stop();
    await page.getByTestId('search').fill('');
    await sleep(8000 + ((137 * (i + 1)) % 1000));
  }
  await stopChurn();
  const commits = await page.evaluate(() => window.__portwatchCommits);
  const disconnects = await page.evaluate(() => window.__pwDisconnects);
  const shown = Number(await page.getByTestId('count-sockets').textContent());
  result.browser = {
    sockets: shown,
    seconds: SECONDS,
    firstRenderMs: firstRender,
    reconnects: upgrades - 1,
    disconnects,
    newListenerToRowMs: { runs: latencies, median: median(latencies), p95: quantile(latencies, 0.95), max: Math.max(...latencies) },
    commits: { count: commits.length, p50: quantile(commits, 0.5), p95: quantile(commits, 0.95), max: Math.max(...commits) },
    pageErrors: errors,
    serverStats: server.stats(),
  };
  await browser.close();
  await server.close();
  await monitor.stop();
}

await Promise.all(holders.map((h) => h.stop()));

const kib = (b) => `${(b / 1024).toFixed(0)} KiB`;
let md = `# The web transport at scale (bench/scale.mjs)\n\nRun ${result.date}, real loopback sockets, netlink engine at 1 Hz, 5% churn per second.\n`;
if (result.wire) {
  md += `\n## Wire size (target: a snapshot at most 150 bytes per socket)\n\n| sockets | processes | snapshot | per socket | model JSON would be | 5% delta (added / removed / changed) | per socket | model JSON would be |\n|---:|---:|---:|---:|---:|---|---:|---:|\n`;
  for (const w of result.wire) {
    md += `| ${w.sockets} | ${w.processes} | ${kib(w.snapshotBytes)} | ${w.snapshotPerSocket.toFixed(1)} B | ${kib(w.modelSnapshotBytes)} | ${kib(w.delta.bytes)} (${w.delta.added} / ${w.delta.removed} / ${w.delta.changed}) | ${w.deltaPerSocket.toFixed(1)} B | ${kib(w.modelDeltaBytes)} |\n`;
  }
}
if (result.stalled) {
  const s = result.stalled;
  md += `\n## Stalled clients at ${s.sockets} sockets (target: 20 cost at most 2x one)\n\nA fresh \`serve\` process per run (bench/serveChild.mjs), warmed up 10 s; then K clients that show the token and never read again, for 30 s; RSS of the serving process sampled every 250 ms, and a page request timed meanwhile.\n\n| stalled clients | RSS before | RSS peak | RSS end | page request p50 / max |\n|---:|---:|---:|---:|---:|\n`;
  for (const r of s.runs)
    md += `| ${r.clients} | ${r.baseMb.toFixed(0)} MB | ${r.peakMb.toFixed(0)} MB | ${r.endMb.toFixed(0)} MB | ${r.pageP50Ms.toFixed(1)} / ${r.pageMaxMs.toFixed(1)} ms |\n`;
  md += `\nMedian peak: ${s.oneMb.toFixed(0)} MB with one, ${s.twentyMb.toFixed(0)} MB with twenty: **${s.ratio.toFixed(2)}x**.\n`;
}
if (result.browser) {
  const b = result.browser;
  md += `\n## Chromium at ${b.sockets} sockets for ${b.seconds} s (1 Hz, 5% churn)\n\n| measure | value | target |\n|---|---:|---|\n| reconnects (WebSocket upgrades after the first) | ${b.reconnects} | 0 |\n| times the page showed "disconnected" | ${b.disconnects} | 0 |\n| first render (page load to all counted) | ${b.firstRenderMs} ms | |\n| new listener to its row, median / p95 / max (${b.newListenerToRowMs.runs.length} runs) | ${b.newListenerToRowMs.median} / ${b.newListenerToRowMs.p95} / ${b.newListenerToRowMs.max} ms | < 1000 + 500 ms |\n| React commit p50 / p95 / max (${b.commits.count} commits) | ${b.commits.p50.toFixed(1)} / ${b.commits.p95.toFixed(1)} / ${b.commits.max.toFixed(1)} ms | |\n| uncaught page errors | ${b.pageErrors.length} | 0 |\n`;
}
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'scale.md'), md);
writeFileSync(join(here, 'results', 'scale.json'), JSON.stringify(result, null, 2) + '\n');
console.log(md);
