import { render } from 'ink';
import { createElement } from 'react';
import { describeKill } from '../../../shared/api';
import { planKill } from '../../../shared/killPlan';
import { DEFAULT_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS } from '../../../shared/polling';
import { matchesQuery, parseQuery, type Query } from '../../../shared/query';
import { built, bundlePath } from '../../engine/bundles';
import { ProcessKiller } from '../../engine/kill';
import { MonitorHost } from '../../engine/monitorHost';
import { createSource } from '../../engine/sources';
import { UserDirectory } from '../../engine/users';
import { intFlag, parse, reportFailure, siHelper, sourceFlag, UsageError, type CliIo } from '../args';
import { inert, inertJson } from '../format';
import { TOP_HELP } from '../help';
import { buildRows, fitColumns, headerLine, itemLine, summaryLines } from './model';
import { sampleJson, sampleTraffic } from './sample';
import { TopApp, type TopData, type TopFeed, type TopKiller } from './view';

/*
 * `portwatch top`: its own bundle, ESM (out/node/cli-top.mjs: Ink is ESM, and yoga-layout's top-level await
 * cannot be in a CommonJS bundle), which main.ts imports only for `top`, so no other command loads Ink.
 */

/** --filter, checked as `list --filter` checks it. */
function queryFlag(text: string | undefined): Query | null {
  if (text === undefined || text.trim() === '') return null;
  const q = parseQuery(text);
  if (!q.ok) throw new UsageError(`portwatch top: --filter: ${q.message} (at character ${q.position + 1})`);
  return q.query;
}

/** The polls of a MonitorHost as the view's store. */
function feedOf(host: MonitorHost, intervalMs: number): TopFeed {
  const listeners = new Set<() => void>();
  let data: TopData = { sockets: [], closed: [], intervalMs, pollMs: intervalMs, polls: 0, source: null, status: 'waiting for the first poll...' };
  let lastAt: number | null = null;
  const update = (closed: TopData['closed'], takenAt: number): void => {
    const s = host.getSnapshot();
    const status = host.getStatus();
    const warning = status?.state === 'ok' ? (status.warnings[0] ?? null) : status?.state === 'error' ? `error: ${status.message}` : null;
    data = {
      sockets: s?.sockets ?? [],
      closed,
      intervalMs: lastAt === null ? intervalMs : takenAt - lastAt,
      pollMs: intervalMs,
      polls: data.polls + 1,
      source: s?.source ?? null,
      status: warning,
    };
    lastAt = takenAt;
    for (const l of listeners) l();
  };
  host.on('snapshot', (s) => {
    lastAt = null;
    update([], s.takenAt);
  });
  host.on('delta', (d) => update(d.closed, d.takenAt));
  return {
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    get: () => data,
  };
}

/** The CLI's kill: planned over the sockets in view, guarded (pid 1, Portwatch itself...), pinned while asked. */
function killerOf(): TopKiller {
  const killer = new ProcessKiller({ users: new UserDirectory() });
  return {
    prepare(pid, sockets) {
      const plan = planKill(pid, sockets);
      const guard = killer.guard(pid);
      const target = killer.pin(pid);
      const name = plan.process?.name ?? `pid ${pid}`;
      return {
        plan,
        guard,
        release: () => target.close(),
        kill: async () => {
          const o = await killer.terminate(target, false);
          return o.result === 'refused' ? `refused to kill pid ${pid}: ${o.reason}` : `${name} (pid ${pid}) ${describeKill(o)}`;
        },
      };
    },
  };
}

/** The alternate screen, as top and htop use it: what was on the terminal is back when top quits. */
const ENTER_ALT = '\x1b[?1049h\x1b[H';
const LEAVE_ALT = '\x1b[?1049l';

/** `portwatch top [flags]`. */
export async function top(args: string[], io: CliIo): Promise<number> {
  const v = parse('top', args, {
    interval: { type: 'string' },
    filter: { type: 'string' },
    source: { type: 'string' },
    once: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) {
    io.out(TOP_HELP);
    return 0;
  }
  if (v.json && !v.once) throw new UsageError('portwatch top: --json goes with --once');
  const intervalMs = intFlag('top', 'interval', v.interval, MIN_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS) ?? DEFAULT_POLL_INTERVAL_MS;
  const query = queryFlag(v.filter);
  const source = sourceFlag('top', v.source);
  if (v.once) {
    const sample = await sampleTraffic(createSource(source, { siHelper: siHelper() }), intervalMs);
    for (const w of sample.warnings) io.err(`portwatch: warning: ${inert(w)}\n`);
    if (query) sample.snapshot = { ...sample.snapshot, sockets: sample.snapshot.sockets.filter((s) => matchesQuery(query, s)) };
    if (v.json) {
      io.out(inertJson(JSON.stringify(sampleJson(sample), null, 2)) + '\n');
      return 0;
    }
    const rows = buildRows(sample.snapshot.sockets, sample.closed, sample.intervalMs, 'rate', query);
    const cols = fitColumns(80);
    const lines = [
      ...summaryLines(rows, { width: 80, sort: 'rate', filter: v.filter ?? '', frozen: null, intervalMs, source: sample.snapshot.source }),
      headerLine(cols, 'rate'),
      ...rows.processes.map((p) => itemLine(p, cols, false).trimEnd()),
    ];
    io.out(lines.join('\n') + '\n');
    return 0;
  }
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    io.err('portwatch top: needs a terminal; for scripts, portwatch top --once --json\n');
    return 2;
  }
  const host = new MonitorHost({ intervalMs, source, workerPath: io.workerPath ?? built(bundlePath('worker')) });
  const feed = feedOf(host, intervalMs);
  host.start();
  process.stdout.write(ENTER_ALT);
  let app: ReturnType<typeof render> | null = null;
  try {
    app = render(createElement(TopApp, { feed, killer: killerOf(), initialFilter: v.filter ?? '', initialQuery: query }), {
      exitOnCtrlC: true,
      patchConsole: false,
      maxFps: 10,
    });
    // q, Ctrl-C in raw mode (Ink), or SIGINT/SIGTERM from outside
    await Promise.race([app.waitUntilExit(), io.interrupted]);
  } finally {
    app?.unmount();
    app?.cleanup();
    process.stdout.write(LEAVE_ALT);
    await host.stop();
  }
  return 0;
}

/** What the top bundle exports to main.ts: `top` run as runCli runs a command, failures reported alike. */
export async function runTop(args: string[], io: CliIo): Promise<number> {
  try {
    return await top(args, io);
  } catch (e) {
    return reportFailure(e, 'top', io);
  }
}
