// The one report of a `npm run bench` run: every budget of DESIGN.md (and issue 2's cold-poll target, and the
// whole-process CLI budgets) with what was measured, met or not and by how much, then each benchmark's own
// table. Reads the results that collect.mjs, web.mjs, renderer.mjs, soak.mjs, query.mjs, traffic.mjs, history.mjs
// and recorder.mjs just wrote; writes bench/results/bench.md and bench.json, and puts the Markdown into README.md between the bench markers.
//   node bench/report.mjs     (the last step of npm run bench)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const results = join(here, 'results');
const readme = join(here, '..', 'README.md');
const START = '<!-- bench:start (written by bench/report.mjs) -->';
const END = '<!-- bench:end -->';

function load(name) {
  const path = join(results, `${name}.json`);
  if (!existsSync(path)) throw new Error(`bench/report.mjs: ${path} is missing: run npm run bench`);
  return { json: JSON.parse(readFileSync(path, 'utf8')), md: readFileSync(join(results, `${name}.md`), 'utf8') };
}

const collect = load('collect');
const web = load('web');
const renderer = load('renderer');
const soak = load('soak');
const traffic = load('traffic');
const query = load('query');
const history = load('history');
const recorder = load('recorder');

const at10k = collect.json.rows.find((r) => r.target === 10000);
if (!at10k) throw new Error('bench/report.mjs: collect.json has no 10,000-socket row');
const cli = collect.json.cli;
if (!cli) throw new Error('bench/report.mjs: collect.json has no CLI table: run npm run bench, or npm run build:cli && BENCH_ONLY=cli node bench/collect.mjs');
const n1 = (x) => x.toFixed(1);
const pct = (x) => `${(x * 100).toFixed(1)}%`;

/**
 * One budget: `value` must stay at or under `limit` (or above, with `atLeast`). `margin` says by how much it is
 * met (positive) or missed (negative), as a share of the limit.
 */
function budget(name, target, value, limit, measured, unit = '') {
  const met = value <= limit;
  const margin = (limit - value) / limit;
  return { name, target, value, limit, unit, measured, met, margin };
}

