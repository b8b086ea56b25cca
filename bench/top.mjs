// `portwatch top`'s own cost: the CPU it uses (its whole process, the monitor's worker thread included, from
// /proc/PID/stat utime+stime) over 30 s, idle (this machine's sockets as they are) and at about 10,000 loopback
// sockets (bench/holders.mjs). top runs in a real terminal, an 80x24 tmux window, polling every second.
// Writes bench/results/top.md. Not part of `npm run bench`; run it as
//   npm run build:cli && node bench/top.mjs
// BENCH_TOP_SECONDS=10 for a quick look.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { holdSockets, socketCount } from './holders.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'bin', 'portwatch');
const SECONDS = Number(process.env.BENCH_TOP_SECONDS ?? 30);
const SERVER = `pw-bench-top-${process.pid}`;
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

const tmux = (...args) => execFileSync('tmux', ['-L', SERVER, ...args], { encoding: 'utf8' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process, in clock ticks (every thread of it). */
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** Resident memory of a process, in MB. */
function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** top in an 80x24 terminal: its CPU over SECONDS, once it shows rows (its first polls done). */
async function measure(label) {
  tmux('new-session', '-d', '-x', '80', '-y', '24', '-s', 'top', `${process.execPath} ${BIN} top --interval 1000`);
  try {
    const pid = Number(tmux('display', '-p', '-t', 'top', '#{pane_pid}').trim());
    // ready: the header counts sockets, and a second poll has given rates (the `every 1s` line is there from the start)
    for (let i = 0; ; i++) {
      const screen = tmux('capture-pane', '-p', '-t', 'top');
      if (/ \d+ sockets/.test(screen) && !/waiting for the first poll/.test(screen)) break;
      if (i > 600) throw new Error(`top did not start:\n${screen}`);
      await sleep(100);
    }
    // a few polls to warm up (the first at 10,000 sockets is the expensive one: every owner looked up)
    await sleep(5000);
    const t0 = performance.now();
    const c0 = cpuTicks(pid);
    await sleep(SECONDS * 1000);
    const c1 = cpuTicks(pid);
    const wall = (performance.now() - t0) / 1000;
    const screen = tmux('capture-pane', '-p', '-t', 'top');
    const row = { label, sockets: socketCount(), cpuPercent: ((c1 - c0) / TICK / wall) * 100, rssMb: rssMb(pid), seconds: wall };
    console.log(`${label}: ${row.cpuPercent.toFixed(1)}% of one core, ${row.rssMb.toFixed(0)} MB resident, ${row.sockets} sockets`);
    return { row, screen };
  } finally {
    spawnSync('tmux', ['-L', SERVER, 'kill-server']);
  }
}

const idle = await measure('idle');
const holders = await holdSockets(10000);
let busy;
try {
  busy = await measure('10,000 sockets');
} finally {
  await Promise.all(holders.map((h) => h.stop()));
}

const md = `# portwatch top: CPU

\`node bench/top.mjs\` (after \`npm run build:cli\`), ${new Date().toISOString()}; ${cpus().length} x ${cpus()[0]?.model ?? '?'}, Linux ${release()}, Node ${process.version}.
\`portwatch top --interval 1000\` in an 80x24 tmux window; CPU is utime+stime of its whole process (the monitor's
worker thread included) over ${SECONDS} s after its first polls, as a share of one core.

| case | sockets | CPU (% of one core) | resident (MB) |
| --- | ---: | ---: | ---: |
${[idle.row, busy.row].map((r) => `| ${r.label} | ${r.sockets} | ${r.cpuPercent.toFixed(1)} | ${r.rssMb.toFixed(0)} |`).join('\n')}

At 10,000 sockets top showed:

\`\`\`
${busy.screen.trimEnd()}
\`\`\`
`;
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'top.md'), md);
console.log('wrote bench/results/top.md');
