// Collection benchmark (issue 2): Portwatch's procfs source, cold and steady-state with 5% churn, against
// systeminformation.networkConnections() and `ss -tunap`, at about 1,000, 5,000 and 10,000 loopback sockets,
// side by side in one run; at 10,000 also the whole-process CLI table (bench/cli.mjs: `portwatch list` against
// `ss`, `--help` against `node -e 0`). Writes bench/results/collect.md and collect.json.
//   npm run bench                      all sizes
//   BENCH_SIZES=1000 npm run bench     a quick look
//   npm run build:cli && BENCH_ONLY=cli node bench/collect.mjs
//                                      only the CLI table (about a minute), into the last run's results
import { execFile } from 'node:child_process';
import { LineChild } from './lineChild.mjs';
import { cliMarkdown, measureCli } from './cli.mjs';
import { holdSockets, socketCount } from './holders.mjs';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { NetlinkSource, diffSockets, indexSockets } = require('../out/node/engine.cjs');

const SIZES = (process.env.BENCH_SIZES ?? '1000,5000,10000,20000').split(',').map(Number);
const WIRE_AT = 10000;
const WIRE_CHURN = [0.01, 0.05, 0.2];
const RUNS = Number(process.env.BENCH_RUNS ?? 11);
const CHURN = 0.05;
const CLI_AT = 10000;
const CLI_RUNS = Number(process.env.BENCH_CLI_RUNS ?? 11);
const ONLY = process.env.BENCH_ONLY;
if (ONLY !== undefined && ONLY !== 'cli') throw new Error(`bench/collect.mjs: BENCH_ONLY must be cli, got '${ONLY}'`);
const resultsDir = join(here, 'results');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (x) => x.toFixed(1);

async function withSockets(total, body) {
  const holders = await holdSockets(total);
  try {
    return await body(holders);
  } finally {
    await Promise.all(holders.map((h) => h.stop()));
  }
}

function execTime(cmd, args) {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    execFile(cmd, args, { maxBuffer: 256 << 20 }, (err) => (err ? reject(err) : resolve(performance.now() - t)));
  });
}

/** A collector in a child process (bench/contestant.cjs): run('steady' | 'cold' | 'si') -> its own timing. */
class Contestant extends LineChild {
  constructor() {
    super(join(here, 'contestant.cjs'));
  }
  async run(job) {
    return JSON.parse(await this.request(job));
  }
}

const rows = [];
const wire = [];
let cli = null;
if (ONLY === 'cli') {
  await withSockets(CLI_AT, async () => {
    cli = measureCli({ rounds: CLI_RUNS, sockets: socketCount() });
  });
}
for (const size of ONLY === 'cli' ? [] : SIZES) {
  await withSockets(size, async (holders) => {
    const sockets = socketCount();
    // Every round times each contestant in turn, so that the machine's slow and fast moments (this is a shared
    // 2-core VM) fall on each alike; each runs in a process of its own (bench/contestant.cjs), as the monitor's
    // worker would. The ratios compare medians over the same rounds. Before each steady poll, 5% of the sockets
    // are replaced.
    const pw = new Contestant();
    const pf = new Contestant();
    const siRunner = new Contestant();
    await pw.run('steady netlink'); // its first, cold poll: not counted
    await pf.run('steady procfs');
    const cold = [];
    const steady = [];
    const pfCold = [];
    const pfSteady = [];
    const readlinks = [];
    const siTimes = [];
    const ssTimes = [];
    const perHolder = Math.max(1, Math.round((size * CHURN) / 2 / holders.length)); // pairs: 2 sockets each
    let listed = 0;
    let siRows = 0;
    for (let i = 0; i < RUNS; i++) {
      await Promise.all(holders.map((h) => h.churn(perHolder)));
      // both Linux sources poll after the same churn, in alternating order
      const first = i % 2 === 0;
      const s = first ? await pw.run('steady netlink') : null;
      pfSteady.push((await pf.run('steady procfs')).ms);
      const s2 = s ?? (await pw.run('steady netlink'));
      steady.push(s2.ms);
      readlinks.push(s2.readlinks);
      listed = s2.sockets;
      const r = await siRunner.run('si');
      siTimes.push(r.ms);
      siRows = r.sockets;
      ssTimes.push(await execTime('ss', ['-tunap']));
      cold.push((await pw.run('cold netlink')).ms);
      pfCold.push((await pf.run('cold procfs')).ms);
    }
    await Promise.all([pw.stop(), pf.stop(), siRunner.stop()]);
    const row = {
      target: size,
      sockets,
      portwatchListed: listed,
      systeminformationListed: siRows,
      replacedPerPoll: perHolder * 2 * holders.length,
      coldMs: median(cold),
      steadyMs: median(steady),
      procfsColdMs: median(pfCold),
      procfsSteadyMs: median(pfSteady),
      steadyReadlinks: median(readlinks),
      systeminformationMs: median(siTimes),
      ssMs: median(ssTimes),
    };
    row.coldRatio = row.coldMs / row.systeminformationMs;
    row.steadyRatio = row.steadyMs / row.systeminformationMs;
    row.procfsColdRatio = row.procfsColdMs / row.systeminformationMs;
    row.procfsSteadyRatio = row.procfsSteadyMs / row.systeminformationMs;
    rows.push(row);
    if (size === WIRE_AT) {
      // what one tick costs on the wire (the WebSocket message of a delta) as churn grows
      const src = new NetlinkSource();
      for (const churn of WIRE_CHURN) {
        const before = indexSockets((await src.list()).sockets);
        const k = Math.max(1, Math.round((size * churn) / 2 / holders.length));
        await Promise.all(holders.map((h) => h.churn(k)));
        const after = indexSockets((await src.list()).sockets);
        const delta = diffSockets(before, after, 2, Date.now());
        const bytes = Buffer.byteLength(JSON.stringify({ type: 'event', event: 'delta', data: delta }));
        const snapshotBytes = Buffer.byteLength(JSON.stringify({ type: 'event', event: 'snapshot', data: { sockets: [...after.values()] } }));
        wire.push({
          sockets: after.size,
          churn,
          added: delta.added.length,
          removed: delta.removed.length,
          changed: delta.changed.length,
          deltaBytes: bytes,
          snapshotBytes,
        });
      }
    }
    if (size === CLI_AT) cli = measureCli({ rounds: CLI_RUNS, sockets: socketCount() });
    console.error(`${size}: ${JSON.stringify(row)}`);
  });
}

