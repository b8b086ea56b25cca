// The whole-process CLI benchmark, run by bench/collect.mjs at its 10,000-socket world: each command as a user
// runs it (a fresh process, bin/portwatch run as a program, as npm's link to it is, with this Node first on
// PATH; stdout to /dev/null as a pipe to a file would be), timed from spawn to exit, against the tool a user
// would otherwise run. Every round runs every command once, in turn, so the slow and fast moments of a shared
// machine fall on each alike; the ratios compare medians.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(root, 'bin', 'portwatch');
const node = process.execPath;
const PATH = `${dirname(node)}:${process.env.PATH ?? ''}`;

/** Each Portwatch command against its counterpart; `limit` is the budget on the ratio (null: reported only). */
export const CLI_PAIRS = [
  { command: 'portwatch list', argv: [BIN, 'list'], against: 'ss -tunap', againstArgv: ['ss', '-tunap'], limit: 1.25 },
  { command: 'portwatch list --listen', argv: [BIN, 'list', '--listen'], against: 'ss -tulpn', againstArgv: ['ss', '-tulpn'], limit: 1.0 },
  {
    command: 'portwatch list --json',
    argv: [BIN, 'list', '--json'],
    against: 'systeminformation networkConnections() in a fresh node',
    againstArgv: [node, '-e', "require('systeminformation').networkConnections().then(()=>{})"],
    limit: null,
  },
  { command: 'portwatch --help', argv: [BIN, '--help'], against: 'node -e 0', againstArgv: [node, '-e', '0'], limit: 1.5 },
  // what the environment's NODE_EXTRA_CA_CERTS costs every Node start (bin/portwatch's shell line avoids it)
  ...(process.env.NODE_EXTRA_CA_CERTS
    ? [
        {
          command: 'env -u NODE_EXTRA_CA_CERTS node -e 0',
          argv: ['env', '-u', 'NODE_EXTRA_CA_CERTS', node, '-e', '0'],
          against: 'node -e 0',
          againstArgv: [node, '-e', '0'],
          limit: null,
        },
      ]
    : []),
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Runs argv to its exit with stdout into `stdout` (a descriptor or 'pipe'); returns ms and the output's lines. */
function timeOnce(argv, stdout) {
  const t = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { cwd: root, env: { ...process.env, PATH }, stdio: ['ignore', stdout, 'pipe'], maxBuffer: 256 << 20 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.error || r.status !== 0) throw new Error(`bench/cli.mjs: ${argv.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr}`);
  return { ms, lines: r.stdout ? r.stdout.toString().split('\n').length - 1 : null };
}

/**
 * Times every pair for `rounds` rounds after one untimed round (which also counts each command's output lines,
 * to show both sides saw the same world). `sockets` is how many the kernel listed when it began.
 */
export function measureCli({ rounds, sockets }) {
  const commands = CLI_PAIRS.flatMap((p) => [p.argv, p.againstArgv]);
  const lines = commands.map((argv) => timeOnce(argv, 'pipe').lines);
  const times = commands.map(() => []);
  const devnull = openSync('/dev/null', 'w');
  try {
    for (let r = 0; r < rounds; r++) commands.forEach((argv, i) => times[i].push(timeOnce(argv, devnull).ms));
  } finally {
    closeSync(devnull);
  }
  const rows = CLI_PAIRS.map((p, k) => {
    const ms = median(times[2 * k]);
    const againstMs = median(times[2 * k + 1]);
    return {
      command: p.command,
      against: p.against,
      ms,
      againstMs,
      ratio: ms / againstMs,
      limit: p.limit,
      lines: lines[2 * k],
      againstLines: lines[2 * k + 1],
    };
  });
  return { date: new Date().toISOString(), sockets, rounds, node: process.version, rows };
}

/** The Markdown of a measureCli result: one paragraph, one table. */
export function cliMarkdown(cli) {
  const ms = (x) => `${x.toFixed(1)} ms`;
  return `Whole process as a user runs it (\`bin/portwatch ...\` run as a program, as npm's link to it is; stdout to /dev/null), spawn to exit, at ${cli.sockets} sockets: median of ${cli.rounds} rounds, each running every command below once in turn (run ${cli.date.slice(0, 16).replace('T', ' ')} UTC).

| command | time | against | its time | ratio | budget |
|---|---:|---|---:|---:|---|
${cli.rows.map((r) => `| \`${r.command}\` | ${ms(r.ms)} | \`${r.against}\` | ${ms(r.againstMs)} | ${r.ratio.toFixed(2)}x | ${r.limit === null ? 'reported' : `<= ${r.limit}x`} |`).join('\n')}
${
  cli.rows.some((r) => r.command.startsWith('env -u NODE_EXTRA_CA_CERTS'))
    ? `
This environment sets NODE_EXTRA_CA_CERTS. Node 20 reads that file, and its own root certificates, before it runs any
JavaScript (nodejs/node#40524): the last row is what that costs a start. bin/portwatch, run as a program, starts node
without it (its shell line; the CLI makes no TLS connection); \`node -e 0\` and the systeminformation process pay it.
`
    : ''
}`;
}
