// Renderer benchmark (issue 4): the web UI in Chromium over a synthetic source of 10,000 sockets with 5%
// churn a second. Measures React commit time (a profiling build: out/renderer-profile) and frames dropped
// while scrolling the list, in the production build (out/renderer: what a user runs; the profiling build's are
// reported beside them). Writes bench/results/renderer.md and renderer.json.
//   npx electron-vite build && VITE_PORTWATCH_PROFILE=1 npx electron-vite build && node bench/renderer.mjs
//   (npm run bench does all three)
// Only the scrolling part, printed as one JSON line and written nowhere (to compare builds, alternated):
//   node bench/renderer.mjs --scroll-only [--static=DIR] [--trace=FILE.json] [--parts [--trace-steps=FILE.json]]
// --static serves another renderer build (default out/renderer-profile); --trace records a Chrome DevTools
// performance trace of the scroll (open it in DevTools' Performance panel, or read it with bench/trace.mjs).
// --parts adds the main thread's CPU time per scroll step with polling paused, and per second of churn with no
// scrolling: CPU time, unlike dropped frames, hardly moves with the load of a shared machine. --trace-steps
// traces that paused scroll.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { Monitor } = require('../out/node/engine.cjs');
const { startServer } = require('../out/node/server.cjs');

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 10000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const CHURN = 0.05;
const flag = (name) =>
  process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))?.split('=')[1] ?? (process.argv.includes(`--${name}`) ? '' : null);
const SCROLL_ONLY = flag('scroll-only') !== null;
const PARTS = flag('parts') !== null;
const TRACE_STEPS = flag('trace-steps') || null;
const STATIC = flag('static') || join(here, '..', 'out', 'renderer-profile');
const TRACE = flag('trace') || null;

/** A synthetic machine: ~100 processes, listeners and connections, 5% replaced every poll. */
function syntheticSource() {
  let next = 0;
  const procs = Array.from({ length: 100 }, (_, i) => ({
    pid: 1000 + i,
    ppid: 1,
    name: ['nginx', 'postgres', 'node', 'chrome', 'sshd', 'redis-server', 'java', 'python3'][i % 8],
    exe: '/usr/bin/x',
    cmdline: ['x', '--flag'],
    uid: 1000,
    user: 'alice',
    startTime: 1_700_000_000_000 + i,
  }));
  const make = () => {
    const n = next++;
    const p = procs[n % procs.length];
    const listening = n % 20 === 0;
    return {
      id: `tcp|10.0.${(n >> 8) & 255}.${n & 255}|${1024 + (n % 60000)}|${listening ? '*' : `192.0.2.${n % 250}`}|${listening ? '*' : 443}|${n}`,
      protocol: 'tcp',
      family: 4,
      localAddress: `10.0.${(n >> 8) & 255}.${n & 255}`,
      localPort: 1024 + (n % 60000),
      remoteAddress: listening ? null : `192.0.2.${n % 250}`,
      remotePort: listening ? null : 443,
      state: listening ? 'LISTEN' : 'ESTABLISHED',
      listening,
      pid: p.pid,
      pids: [p.pid],
      uid: 1000,
      user: 'alice',
      ownerHidden: false,
      process: p,
    };
  };
  let sockets = Array.from({ length: SOCKETS }, make);
  return {
    name: 'procfs',
    list: async () => {
      const k = Math.round(SOCKETS * CHURN);
      sockets = [...sockets.slice(k), ...Array.from({ length: k }, make)];
      return { sockets, warnings: [] };
    },
  };
}

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

/** 5 s of scrolling the whole list (groups open), 120 px a frame: the frames' timestamps. */
function scrollFrames(p) {
  return p.evaluate(
    () =>
      new Promise((resolve) => {
        const el = document.querySelector('[data-testid=scroller]');
        const times = [];
        const until = performance.now() + 5000;
        const step = (t) => {
          times.push(t);
          el.scrollTop += 120;
          if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1) el.scrollTop = 0;
          if (t < until) requestAnimationFrame(step);
          else resolve(times);
        };
        requestAnimationFrame(step);
      }),
  );
}
/** Frames dropped at 60 Hz, the p95 and the worst gap between frames. */
function frameStats(times) {
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  const budget = 1000 / 60;
  return {
    frames: times.length,
    seconds: 5,
    dropped: gaps.reduce((n, g) => n + Math.max(0, Math.round(g / budget) - 1), 0),
    worstFrameMs: Math.max(...gaps),
    p95FrameMs: quantile(gaps, 0.95),
  };
}

