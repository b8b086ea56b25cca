import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/main/cli/index';
import { runPortwatch, type CliRun } from '../../helpers/cli';

/**
 * Every flag of every command, given a bad value, exits 2 with a message that names the flag and what it wants,
 * before doing anything (nothing on stdout). The flags are read from each command's own --help, so a flag
 * added without a case here fails this test. The matrix runs the CLI in this process (a process per case would
 * take seconds); a sample runs bin/portwatch to show the status reaches the shell.
 */

type Case = [args: string[], message: RegExp];

const FILTERS: Record<string, string[]> = {
  pid: ['0', '1.5', 'abc', '4194305', '', '1e3'],
  port: ['65536', 'http', '', '0x50', '8O'],
  filter: ['state:bogus', 'color:red', 'port:99999', '"unclosed'],
  source: ['netstat', '', 'PROCFS'],
};
const INTERVAL = ['249', 'fast', '', '3600001', '-1000'];

/** Bad values for each flag that takes one, by command. */
const VALUES: Record<string, Record<string, string[]>> = {
  list: { ...FILTERS, interval: INTERVAL },
  top: { interval: INTERVAL, filter: FILTERS.filter as string[], source: FILTERS.source as string[] },
  watch: { ...FILTERS, interval: INTERVAL },
  serve: {
    port: ['70000', 'eighty', ''],
    host: ['', 'a b', 'x/y'],
    interval: INTERVAL,
    source: ['netstat'],
    baseline: [''],
    'token-file': [''],
    'tls-cert': [''],
    'tls-key': [''],
    'allow-user': ['', 'no-such-user-xyz', 'root,no-such-user-xyz', '-x'],
    db: [''],
  },
  audit: { baseline: [''], 'write-baseline': [''], source: ['netstat'] },
  kill: { port: ['99999', 'x', ''] },
  record: { db: [''], interval: INTERVAL, 'keep-events': ['0', 'x', ''], 'keep-flows': ['0', '1.5'], 'max-size': ['0', '-1', 'big'], source: ['netstat'] },
  history: { db: [''], since: ['yesterday', '', '1x', '2026-13-01'], until: ['soon', '2026-02-30T10:00'], filter: ['pid:1', 'state:bogus', '"unclosed'] },
};

/** Flags that take no value. */
const SWITCHES: Record<string, string[]> = {
  list: ['listen', 'exposed', 'tcp', 'udp', 'all', 'ipv4', 'ipv6', 'json', 'csv', 'rates', 'help'],
  top: ['once', 'json', 'help'],
  watch: ['listen', 'exposed', 'tcp', 'udp', 'ipv4', 'ipv6', 'json', 'help'],
  serve: ['allow-remote', 'remote-control', 'read-only', 'open', 'no-record', 'help'],
  audit: ['json', 'help'],
  kill: ['tcp', 'udp', 'force', 'yes', 'help'],
  record: ['help'],
  history: ['listeners', 'json', 'csv', 'help'],
};