// BENCH_ONLY=cli keeps the rest of the last run's results
const last = join(resultsDir, 'collect.json');
const result =
  ONLY === 'cli'
    ? { ...(existsSync(last) ? JSON.parse(readFileSync(last, 'utf8')) : { machine: '', date: new Date().toISOString(), rows: [], wire: [] }), cli }
    : { machine: machineLine(), date: new Date().toISOString(), rows, wire, cli };

function machineLine() {
  return `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Linux ${release()}, Node ${process.version}, median of ${RUNS} rounds, each timing Portwatch's netlink and procfs sources steady (in alternating order, after the same churn), systeminformation, ss and both sources cold in turn (each collector in a process of its own)`;
}

function render({ machine, rows, wire, cli }) {
  const header = `| sockets | netlink cold | netlink steady (5% churn) | procfs cold | procfs steady | systeminformation | ss -tunap | netlink cold / si | netlink steady / si | procfs cold / si | procfs steady / si |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`;
  const table = [
    header,
    ...rows.map(
      (r) =>
        `| ${r.sockets} | ${ms(r.coldMs)} ms | ${ms(r.steadyMs)} ms | ${ms(r.procfsColdMs)} ms | ${ms(r.procfsSteadyMs)} ms | ${ms(r.systeminformationMs)} ms | ${ms(r.ssMs)} ms | ${r.coldRatio.toFixed(2)}x | ${r.steadyRatio.toFixed(2)}x | ${r.procfsColdRatio.toFixed(2)}x | ${r.procfsSteadyRatio.toFixed(2)}x |`,
    ),
  ].join('\n');
  const wireTable = wire.length
    ? [
        '| churn per tick | added | removed | changed | delta on the wire | full snapshot |',
        '|---:|---:|---:|---:|---:|---:|',
        ...wire.map(
          (w) =>
            `| ${w.churn * 100}% | ${w.added} | ${w.removed} | ${w.changed} | ${(w.deltaBytes / 1024).toFixed(0)} KiB | ${(w.snapshotBytes / 1024).toFixed(0)} KiB |`,
        ),
      ].join('\n')
    : '';
  return `# Collection benchmark\n\n${machine}. Targets (netlink, the default): steady <= 0.15x, cold <= 0.35x systeminformation at 10,000.\n\n${table}\n${wireTable ? `\nDelta size per tick at ${WIRE_AT} sockets (the WebSocket message; a delta carries whole socket objects for added and changed ones):\n\n${wireTable}\n` : ''}${cli ? `\n${cliMarkdown(cli)}` : ''}`;
}

const md = render(result);
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'collect.md'), md);
writeFileSync(last, JSON.stringify(result, null, 2) + '\n');
console.log(md);
