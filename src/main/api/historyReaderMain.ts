import { parentPort, workerData } from 'node:worker_threads';
import { HistoryReader } from './historyReader';
import type { ReaderRequest, ReaderResponse } from './historyThread';

/**
 * The history reader thread (out/node/history-reader.cjs): a HistoryReader over one database, answering the
 * host's questions one at a time, so that summing a day of a busy machine's flows (hundreds of ms) never holds
 * the event loop that serves the live view. Every answer is a value; the reader itself never throws.
 */
const port = parentPort;
if (port) {
  let names: Readonly<Record<string, string>> = {};
  const reader = new HistoryReader(workerData as string, () => names);
  port.on('message', (m: ReaderRequest) => {
    let result: ReaderResponse['result'];
    try {
      if (m.method === 'flows') {
        names = m.hostNames;
        result = reader.flows(m.range, m.query);
      } else if (m.method === 'listeners') result = reader.listeners(m.range, m.port);
      else if (m.method === 'events') result = reader.events(m.key, m.range);
      else if (m.method === 'timeline') result = reader.timeline(m.range, m.buckets);
      else if (m.method === 'contacts') result = reader.contacts();
      else {
        reader.dispose();
        port.close();
        return;
      }
    } catch (e) {
      result = { ok: false, code: 'internal', message: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage({ id: m.id, result } satisfies ReaderResponse);
  });
}
