import { parseArgs } from 'node:util';
import { describeKill, type KillResult } from '../../shared/api';
import { planKill, planLines } from '../../shared/killPlan';
import { describeNoOwner, formatEndpoint, type MonitorStatus, type NoOwner, type ProcessInfo } from '../../shared/model';
import { processSummary } from '../../shared/processSummary';
import { built, bundlePath, esmBundlePath } from '../engine/bundles';
import { notInCi } from './top/ciEnv';
import { pathToFileURL } from 'node:url';
import { MonitorHost } from '../engine/monitorHost';
import { DEFAULT_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS } from '../../shared/polling';
import { createSource } from '../engine/sources';
import { DeltaFilter, socketMatcher } from './filter';
import { inert, inertJson } from './format';
import { isLoopback, loadTlsFiles, loadTokenFile, parseHost, startServer } from '../server';
import { resolveUsers } from '../server/allowUsers';
import { builtWebUi, openInBrowser } from './webui';
import { auditReport, formatAudit } from './audit';
import { loadBaseline, userBaselinePath, writeBaselineFile } from '../engine/baselineFile';
import { rulesFor } from '../../shared/baseline';
import { ProcessKiller } from '../engine/kill';
import { ProcfsSource } from '../engine/sources/procfs';
import { inNestedPidNamespace } from '../engine/owners';
import { ProcessTable } from '../engine/processes';
import { UserDirectory } from '../engine/users';
import { createInterface } from 'node:readline/promises';
import { FILTER_OPTIONS, filterFrom, flagError, intFlag, parse, PID_MAX, reportFailure, siHelper, sourceFlag, UsageError, type CliIo } from './args';
import { AUDIT_HELP, KILL_HELP, MAIN_HELP, SERVE_HELP, unknownCommand, WATCH_HELP } from './help';
import { list } from './list';
import { ChangeLines, statusLine } from './watchLines';
import { history } from './history';
import { historyPath, record } from './record';
import { defaultSettingsPath } from '../engine/settingsFile';
import { describeRecording } from '../../shared/recording';

/*
 * Every command, for the commands' bundle (out/node/cli-impl.cjs). `list` lives in list.ts, which is also a
 * bundle of its own (cli-list.cjs) that main.ts loads for `list`: runCli(['list', ...]) runs the same code.
 */

export { UsageError, type CliIo } from './args';

async function watch(args: string[], io: CliIo): Promise<number> {
  const v = parse('watch', args, { ...FILTER_OPTIONS, interval: { type: 'string' }, json: { type: 'boolean' } });
  if (v.help) {
    io.out(WATCH_HELP);
    return 0;
  }
  const filter = new DeltaFilter(socketMatcher(filterFrom('watch', v)));
  const intervalMs = intFlag('watch', 'interval', v.interval, MIN_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS) ?? DEFAULT_POLL_INTERVAL_MS;
  const host = new MonitorHost({ intervalMs, source: sourceFlag('watch', v.source), workerPath: io.workerPath ?? built(bundlePath('worker')) });
  if (v.json) {
    const line = (o: object): void => io.out(inertJson(JSON.stringify(o)) + '\n');
    host.on('snapshot', (s) => line({ type: 'snapshot', ...filter.snapshot(s) }));
    host.on('delta', (d) => line({ type: 'delta', ...filter.delta(d) }));
    host.on('status', (status) => line({ type: 'status', ...status }));
  } else {
    const lines = new ChangeLines(io.colour === true);
    let previous: MonitorStatus | null = null;
    host.on('snapshot', (s) => io.err(lines.snapshot(filter.snapshot(s))));
    host.on('delta', (d) => {
      const text = lines.delta(filter.delta(d));
      if (text !== '') io.out(text);
    });
    host.on('status', (status) => {
      const text = statusLine(status, previous);
      previous = status;
      if (text !== null) io.err(text);
    });
  }
  host.start();
  await io.interrupted;
  await host.stop();
  return 0;
}

