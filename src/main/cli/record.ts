import { DEFAULT_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS } from '../../shared/polling';
import { built, bundlePath } from '../engine/bundles';
import { defaultHistoryPath } from '../engine/history/files';
import { HistoryRecorder } from '../engine/history/recorder';
import { DAY_MS, DEFAULT_RETENTION, type Retention } from '../engine/history/store';
import { HistoryWriter } from '../engine/history/writer';
import { MonitorHost } from '../engine/monitorHost';
import { intFlag, parse, sourceFlag, UsageError, type CliIo } from './args';
import { inert } from './format';
import { RECORD_HELP } from './help';

/** `--db PATH`, or the user's own history; an empty one is a usage error. */
export function historyPath(command: string, db: string | undefined): string {
  if (db === '') throw new UsageError(`portwatch ${command}: --db needs a file name`);
  return db ?? defaultHistoryPath();
}

/**
 * `portwatch record`: the Monitor in its worker, every poll written to the history, in the foreground until
 * SIGINT or SIGTERM; then what is queued is written, the database closed and the lock released: exit 0.
 */
export async function record(args: string[], io: CliIo): Promise<number> {
  const v = parse('record', args, {
    db: { type: 'string' },
    interval: { type: 'string' },
    source: { type: 'string' },
    'keep-events': { type: 'string' },
    'keep-flows': { type: 'string' },
    'max-size': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) {
    io.out(RECORD_HELP);
    return 0;
  }
  const path = historyPath('record', v.db);
  const intervalMs = intFlag('record', 'interval', v.interval, MIN_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS) ?? DEFAULT_POLL_INTERVAL_MS;
  const source = sourceFlag('record', v.source);
  const retention: Retention = {
    ...DEFAULT_RETENTION,
    eventsMs: (intFlag('record', 'keep-events', v['keep-events'], 1, 3650) ?? 7) * DAY_MS,
    flowsMs: (intFlag('record', 'keep-flows', v['keep-flows'], 1, 36500) ?? 365) * DAY_MS,
    maxBytes: (intFlag('record', 'max-size', v['max-size'], 1, 1 << 30) ?? 1024) * 1024 * 1024,
  };
  const workerPath = io.workerPath ?? built(bundlePath('worker'));
  let lastError = '';
  const report = (message: string): void => {
    // one line per kind of failure, not one per poll
    if (message !== lastError) io.err(`portwatch record: ${inert(message)}\n`);
    lastError = message;
  };
  const opened = await HistoryWriter.open(
    { path, command: ['portwatch', 'record', ...args].join(' '), retention },
    report,
    built(bundlePath('history-writer')),
  );
  if (!opened.ok) {
    io.err(`portwatch record: ${inert(opened.message)}\n`);
    return 1;
  }
  const writer = opened.writer;
  for (const note of opened.notes) io.err(`portwatch: ${inert(note)}\n`);
  const host = new MonitorHost({ intervalMs, source, workerPath });
  const recorder = new HistoryRecorder(host, writer, report);
  host.on('status', (s) => {
    if (s.state === 'error') io.err(`portwatch record: ${inert(s.message)}\n`);
  });
  host.start();
  io.err(`portwatch: recording to ${inert(opened.path)} (pid ${process.pid}); Ctrl-C or SIGTERM stops\n`);
  await io.interrupted;
  await host.stop();
  recorder.dispose();
  await writer.close();
  const s = writer.stats;
  io.err(
    `portwatch: stopped recording: ${s.written} poll${s.written === 1 ? '' : 's'} written${s.written > 0 ? `, ${(s.totalMs / s.written).toFixed(1)} ms each on average in the writer thread, at most ${s.maxMs.toFixed(1)} ms` : ''}${s.failures > 0 ? `, ${s.failures} failed` : ''}\n`,
  );
  return 0;
}
