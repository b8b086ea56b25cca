// Web-mode benchmark (issue 3): the serving process's event-loop delay while the monitor polls ~10,000
// sockets at 1 Hz with 5% churn and a browser is connected; and the time from a new listener to its row in
// Chromium. Writes bench/results/web.md and web.json.
//   node bench/web.mjs          (npm run bench runs it after the collection benchmark)
import { mkdirSync, writeFileSync } from 'node:fs';
import { churnEverySecond, holdSockets } from './holders.mjs';
import { newListenerToRow } from './newListener.mjs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const require = createRequire(import.meta.url);
const { MonitorHost } = require('../out/node/engine.cjs');
const { startServer } = require('../out/node/server.cjs');

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 10000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const LATENCY_RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 10);

const pct = (h, p) => h.percentile(p) / 1e6;
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

const holders = await holdSockets(SOCKETS);

const monitor = new MonitorHost({ intervalMs: 1000 });
monitor.start();
const server = await startServer({ monitor, staticDir: join(root, 'out', 'renderer'), port: 0 });
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
await page.goto(server.url);
await page.locator('[data-testid=status-bar][data-state=ok]').waitFor({ timeout: 30_000 });

// 1. event-loop delay of this (serving) process, 1 Hz polls, 5% churn a second, a browser connected
// resolution 1 ms: each sample includes that 1 ms interval, so the figures err high by at most 1 ms
const h = monitorEventLoopDelay({ resolution: 1 });
h.enable();
const perHolder = Math.max(1, Math.round((SOCKETS * 0.05) / 2 / holders.length));
// churn goes on through both measurements
const stopChurn = churnEverySecond(holders, perHolder);
await new Promise((r) => setTimeout(r, SECONDS * 1000));
h.disable();
const listed = monitor.getSnapshot()?.sockets.length ?? 0;

// 2. a new listener to its row in the browser; split into waiting for the next poll (up to one interval)
// and the pipeline after it (poll, diff, worker -> host -> WebSocket -> store -> React)
const latencies = [];
const pipeline = [];
const seenAt = new Map();
monitor.on('delta', (d) => {
  for (const s of d.added) if (s.listening) seenAt.set(String(s.localPort), { at: Date.now(), takenAt: d.takenAt });
});
for (let i = 0; i < LATENCY_RUNS; i++) {
  const { port, shownAt: shown, ms, stop } = await newListenerToRow(page);
  latencies.push(ms);
  const seen = seenAt.get(String(port));
  if (seen) pipeline.push(shown - seen.takenAt);
  await stop();
  await page.locator(`[data-testid=socket-row][data-socket-id*="|${port}|"]`).waitFor({ state: 'detached', timeout: 15_000 });
  await new Promise((r) => setTimeout(r, (137 * (i + 1)) % 1000)); // start the next one at another phase of the poll
}

await stopChurn();
await browser.close();
await server.close();
await monitor.stop();
await Promise.all(holders.map((x) => x.stop()));

const result = {
  date: new Date().toISOString(),
  sockets: listed,
  seconds: SECONDS,
  eventLoopDelayMs: { p50: pct(h, 50), p99: pct(h, 99), max: h.max / 1e6 },
  newListenerToRowMs: { runs: latencies, median: quantile(latencies, 0.5), p95: quantile(latencies, 0.95), max: Math.max(...latencies) },
  pollEndToRowMs: { runs: pipeline, median: quantile(pipeline, 0.5), max: Math.max(...pipeline) },
};
const md = `# Web mode benchmark

${listed} sockets, polled at 1 Hz with 5% churn per second throughout, Chromium connected; event-loop delay
sampled over ${SECONDS} s (monitorEventLoopDelay, 1 ms resolution, which each figure includes).

| measure | p50 | p99 / p95 | max | budget |
|---|---:|---:|---:|---|
| event-loop delay of the serving process | ${result.eventLoopDelayMs.p50.toFixed(1)} ms | ${result.eventLoopDelayMs.p99.toFixed(1)} ms (p99) | ${result.eventLoopDelayMs.max.toFixed(1)} ms | p99 < 20 ms |
| new listener to its row in the browser (${LATENCY_RUNS} runs) | ${result.newListenerToRowMs.median} ms | ${result.newListenerToRowMs.p95} ms (p95) | ${result.newListenerToRowMs.max} ms | < 1000 + 200 ms |
| of which: end of the poll that saw it to its row | ${result.pollEndToRowMs.median} ms | | ${result.pollEndToRowMs.max} ms | |
`;
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'web.md'), md);
writeFileSync(join(here, 'results', 'web.json'), JSON.stringify(result, null, 2) + '\n');
console.log(md);
