import { parseArgs } from 'node:util';
import type { Socket } from '../../shared/model';
import { createSource } from '../engine/sources';
import { DEFAULT_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS } from '../../shared/polling';
import { FILTER_OPTIONS, filterFrom, flagError, intFlag, reportFailure, siHelper, sourceFlag, UsageError, type CliIo } from './args';
import { socketMatcher, type SocketFilter } from './filter';
import { sampleTraffic } from './top/sample';
import { formatCsv, formatJson, formatTable, inert, sortForListing } from './format';
import { LIST_HELP } from './help';

/*
 * `portwatch list`, the command people run most and wait for: scripts/build-cli.mjs builds it as a bundle of
 * its own (out/node/cli-list.cjs, which main.ts loads for `list`), with the engine's sources and nothing of
 * the server, the monitor, the baseline or the port registry (test/main/cli/entry.test.ts keeps it small).
 */

/** list's flags: the filters, the output formats, and ss's short flags as ss users type them (`-tulpn`). */
export const LIST_OPTIONS = {
  ...FILTER_OPTIONS,
  listen: { type: 'boolean', short: 'l' },
  tcp: { type: 'boolean', short: 't' },
  udp: { type: 'boolean', short: 'u' },
  all: { type: 'boolean', short: 'a' },
  numeric: { type: 'boolean', short: 'n' },
  processes: { type: 'boolean', short: 'p' },
  json: { type: 'boolean' },
  csv: { type: 'boolean' },
  rates: { type: 'boolean' },
  interval: { type: 'string' },
} as const;

/** ss and netstat flags Portwatch does not have, and what to do instead. */
const SS_HINTS: Readonly<Record<string, string>> = {
  '-x': 'Unix sockets are not listed: Portwatch shows TCP and UDP (use ss -x for those)',
  '-w': 'raw sockets are listed with the rest: --filter proto:raw',
  '-e': 'no extended details in the table: --json has every field (uid, inode, namespace, counters)',
  '-i': 'no TCP internals in the table: --json has the counters and RTT',
  '-m': 'socket memory is not shown',
  '-o': 'timers are not shown',
  '-s': 'no summary: portwatch list | wc -l, or --json',
  '-r': 'addresses are never resolved in the CLI (the UI can show host names)',
  '-K': 'to close a connection use the UI; to end its process, portwatch kill',
};

/**
 * Which states the listing shows. ss's rule for its short flags: -l listeners only, -a listeners and the rest,
 * neither: the rest only (`ss -t` shows connections, not listeners). Portwatch's own long flags keep their
 * meaning: --listen is -l, and --tcp / --udp alone leave every state in (as a bare `portwatch list` does).
 */
export type StateChoice = 'all' | 'listening' | 'not-listening';

export function stateChoice(tokens: ReadonlyArray<{ kind: string; rawName?: string }>): StateChoice {
  const raw = new Set(tokens.filter((t) => t.kind === 'option').map((t) => t.rawName));
  if (raw.has('-a') || raw.has('--all')) return 'all';
  if (raw.has('-l') || raw.has('--listen')) return 'listening';
  if (raw.has('-t') || raw.has('-u')) return 'not-listening';
  return 'all';
}

/** `portwatch list [flags] [filter words]`; `args` are what follows `list`. */
export async function list(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: LIST_OPTIONS, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    throw flagError('list', e, LIST_OPTIONS, SS_HINTS);
  }
  const v = parsed.values;
  if (v.help) {
    io.out(LIST_HELP);
    return 0;
  }
  if (v.json && v.csv) throw new UsageError('portwatch list: choose one of --json and --csv');
  const states = stateChoice(parsed.tokens);
  if (v.interval !== undefined && !v.rates) throw new UsageError('portwatch list: --interval goes with --rates');
  const intervalMs = intFlag('list', 'interval', v.interval, MIN_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS) ?? DEFAULT_POLL_INTERVAL_MS;
  // -a is "every state": the long --listen beside it is then not a narrowing either
  const filter = { ...filterFrom('list', v, parsed.positionals), listening: states === 'listening' };
  if (v.rates) return listRates(v, filter, states, intervalMs, io);
  const source = createSource(sourceFlag('list', v.source), {
    siHelper: siHelper(),
    oneShot: true,
    listenersOnly: states === 'listening',
    // the table prints no byte counters or RTT; --json and --csv do
    counters: v.json === true || v.csv === true,
  });
  const result = await source.list();
  const takenAt = Date.now();
  for (const w of result.warnings) io.err(`portwatch: warning: ${inert(w)}\n`);
  const match = socketMatcher(filter);
  const wanted = states === 'not-listening' ? (s: Socket): boolean => !s.listening && match(s) : match;
  const sockets = sortForListing(result.sockets.filter(wanted));
  if (v.json) io.out(formatJson({ takenAt, source: source.name }, sockets));
  else if (v.csv) io.out(formatCsv(sockets));
  else if (sockets.length > 0) io.out(formatTable(sockets));
  if (sockets.length > 0) return 0;
  // as lsof: nothing found is status 1, so that `portwatch list --port 3000 && ...` means something
  const n = result.sockets.length;
  io.err(`portwatch list: nothing matches (${n} socket${n === 1 ? '' : 's'} looked at)\n`);
  return 1;
}

/**
 * `list --rates`: the same two-poll sample as `top --once` (sockets that lived through both polls have
 * rateIn/rateOut), listed as `list` lists them.
 */
async function listRates(
  v: { json?: boolean; csv?: boolean; source?: string },
  filter: SocketFilter,
  states: ReturnType<typeof stateChoice>,
  intervalMs: number,
  io: CliIo,
): Promise<number> {
  const source = createSource(sourceFlag('list', v.source), { siHelper: siHelper(), listenersOnly: filter.listening === true });
  const sample = await sampleTraffic(source, intervalMs);
  for (const w of sample.warnings) io.err(`portwatch: warning: ${inert(w)}\n`);
  const match = socketMatcher(filter);
  const wanted = states === 'not-listening' ? (s: Socket): boolean => !s.listening && match(s) : match;
  const sockets = sortForListing(sample.snapshot.sockets.filter(wanted));
  if (v.json) io.out(formatJson(sample.snapshot, sockets));
  else if (v.csv) io.out(formatCsv(sockets));
  else if (sockets.length > 0) io.out(formatTable(sockets, { rates: true }));
  if (sockets.length > 0) return 0;
  const n = sample.snapshot.sockets.length;
  io.err(`portwatch list: nothing matches (${n} socket${n === 1 ? '' : 's'} looked at)\n`);
  return 1;
}

/** What the list bundle exports to main.ts: `list` run as runCli runs it, failures reported alike. */
export async function runList(args: string[], io: CliIo): Promise<number> {
  try {
    return await list(args, io);
  } catch (e) {
    return reportFailure(e, 'list', io);
  }
}
