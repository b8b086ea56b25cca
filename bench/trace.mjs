// Where a renderer's main thread spent a trace (bench/renderer.mjs --scroll-only --trace=FILE): self time by
// trace event (style recalc, layout, paint, script, GC), and by JavaScript function from the sampling profile.
//   node bench/trace.mjs FILE.json [top]
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const top = Number(process.argv[3] ?? 25);
if (!file) {
  console.error('usage: node bench/trace.mjs FILE.json [top]');
  process.exit(2);
}
const { traceEvents: events } = JSON.parse(readFileSync(file, 'utf8'));

// the page's main thread: the renderer thread that ran the most animation frames
const threadNames = new Map();
for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') threadNames.set(`${e.pid}:${e.tid}`, e.args.name);
const frameCounts = new Map();
for (const e of events) {
  if (e.name !== 'FireAnimationFrame') continue;
  const k = `${e.pid}:${e.tid}`;
  frameCounts.set(k, (frameCounts.get(k) ?? 0) + 1);
}
const main = [...frameCounts].sort((a, b) => b[1] - a[1])[0]?.[0];
if (!main) {
  console.error('no animation frames in the trace');
  process.exit(1);
}
const mine = events.filter((e) => `${e.pid}:${e.tid}` === main && (e.ph === 'X' || e.ph === 'B' || e.ph === 'E') && e.ts !== undefined);

// complete events nest; self time = duration minus the children's (B/E pairs turned into spans first)
const spans = [];
const open = [];
for (const e of mine.sort((a, b) => a.ts - b.ts)) {
  if (e.ph === 'X') spans.push({ name: e.name, ts: e.ts, end: e.ts + (e.dur ?? 0) });
  else if (e.ph === 'B') open.push(e);
  else {
    const b = open.pop();
    if (b) spans.push({ name: b.name, ts: b.ts, end: e.ts });
  }
}
spans.sort((a, b) => a.ts - b.ts || b.end - a.end);
const self = new Map();
const stack = [];
let busy = 0;
for (const s of spans) {
  while (stack.length && stack.at(-1).end <= s.ts) stack.pop();
  const parent = stack.at(-1);
  if (parent) self.set(parent.name, (self.get(parent.name) ?? 0) - (Math.min(s.end, parent.end) - s.ts));
  else busy += s.end - s.ts;
  self.set(s.name, (self.get(s.name) ?? 0) + (s.end - s.ts));
  stack.push(s);
}
const t0 = Math.min(...spans.map((s) => s.ts));
const t1 = Math.max(...spans.map((s) => s.end));
console.log(
  `main thread ${threadNames.get(main) ?? main}: ${((t1 - t0) / 1000).toFixed(0)} ms traced, ${(busy / 1000).toFixed(0)} ms busy, ${frameCounts.get(main)} animation frames`,
);
console.log('\nself time by trace event:');
for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(us / 1000).toFixed(1).padStart(9)} ms  ${name}`);

// the sampling profile: ProfileChunk events (from the sampler's thread) carry nodes and samples with time
// deltas; the main thread's profile is the one whose Profile event is on it
const profileIds = new Set(events.filter((e) => e.name === 'Profile' && `${e.pid}:${e.tid}` === main).map((e) => `${e.pid}:${e.id}`));
const nodes = new Map();
const samples = [];
for (const e of events) {
  if (e.name !== 'ProfileChunk' || !profileIds.has(`${e.pid}:${e.id}`)) continue;
  const c = e.args?.data?.cpuProfile;
  for (const n of c?.nodes ?? []) nodes.set(n.id, n);
  const deltas = e.args?.data?.timeDeltas ?? [];
  (c?.samples ?? []).forEach((id, i) => samples.push({ id, dt: deltas[i] ?? 0 }));
}
if (samples.length) {
  const byFn = new Map();
  for (let i = 0; i < samples.length; i++) {
    const n = nodes.get(samples[i].id);
    const dt = samples[i + 1]?.dt ?? 0;
    if (!n) continue;
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url ? `${f.url.split('/').pop()}:${f.lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + dt);
  }
  console.log('\nself time by JavaScript function (sampled):');
  for (const [name, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(us / 1000).toFixed(1).padStart(9)} ms  ${name}`);
}