const memory = [
  ['host RSS', soak.json.hostRss],
  ['host JS heap', soak.json.hostHeap],
  ['renderer JS heap', soak.json.rendererHeap],
];
const budgets = [
  budget(
    'Poll of 10,000 sockets with owners, steady state (5% churn), netlink source',
    '<= 0.15x systeminformation',
    at10k.steadyRatio,
    0.15,
    `${n1(at10k.steadyMs)} ms vs ${n1(at10k.systeminformationMs)} ms: ${at10k.steadyRatio.toFixed(2)}x`,
  ),
  budget(
    'Poll of 10,000 sockets with owners, cold (first poll), netlink source',
    '<= 0.35x systeminformation',
    at10k.coldRatio,
    0.35,
    `${n1(at10k.coldMs)} ms vs ${n1(at10k.systeminformationMs)} ms: ${at10k.coldRatio.toFixed(2)}x`,
  ),
  budget(
    'Event-loop delay of the serving process while polling at 1 Hz, p99',
    '< 20 ms',
    web.json.eventLoopDelayMs.p99,
    20,
    `${n1(web.json.eventLoopDelayMs.p99)} ms (max ${n1(web.json.eventLoopDelayMs.max)} ms)`,
    'ms',
  ),
  budget(
    'New listener on screen (p95 of runs)',
    '< poll interval + 200 ms = 1200 ms',
    web.json.newListenerToRowMs.p95,
    1200,
    `${web.json.newListenerToRowMs.p95} ms (median ${web.json.newListenerToRowMs.median} ms)`,
    'ms',
  ),
  budget(
    'Renderer at 10,000 sockets, 5% churn/s: React commit p95',
    '< 16 ms',
    renderer.json.commits.p95,
    16,
    `${n1(renderer.json.commits.p95)} ms over ${renderer.json.commits.count} commits`,
    'ms',
  ),
  budget(
    'Scrolling 10,000 rows while deltas arrive: dropped frames (production build)',
    '<= 5% of frames',
    renderer.json.scroll.dropped / renderer.json.scroll.frames,
    0.05,
    `${renderer.json.scroll.dropped} of ${renderer.json.scroll.frames} (${pct(renderer.json.scroll.dropped / renderer.json.scroll.frames)}), p95 frame ${n1(renderer.json.scroll.p95FrameMs)} ms` +
      (renderer.json.scrollProfilingBuild
        ? `; profiling build ${renderer.json.scrollProfilingBuild.dropped} of ${renderer.json.scrollProfilingBuild.frames} (${pct(renderer.json.scrollProfilingBuild.dropped / renderer.json.scrollProfilingBuild.frames)})`
        : ''),
  ),
  budget(
    `A keystroke in the search box at ${query.json.sockets.toLocaleString('en-US')} sockets: parse + filter, worst query's p95`,
    '< 16 ms',
    query.json.worstKeystrokeP95,
    query.json.budgetMs,
    `${n1(query.json.worstKeystrokeP95)} ms over ${query.json.queries.length} queries (${query.json.runs} runs each)`,
    'ms',
  ),
  // the whole-process CLI rows that have a budget (bench/cli.mjs)
  ...cli.rows
    .filter((r) => r.limit !== null)
    .map((r) =>
      budget(
        `\`${r.command}\` at ${cli.sockets.toLocaleString('en-US')} sockets, whole process`,
        `<= ${r.limit}x \`${r.against}\``,
        r.ratio,
        r.limit,
        `${n1(r.ms)} ms vs ${n1(r.againstMs)} ms: ${r.ratio.toFixed(2)}x`,
      ),
    ),
  budget(
    'Traffic, one connection at 1 MB/s: its rate (median of 1 s polls)',
    'within 5%',
    Math.abs(traffic.json.fast.errorPct) / 100,
    0.05,
    `${Math.round(traffic.json.fast.median)} B/s: ${traffic.json.fast.errorPct.toFixed(1)}%`,
  ),
  budget(
    'Traffic, 100 connections at 1 kB/s: the worst connection',
    'within 5%',
    traffic.json.slow.worstAbsErrorPct / 100,
    0.05,
    `median ${traffic.json.slow.medianAbsErrorPct.toFixed(1)}%, worst ${traffic.json.slow.worstAbsErrorPct.toFixed(1)}%`,
  ),
  budget(
    'Traffic per process (the 100-connection reader)',
    'within 5%',
    Math.abs(traffic.json.processes.slow.errorPct) / 100,
    0.05,
    `${Math.round(traffic.json.processes.slow.median)} B/s for 100000: ${traffic.json.processes.slow.errorPct.toFixed(1)}%`,
  ),
  budget(
    'Traffic total with a burst of 200 connections that each lived under 100 ms',
    'within 5%',
    Math.abs(traffic.json.total.errorPct) / 100,
    0.05,
    `${traffic.json.total.measured} B for ${traffic.json.total.expected}: ${traffic.json.total.errorPct.toFixed(1)}% (burst alone ${traffic.json.burst.clientSide.errorPct.toFixed(1)}%)`,
  ),
  budget(
    `\`portwatch record\` at ${Math.round(recorder.json.eventsPerSecond)} connection events a second for ${Math.round(recorder.json.seconds / 60)} min: its CPU, all threads`,
    '< 10% of one core',
    recorder.json.cpuPct,
    10,
    `${n1(recorder.json.cpuPct)}% (busiest 10 s ${n1(recorder.json.cpuMaxWindowPct)}%); ${n1(recorder.json.bytesPerMillion / 1e6)} MB per million events`,
    '%',
  ),
  budget(
    `A day's flows from the history (${history.json.dayRows.toLocaleString('en-US')} hourly rows into ${history.json.dayFlows.toLocaleString('en-US')} flows)`,
    '< 200 ms',
    history.json.dayQueryMs,
    200,
    `${n1(history.json.dayQueryMs)} ms (median of 5)`,
    'ms',
  ),
  ...memory.map(([what, m]) =>
    budget(
      `Memory over ${soak.json.seconds / 60} min at 1 Hz with 5% churn: ${what}, the last minute vs the first (medians)`,
      'within 10%',
      Math.abs(m.growth),
      0.1,
      `${n1(m.start)} -> ${n1(m.end)} MB (peak ${n1(m.peak)} MB): ${m.growth >= 0 ? '+' : ''}${pct(m.growth)}${m.first === undefined ? '' : `; first and last sample ${n1(m.first)} -> ${n1(m.last)} MB`}`,
    ),
  ),
];