async function serve(args: string[], io: CliIo): Promise<number> {
  const v = parse('serve', args, {
    port: { type: 'string' },
    host: { type: 'string' },
    'allow-remote': { type: 'boolean' },
    open: { type: 'boolean' },
    interval: { type: 'string' },
    source: { type: 'string' },
    baseline: { type: 'string' },
    'token-file': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'read-only': { type: 'boolean' },
    'remote-control': { type: 'boolean' },
    'allow-user': { type: 'string', multiple: true },
    db: { type: 'string' },
    'no-record': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) {
    io.out(SERVE_HELP);
    return 0;
  }
  const port = intFlag('serve', 'port', v.port, 0, 65535) ?? 7777;
  const host = v.host ?? '127.0.0.1';
  if (host === '' || /[\s/]/.test(host)) throw new UsageError(`portwatch serve: --host must be an address or name, got '${host}'`);
  // 127.000.000.001, 127.1, 0x7f.1: parsers disagree on what they mean, so they are refused, not guessed
  const parsed = parseHost(host);
  if (!parsed.ok) throw new UsageError(`portwatch serve: --host ${parsed.message}`);
  if (!isLoopback(host) && !v['allow-remote']) {
    throw new UsageError(`portwatch serve: ${host} is reachable from other machines; add --allow-remote if that is what you want`);
  }
  const intervalMs = intFlag('serve', 'interval', v.interval, MIN_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS) ?? DEFAULT_POLL_INTERVAL_MS;
  if (v.baseline === '') throw new UsageError('portwatch serve: --baseline needs a file name');
  if (v['token-file'] === '') throw new UsageError('portwatch serve: --token-file needs a file name');
  if (v['tls-cert'] === '') throw new UsageError('portwatch serve: --tls-cert needs a file name');
  if (v['tls-key'] === '') throw new UsageError('portwatch serve: --tls-key needs a file name');
  if ((v['tls-cert'] === undefined) !== (v['tls-key'] === undefined)) {
    throw new UsageError('portwatch serve: --tls-cert and --tls-key go together: give both (https), or neither (http)');
  }
  const source = sourceFlag('serve', v.source);
  if (v['read-only'] && v['remote-control']) throw new UsageError('portwatch serve: choose one of --read-only and --remote-control');
  const allowed = resolveUsers(v['allow-user'] ?? []);
  if (!allowed.ok) throw new UsageError(`portwatch serve: --allow-user: ${inert(allowed.message)}`);
  const dbPath = historyPath('serve', v.db);
  let lastHistory = '';
  // what was built, before the token file, which may be created: a missing bundle leaves nothing behind
  const staticDir = builtWebUi();
  const workerPath = io.workerPath ?? built(bundlePath('worker'));
  // read before the token file, which may be created: a refused key leaves nothing behind
  let tls: { cert: Buffer; key: Buffer } | undefined;
  if (v['tls-cert'] !== undefined && v['tls-key'] !== undefined) {
    const files = loadTlsFiles(v['tls-cert'], v['tls-key']);
    if (!files.ok) {
      io.err(`portwatch serve: ${inert(files.message)}\n`);
      return 1;
    }
    tls = { cert: files.cert, key: files.key };
  }
  let token: string | undefined;
  if (v['token-file'] !== undefined) {
    const kept = loadTokenFile(v['token-file']);
    if (!kept.ok) {
      io.err(`portwatch serve: ${inert(kept.message)}\n`);
      return 1;
    }
    token = kept.token;
    if (kept.created) io.err(`portwatch: wrote a new token to ${inert(v['token-file'])}\n`);
  }
  const monitor = new MonitorHost({ intervalMs, source, workerPath });
  monitor.start();
  let server;
  try {
    server = await startServer({
      monitor,
      staticDir,
      host,
      port,
      token,
      allowRemote: v['allow-remote'] === true,
      baselinePath: v.baseline ?? userBaseline(io),
      readOnly: v['read-only'] === true,
      remoteControl: v['remote-control'] === true,
      allowUsers: allowed.uids,
      tls,
      settingsPath: defaultSettingsPath(),
      onSettingsError: (message) => io.err(`portwatch serve: ${inert(message)}\n`),
      historyPath: dbPath,
      record: v['no-record'] !== true,
      onHistoryError: (message) => io.err(`portwatch serve: history: ${inert(message)}\n`),
      // what the status bar's indicator says, on stderr too, when it changes: recording, or why not
      onHistoryStatus: (s) => {
        const key = s.state === 'paused' ? `${s.reason} ${s.message}` : s.state;
        if (s.state === 'starting' || key === lastHistory) return;
        lastHistory = key;
        io.err(`portwatch: ${inert(s.state === 'recording' ? `recording the history to ${s.path}` : describeRecording(s).title)}\n`);
      },
      onRefused: (who) =>
        io.err(
          `portwatch: refused a connection from ${inert(`${who.address} port ${who.port}`)}: ${who.uid === null ? 'its owner was not found' : `it is user ${inert(who.user ?? '(no name)')} (uid ${who.uid})`}, not this server's user (--allow-user NAME lets a user in)\n`,
        ),
    });
  } catch (e) {
    await monitor.stop();
    throw e;
  }
  if (!isLoopback(host)) {
    io.err(`portwatch: WARNING: serving on ${host}: anyone who can reach this machine and has the URL sees every socket and process on it.\n`);
    if (!tls)
      io.err(
        'portwatch: WARNING: this is plain HTTP: the token and the whole view cross the network unencrypted; --tls-cert FILE --tls-key FILE serve https instead.\n',
      );
  }
  io.out(`Portwatch is serving ${server.url}\n`);
  // a browser's command line is readable by every local user: it gets a one-time code, not the token
  if (v.open) openInBrowser(server.openUrl());
  await io.interrupted;
  await server.close();
  await monitor.stop();
  return 0;
}

/** The user's baseline, shared with the desktop app; old ones are merged into it once, each with a line on stderr. */
function userBaseline(io: CliIo): string {
  return userBaselinePath((line) => io.err(`portwatch: ${inert(line)}\n`));
}

async function audit(args: string[], io: CliIo): Promise<number> {
  const v = parse('audit', args, {
    json: { type: 'boolean' },
    baseline: { type: 'string' },
    'write-baseline': { type: 'string' },
    source: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) {
    io.out(AUDIT_HELP);
    return 0;
  }
  if (v.baseline !== undefined && v['write-baseline'] !== undefined) throw new UsageError('portwatch audit: choose one of --baseline and --write-baseline');
  for (const k of ['baseline', 'write-baseline'] as const) if (v[k] === '') throw new UsageError(`portwatch audit: --${k} needs a file name`);
  // a baseline describes one host's ports: this network namespace's (ip netns exec audits another)
  const source = createSource(sourceFlag('audit', v.source), { siHelper: siHelper(), oneShot: true, listenersOnly: true, ownNamespace: true });
  const { sockets, warnings } = await source.list();
  for (const w of warnings) io.err(`portwatch: warning: ${inert(w)}\n`);
  if (v['write-baseline'] !== undefined) {
    const rules = rulesFor(sockets);
    writeBaselineFile(v['write-baseline'], { version: 1, rules });
    io.err(`portwatch: wrote ${rules.length} expected listener rule${rules.length === 1 ? '' : 's'} to ${v['write-baseline']}\n`);
    return 0;
  }
  const path = v.baseline ?? userBaseline(io);
  const loaded = loadBaseline(path);
  if (!loaded.ok) {
    io.err(`portwatch audit: ${inert(loaded.message)}\n`);
    return 2;
  }
  if (v.baseline !== undefined && !loaded.exists) {
    io.err(`portwatch audit: baseline ${path} does not exist (make one with --write-baseline)\n`);
    return 2;
  }
  const report = auditReport(sockets, loaded.baseline.rules);
  if (v.json) io.out(inertJson(JSON.stringify({ listeners: report }, null, 2)) + '\n');
  else io.out(formatAudit(report, loaded.exists ? path : null));
  const unexpected = report.filter((l) => !l.expected);
  if (v.baseline !== undefined && unexpected.length > 0) {
    io.err(`portwatch audit: ${unexpected.length} unexpected listener${unexpected.length === 1 ? '' : 's'}:\n`);
    for (const l of unexpected)
      io.err(
        `  ${inert(`${l.protocol} ${formatEndpoint(l.localAddress, l.localPort)} (${l.exposure}) ${l.process ?? 'unknown process'}${l.pid === null ? '' : ` pid ${l.pid}`}`)}\n`,
      );
    return 1;
  }
  return 0;
}

function describeOutcome(o: KillResult, name: string): string {
  if (o.result === 'refused') return `refused to kill ${name} (pid ${o.pid}): ${o.reason}`;
  const hint = o.result === 'still-running' && o.signal === 'SIGTERM' ? '; --force sends SIGKILL' : '';
  return `${name} (pid ${o.pid}) ${describeKill(o)}${hint}`;
}

async function confirm(io: CliIo, question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/**
 * Why `kill --port` has no process to end, said for where Portwatch runs: as root an owner it cannot see is
 * never a matter of rights, so "run elevated" is said only to a user who is not.
 */
function noOwnerToKill(reason: NoOwner, port: number): string {
  switch (reason) {
    case 'pid-namespace':
      return `its owner is in another pid namespace: Portwatch runs in a container or under unshare --pid, and can neither see nor signal processes outside it. Run portwatch kill --port ${port} where that process is visible (on the host)`;
    case 'hidden':
      return `${describeNoOwner('hidden')} (another user's process): sudo portwatch kill --port ${port}`;
    case 'closed':
      return 'the socket is closed: no process holds it any more';
    case 'not-found':
      return `${describeNoOwner('not-found')}: no process holds it now (it may have just closed)`;
  }
}

/** `python3 sneaky.py (pid 123, user alice)`: the process as people think of it, or the bare pid. */
function labelOf(pid: number, p: ProcessInfo | null): string {
  return p === null ? `pid ${pid}` : `${processSummary(p)} (pid ${pid}${p.user ? `, user ${p.user}` : p.uid !== null ? `, uid ${p.uid}` : ''})`;
}

async function kill(args: string[], io: CliIo): Promise<number> {
  const options = {
    port: { type: 'string' },
    tcp: { type: 'boolean' },
    udp: { type: 'boolean' },
    force: { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (e) {
    throw flagError('kill', e, options);
  }
  const v = parsed.values;
  if (v.help) {
    io.out(KILL_HELP);
    return 0;
  }
  const pos = parsed.positionals;
  if ((v.port === undefined) === (pos.length === 0)) throw new UsageError('portwatch kill: give a PID or --port N (one of them)');
  if (pos.length > 1) throw new UsageError(`portwatch kill: one PID at a time, got ${pos.length}`);
  if ((v.tcp || v.udp) && v.port === undefined) throw new UsageError('portwatch kill: --tcp and --udp go with --port');
  const port = intFlag('kill', 'port', v.port, 0, 65535);
  const pidText = pos[0];
  if (pidText !== undefined && (!/^\d+$/.test(pidText) || Number(pidText) < 1 || Number(pidText) > PID_MAX)) {
    throw new UsageError(`portwatch kill: '${inert(pidText)}' is not a process id (a whole number from 1 to ${PID_MAX})`);
  }
  const users = new UserDirectory();
  const killer = new ProcessKiller({ users });
  const processes = new ProcessTable(users);
  // an owner outside this pid namespace is then named as such, not as "not found" or "hidden"
  const source = new ProcfsSource({ users, helperThreads: false, nestedPidNamespace: inNestedPidNamespace() });
  const sockets = source.listSync().sockets;
  const pids: number[] = [];
  if (port !== undefined) {
    const listeners = sockets.filter(
      (s) => s.listening && s.localPort === port && (!(v.tcp || v.udp) || (v.tcp && s.protocol === 'tcp') || (v.udp && s.protocol === 'udp')),
    );
    if (listeners.length === 0) {
      io.err(`portwatch kill: nothing listens on port ${port}\n`);
      return 1;
    }
    const unowned = listeners.find((s) => s.pid === null);
    if (unowned) {
      io.err(`portwatch kill: no process to kill for port ${port}: ${noOwnerToKill(unowned.noOwner ?? 'not-found', port)}\n`);
      return 1;
    }
    for (const s of listeners) if (s.pid !== null && !pids.includes(s.pid)) pids.push(s.pid);
  } else {
    pids.push(Number(pidText));
  }
  let allGone = true;
  for (const pid of pids) {
    // pinned now (a pidfd where the kernel has them): the process confirmed below is the only one a signal can hit
    const target = killer.pin(pid);
    try {
      const plan = planKill(pid, sockets);
      const info = plan.process ?? processes.get(pid);
      const label = inert(labelOf(pid, info));
      const guard = killer.guard(pid);
      if (guard) {
        io.err(`portwatch kill: refused to kill ${label}: ${inert(guard)}\n`);
        allGone = false;
        continue;
      }
      if (info === null || target.startTime === null) {
        // before any question: there is nothing to confirm
        io.err(`portwatch kill: no process with pid ${pid}\n`);
        allGone = false;
        continue;
      }
      if (!v.yes) {
        io.err(`${label}${v.force ? ', with SIGKILL' : ''}:\n`);
        for (const line of planLines({ ...plan, process: info })) io.err(`  ${inert(line)}\n`);
        if (!(await confirm(io, `Kill ${label}?`))) {
          io.err(`portwatch kill: not confirmed: ${label} left running (pass --yes, or answer y in a terminal)\n`);
          allGone = false;
          continue;
        }
      }
      let outcome = await killer.terminate(target, false);
      if (outcome.result === 'still-running' && v.force) outcome = await killer.terminate(target, true);
      const gone = outcome.result === 'exited' || outcome.result === 'already-gone';
      (gone ? io.out : io.err)(`${inert(describeOutcome(outcome, processSummary(info)))}\n`);
      if (!gone) allGone = false;
    } finally {
      target.close();
    }
  }
  return allGone ? 0 : 1;
}

/** Runs the CLI; returns the exit code. Usage errors print a hint and return 2. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(MAIN_HELP);
        return command === undefined ? 2 : 0;
      case 'list':
        return await list(rest, io);
      case 'watch':
        return await watch(rest, io);
      case 'serve':
        return await serve(rest, io);
      case 'audit':
        return await audit(rest, io);
      case 'kill':
        return await kill(rest, io);
      case 'record':
        return await record(rest, io);
      case 'history':
        return history(rest, io);
      case 'top': {
        // an ES module of its own (Ink), as main.ts loads it: never part of this bundle
        notInCi();
        const m = (await import(pathToFileURL(built(esmBundlePath('cli-top'))).href)) as typeof import('./top/index');
        // its own copy of UsageError: it reports its failures itself, as main.ts runs it
        return await m.runTop(rest, io);
      }
      default:
        throw new UsageError(unknownCommand(command));
    }
  } catch (e) {
    return reportFailure(e, command, io);
  }
}