const monitor = new Monitor({ source: syntheticSource(), intervalMs: 1000 });
monitor.start();
const server = await startServer({ monitor, staticDir: STATIC, port: 0 });
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const t0 = Date.now();
await page.goto(server.url);
await page.waitForFunction((n) => Number(document.querySelector('[data-testid=count-sockets]')?.textContent) >= n * 0.9, SOCKETS, { timeout: 60_000 });
const firstRender = Date.now() - t0;
await page.evaluate(() => (window.__portwatchCommits = []));

// 1. commits while 5% of the sockets change every second (scroll-only: a few seconds of deltas first)
await new Promise((r) => setTimeout(r, (SCROLL_ONLY ? 3 : SECONDS) * 1000));
const commits = await page.evaluate(() => window.__portwatchCommits);

// 2. scrolling the whole list (groups open), frame by frame, while deltas keep arriving
await page.evaluate(() => (window.__portwatchCommits = []));
// the main thread's CPU time and Blink's own task, script, style and layout durations over the scroll: load
// on a shared machine stretches frames, much less the work each frame costs
const metrics = await page.context().newCDPSession(page);
await metrics.send('Performance.enable');
const readMetrics = async () => Object.fromEntries((await metrics.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
const before = await readMetrics();
/** A Chrome DevTools performance trace (timeline events and the sampling profile) until the returned stop(file). */
async function startTrace() {
  const cdp = await page.context().newCDPSession(page);
  const traceEvents = [];
  cdp.on('Tracing.dataCollected', (e) => traceEvents.push(...e.value));
  await cdp.send('Tracing.start', {
    transferMode: 'ReportEvents',
    traceConfig: {
      includedCategories: [
        'devtools.timeline',
        'disabled-by-default-devtools.timeline',
        'disabled-by-default-devtools.timeline.frame',
        'v8.execute',
        'blink.user_timing',
        'disabled-by-default-v8.cpu_profiler',
      ],
    },
  });
  return async (file) => {
    const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
    await cdp.send('Tracing.end');
    await done;
    writeFileSync(file, JSON.stringify({ traceEvents }));
    await cdp.detach();
  };
}
const stopTrace = TRACE ? await startTrace() : null;
const frames = await scrollFrames(page);
const scrollCommits = await page.evaluate(() => window.__portwatchCommits);
const after = await readMetrics();
const perFrameMs = (name) => ((after[name] - before[name]) * 1000) / frames.length;
if (stopTrace) await stopTrace(TRACE);
const scrollStats = frameStats(frames);

/** Main-thread CPU (ms) per scroll step with nothing arriving, and per second of churn with no scrolling. */
async function parts() {
  monitor.pause();
  // highlights end and closed rows leave: then nothing changes but the clock
  await new Promise((r) => setTimeout(r, 6000));
  const steps = 240;
  const stopStepsTrace = TRACE_STEPS ? await startTrace() : null;
  const a = await readMetrics();
  await page.evaluate(
    (n) =>
      new Promise((resolve) => {
        const el = document.querySelector('[data-testid=scroller]');
        let i = 0;
        const step = () => {
          el.scrollTop += 120;
          if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1) el.scrollTop = 0;
          if (++i < n) requestAnimationFrame(step);
          else requestAnimationFrame(() => resolve());
        };
        requestAnimationFrame(step);
      }),
    steps,
  );
  const b = await readMetrics();
  if (stopStepsTrace) await stopStepsTrace(TRACE_STEPS);
  monitor.resume();
  await new Promise((r) => setTimeout(r, 3000));
  const c = await readMetrics();
  await new Promise((r) => setTimeout(r, 5000));
  const d = await readMetrics();
  const seconds = d.Timestamp - c.Timestamp;
  return {
    scrollStepCpuMs: +(((b.ThreadTime - a.ThreadTime) * 1000) / steps).toFixed(2),
    // Blink's share of a step: script (React's render and commit, and the bench's own step), style, layout
    scrollStepMs: Object.fromEntries(
      ['TaskDuration', 'ScriptDuration', 'RecalcStyleDuration', 'LayoutDuration'].map((n) => [
        n.replace('Duration', ''),
        +(((b[n] - a[n]) * 1000) / steps).toFixed(2),
      ]),
    ),
    churnCpuMsPerSecond: +(((d.ThreadTime - c.ThreadTime) * 1000) / seconds).toFixed(1),
  };
}
const partsResult = PARTS ? await parts() : null;

/**
 * The frames a user meets: the same scroll in the production build. The profiling build (React's Profiler
 * and its performance tracks: a user timing mark per component rendered) costs the main thread several ms a
 * frame more, so its dropped frames above are kept as a reference, not as the budget's figure.
 */
async function productionScroll() {
  await page.close();
  const prodServer = await startServer({ monitor, staticDir: join(here, '..', 'out', 'renderer'), port: 0 });
  const prod = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  try {
    await prod.goto(prodServer.url);
    await prod.waitForFunction((n) => Number(document.querySelector('[data-testid=count-sockets]')?.textContent) >= n * 0.9, SOCKETS, { timeout: 60_000 });
    // a few seconds of deltas first, as the profiling build had
    await new Promise((r) => setTimeout(r, 3000));
    return frameStats(await scrollFrames(prod));
  } finally {
    await prod.close();
    await prodServer.close();
  }
}
const productionResult = SCROLL_ONLY ? null : await productionScroll();

await browser.close();
await server.close();
await monitor.stop();

if (SCROLL_ONLY) {
  console.log(
    JSON.stringify({
      static: STATIC,
      ...(partsResult ?? {}),
      frames: scrollStats.frames,
      dropped: scrollStats.dropped,
      p95FrameMs: scrollStats.p95FrameMs,
      worstFrameMs: scrollStats.worstFrameMs,
      // per frame: main-thread CPU, and Blink's durations of tasks, script, style recalc and layout
      perFrameMs: Object.fromEntries(
        ['ThreadTime', 'TaskDuration', 'ScriptDuration', 'RecalcStyleDuration', 'LayoutDuration'].map((n) => [n, +perFrameMs(n).toFixed(2)]),
      ),
      // React render time of the commits during the scroll (one per scroll step, and the deltas')
      commits: {
        count: scrollCommits.length,
        sum: scrollCommits.reduce((a, b) => a + b, 0),
        p50: quantile(scrollCommits, 0.5),
        p95: quantile(scrollCommits, 0.95),
      },
    }),
  );
  process.exit(0);
}

const result = {
  date: new Date().toISOString(),
  sockets: SOCKETS,
  churnPerSecond: CHURN,
  seconds: SECONDS,
  firstRenderMs: firstRender,
  commits: { count: commits.length, p50: quantile(commits, 0.5), p95: quantile(commits, 0.95), max: Math.max(...commits) },
  // the budget's figure: the production build (see productionScroll)
  scroll: productionResult,
  scrollProfilingBuild: scrollStats,
};
const sc = result.scroll;
const sp = result.scrollProfilingBuild;
const md = `# Renderer benchmark

Chromium (headless, software rendering), ${SOCKETS} synthetic sockets, ${CHURN * 100}% replaced every second,
React profiling build: commits over ${SECONDS} s, then 5 s of scrolling at 120 px a frame while deltas arrive;
then the same scroll in the production build (what a user runs), whose frames are the budget's figure.

| measure | value | budget |
|---|---:|---|
| first render of all rows (page load to ${SOCKETS} counted) | ${firstRender} ms | |
| React commit time p50 / p95 / max (${commits.length} commits) | ${result.commits.p50.toFixed(1)} / ${result.commits.p95.toFixed(1)} / ${result.commits.max.toFixed(1)} ms | p95 < 16 ms |
| frames while scrolling 5 s, production build | ${sc.frames} frames, ${sc.dropped} dropped (60 Hz), p95 frame ${sc.p95FrameMs.toFixed(1)} ms, worst ${sc.worstFrameMs.toFixed(1)} ms | ≤ 5% dropped |
| the same in the profiling build (reference) | ${sp.frames} frames, ${sp.dropped} dropped, p95 frame ${sp.p95FrameMs.toFixed(1)} ms, worst ${sp.worstFrameMs.toFixed(1)} ms | |
`;
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'renderer.md'), md);
writeFileSync(join(here, 'results', 'renderer.json'), JSON.stringify(result, null, 2) + '\n');
console.log(md);