const verdict = (b) => (b.met ? `met, ${pct(b.margin)} under the limit` : `**missed**, ${pct(-b.margin)} over the limit`);
const table = [
  '| budget | target | measured | verdict |',
  '|---|---|---|---|',
  ...budgets.map((b) => `| ${b.name} | ${b.target} | ${b.measured} | ${verdict(b)} |`),
].join('\n');
const notes = [
  ...cli.rows
    .filter((r) => r.limit === null)
    .map((r) => `\`${r.command}\`, whole process: ${n1(r.ms)} ms vs ${n1(r.againstMs)} ms for ${r.against}: ${r.ratio.toFixed(2)}x (no budget).`),
  `First render of ${renderer.json.sockets} rows in Chromium (page load to all counted): ${renderer.json.firstRenderMs} ms (no budget).`,
  `A delta on the wire at ${collect.json.wire[0]?.sockets ?? 10000} sockets: ${collect.json.wire.map((w) => `${Math.round(w.deltaBytes / 1024)} KiB at ${w.churn * 100}% churn`).join(', ')}; a full snapshot is ${Math.round((collect.json.wire[0]?.snapshotBytes ?? 0) / 1024)} KiB (no budget).`,
];
const strip = (md) => md.replace(/^# .*\n+/, '');
const md = `# Benchmark report

${collect.json.machine}. Run ${collect.json.date.slice(0, 16).replace('T', ' ')} UTC with \`npm run bench\`.
${budgets.every((b) => b.met) ? 'Every budget is met.' : `${budgets.filter((b) => !b.met).length} of ${budgets.length} budgets missed.`}

${table}

${notes.map((n) => `- ${n}`).join('\n')}

## Collection and the CLI (bench/collect.mjs)

${strip(collect.md).trim()}

## Web mode (bench/web.mjs)

${strip(web.md).trim()}

## Renderer (bench/renderer.mjs)

${strip(renderer.md).trim()}

## Soak (bench/soak.mjs)

${strip(soak.md).trim()}

## Filter language (bench/query.mjs)

${strip(query.md).trim()}

## Traffic (bench/traffic.mjs)

${strip(traffic.md).trim()}

## History (bench/history.mjs)

${strip(history.md).trim()}

## The recorder (bench/recorder.mjs)

${strip(recorder.md).trim()}
`;

writeFileSync(join(results, 'bench.md'), md);
writeFileSync(
  join(results, 'bench.json'),
  JSON.stringify(
    {
      machine: collect.json.machine,
      date: new Date().toISOString(),
      budgets,
      collect: collect.json,
      web: web.json,
      renderer: renderer.json,
      soak: soak.json,
      query: query.json,
      traffic: traffic.json,
      history: history.json,
      recorder: recorder.json,
    },
    null,
    2,
  ) + '\n',
);

const text = readFileSync(readme, 'utf8');
const a = text.indexOf(START);
const b = text.indexOf(END);
if (a < 0 || b < a) throw new Error(`bench/report.mjs: README.md has no ${START} ... ${END} section`);
// one level down inside the README's Benchmarks section
const inReadme = md.replace(/^# Benchmark report\n/, '').replace(/^## /gm, '### ');
writeFileSync(readme, `${text.slice(0, a + START.length)}\n${inReadme.trim()}\n${text.slice(b)}`);
console.log(md);
