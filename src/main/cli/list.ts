import { createSource } from '../engine/sources';
import { DEFAULT_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS } from '../../shared/polling';
import { FILTER_OPTIONS, filterFrom, intFlag, parse, reportFailure, siHelper, sourceFlag, UsageError, type CliIo } from './args';
import { socketMatcher, type SocketFilter } from './filter';
import { sampleTraffic } from './top/sample';
import { formatCsv, formatJson, formatTable, inert, sortForListing } from './format';
import { LIST_HELP } from './help';

/*
 * `portwatch list`, the command people run most and wait for: scripts/build-cli.mjs builds it as a bundle of
 * its own (out/node/cli-list.cjs, which main.ts loads for `list`), with the engine's sources and nothing of
 * the server, the monitor, the baseline or the port registry (test/main/cli/entry.test.ts keeps it small).
 */

/** `portwatch list [flags]`; `args` are the flags after `list`. */
export async function list(args: string[], io: CliIo): Promise<number> {
  const v = parse('list', args, {
    ...FILTER_OPTIONS,
    json: { type: 'boolean' },
    csv: { type: 'boolean' },
    rates: { type: 'boolean' },
    interval: { type: 'string' },
  });
  if (v.help) {
    io.out(LIST_HELP);
    return 0;
  }
  if (v.json && v.csv) throw new UsageError('portwatch list: choose one of --json and --csv');
  if (v.interval !== undefined && !v.rates) throw new UsageError('portwatch list: --interval goes with --rates');
  const intervalMs = intFlag('list', 'interval', v.interval, MIN_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS) ?? DEFAULT_POLL_INTERVAL_MS;
  const filter = filterFrom('list', v);
  if (v.rates) return listRates(v, filter, intervalMs, io);
  const source = createSource(sourceFlag('list', v.source), {
    siHelper: siHelper(),
    oneShot: true,
    listenersOnly: v.listen === true,
    // the table prints no byte counters or RTT; --json and --csv do
    counters: v.json === true || v.csv === true,
  });
  const result = await source.list();
  const takenAt = Date.now();
  for (const w of result.warnings) io.err(`portwatch: warning: ${inert(w)}\n`);
  const sockets = sortForListing(result.sockets.filter(socketMatcher(filter)));
  if (v.json) io.out(formatJson({ takenAt, source: source.name }, sockets));
  else if (v.csv) io.out(formatCsv(sockets));
  else io.out(formatTable(sockets));
  return 0;
}

/**
 * `list --rates`: the same two-poll sample as `top --once` (sockets that lived through both polls have
 * rateIn/rateOut), listed as `list` lists them.
 */
async function listRates(v: { json?: boolean; csv?: boolean; source?: string }, filter: SocketFilter, intervalMs: number, io: CliIo): Promise<number> {
  const source = createSource(sourceFlag('list', v.source), { siHelper: siHelper(), listenersOnly: filter.listening === true });
  const sample = await sampleTraffic(source, intervalMs);
  for (const w of sample.warnings) io.err(`portwatch: warning: ${inert(w)}\n`);
  const sockets = sortForListing(sample.snapshot.sockets.filter(socketMatcher(filter)));
  if (v.json) io.out(formatJson(sample.snapshot, sockets));
  else if (v.csv) io.out(formatCsv(sockets));
  else io.out(formatTable(sockets, { rates: true }));
  return 0;
}

/** What the list bundle exports to main.ts: `list` run as runCli runs it, failures reported alike. */
export async function runList(args: string[], io: CliIo): Promise<number> {
  try {
    return await list(args, io);
  } catch (e) {
    return reportFailure(e, 'list', io);
  }
}