/** Wrong combinations, wrong positionals and wrong commands. */
const OTHERS: Case[] = [
  [['list', '--bogus'], /Unknown option '--bogus'/],
  [['list', '-x'], /Unknown option '-x': Unix sockets are not listed/],
  [['list', '-tulpnq'], /Unknown option '-q'/],
  [['list', '--listn'], /Unknown option '--listn' \(did you mean '--listen'\?\)/],
  [['list', '--pid', '-3'], /--pid/],
  [['list', '--json', '--csv'], /choose one of --json and --csv/],
  // trailing words are list's query (as ss takes its filter): a bad one is a usage error
  [['list', 'state:bogus'], /filter "state:bogus"/],
  [['list', '--interval', '1000'], /--interval goes with --rates/],
  [['top', '--json'], /--json goes with --once/],
  [['top', 'extra'], /Unexpected argument 'extra'/],
  [['watch', 'extra'], /Unexpected argument 'extra'/],
  [['serve', '--host', '0.0.0.0'], /reachable from other machines; add --allow-remote/],
  // parsers disagree on what these mean (127.0.0.1? something else?): refused, not guessed
  [['serve', '--host', '127.000.000.001'], /--host '127.000.000.001' is not an address \(write IPv4 as four decimal numbers/],
  [['serve', '--host', '0x7f.1', '--allow-remote'], /--host '0x7f.1' is not an address/],
  [['serve', '--bogus'], /Unknown option '--bogus'/],
  [['serve', '--allow-user', 'no-such-user-xyz'], /--allow-user: no user named 'no-such-user-xyz'/],
  [['serve', '--read-only', '--remote-control'], /choose one of --read-only and --remote-control/],
  // checked before either file is read: these need not exist
  [['serve', '--tls-cert', 'cert.pem'], /--tls-cert and --tls-key go together: give both \(https\), or neither \(http\)/],
  [['serve', '--tls-key', 'key.pem'], /--tls-cert and --tls-key go together/],
  [['serve', '--tls-key', 'key.pem', '--host', '0.0.0.0', '--allow-remote'], /--tls-cert and --tls-key go together/],
  [['audit', '--baseline', 'a.json', '--write-baseline', 'b.json'], /choose one of --baseline and --write-baseline/],
  [['kill'], /give a PID or --port N/],
  [['kill', '0'], /'0' is not a process id/],
  [['kill', 'abc'], /'abc' is not a process id/],
  [['kill', '4194305'], /'4194305' is not a process id/],
  [['kill', '-1'], /Unknown option '-1'/],
  [['kill', '1', '2'], /one PID at a time/],
  [['kill', '5', '--port', '6'], /give a PID or --port N \(one of them\)/],
  [['kill', '--tcp', '5'], /--tcp and --udp go with --port/],
  [['frobnicate'], /unknown command 'frobnicate'/],
  [['lsit'], /unknown command 'lsit' \(did you mean 'list'\?\)/],
  [[], /Usage/],
];

function casesFor(command: string): Case[] {
  const cases: Case[] = [];
  for (const [flag, values] of Object.entries(VALUES[command] ?? {})) {
    cases.push([[command, `--${flag}`], new RegExp(`--${flag}.*argument missing`)]);
    for (const value of values) cases.push([[command, `--${flag}=${value}`], new RegExp(`--${flag}|${flag === 'baseline' ? 'baseline' : '$^'}`)]);
  }
  for (const flag of SWITCHES[command] ?? []) cases.push([[command, `--${flag}=yes`], new RegExp(`Option '(-\\w, )?--${flag}' does not take an argument`)]);
  return cases;
}

/** runCli in this process; a case that got past validation stops at once instead of serving or watching. */
async function runHere(args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t), interrupted: Promise.resolve() });
  return { code, stdout, stderr };
}

function expectUsageError(args: string[], message: RegExp, r: CliRun): void {
  const shown = `portwatch ${args.join(' ')}`;
  expect(r.code, shown).toBe(2);
  expect(r.stderr + r.stdout, shown).toMatch(message);
  if (args.length) {
    expect(r.stdout, shown).toBe('');
    expect(r.stderr, shown).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(r.stderr, shown).toMatch(/--help' for usage/);
  }
}

describe('portwatch CLI: bad flags', () => {
  for (const command of Object.keys(SWITCHES)) {
    it(`${command}: every flag its --help names has cases here`, async () => {
      const help = await runPortwatch([command, '--help']);
      expect(help.code).toBe(0);
      const named = new Set([...help.stdout.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((m) => m[1]));
      named.add('help');
      // -4 and -6 are --ipv4 and --ipv6
      if (/(^|\s)-4\b/.test(help.stdout)) named.add('ipv4');
      if (/(^|\s)-6\b/.test(help.stdout)) named.add('ipv6');
      expect([...named].sort()).toEqual([...Object.keys(VALUES[command] ?? {}), ...(SWITCHES[command] ?? [])].sort());
    });
  }

  it('every bad value, missing value, valued switch, bad combination or unknown command exits 2 with a message and prints nothing else', async () => {
    const cases = [...Object.keys(SWITCHES).flatMap(casesFor), ...OTHERS];
    expect(cases.length).toBeGreaterThan(80);
    const before = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = '/nonexistent'; // no user baseline is read or written
    try {
      for (const [args, message] of cases) expectUsageError(args, message, await runHere(args));
    } finally {
      if (before === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = before;
    }
  });

  it('bin/portwatch exits with status 2 for them', async () => {
    const sample: Case[] = [
      [['list', '--port=http'], /--port must be a whole number from 0 to 65535, got 'http'/],
      [['watch', '--interval', '100'], /--interval must be a whole number from 250/],
      [['serve', '--baseline='], /--baseline needs a file name/],
      [['serve', '--tls-cert', 'cert.pem'], /--tls-cert and --tls-key go together/],
      [['audit', '--source=netstat'], /--source must be auto, netlink, procfs, systeminformation, got 'netstat'/],
      [['kill', '0'], /'0' is not a process id \(a whole number from 1 to 4194304\)/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    const runs = await Promise.all(sample.map(([args]) => runPortwatch(args)));
    sample.forEach(([args, message], i) => expectUsageError(args, message, runs[i] as CliRun));
  });
});
