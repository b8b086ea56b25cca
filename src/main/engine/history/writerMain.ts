import { parentPort, workerData } from 'node:worker_threads';
import { HistoryStore } from './store';
import { MAX_CONTACTS, type WriterInit, type WriterToHost, type HostToWriter } from './writer';

/**
 * The history writer thread (out/node/history-writer.cjs): opens the store (its lock is this thread's
 * descriptor), writes each batch the host posts in one transaction, prunes a small step after each, and answers
 * with what it took. The host's event loop never waits for SQLite.
 */
const port = parentPort;
if (port) {
  const init = workerData as WriterInit;
  const send = (m: WriterToHost): void => port.postMessage(m);
  const opened = HistoryStore.open(init.path, { mode: 'write', command: init.command, retention: init.retention, onCorrupt: init.onCorrupt });
  if (!opened.ok) {
    send({ type: 'opened', ok: false, code: opened.code, message: opened.message, holder: opened.holder ?? null });
  } else {
    const store = opened.store;
    send({
      type: 'opened',
      ok: true,
      path: store.path,
      notes: opened.notes,
      openListeners: [...store.openListenerKeys()],
      contacts: store.contacts(MAX_CONTACTS),
    });
    port.on('message', (m: HostToWriter) => {
      if (m.type === 'batch') {
        try {
          const ms = store.writePacked(m.batch);
          store.prune();
          send({ type: 'written', ms, events: m.batch.rows.length });
        } catch (e) {
          const code = (e as { code?: unknown }).code;
          send({ type: 'failed', message: (e as Error).message, code: typeof code === 'string' ? code : null });
        }
      } else if (m.type === 'close') {
        try {
          store.close();
        } finally {
          send({ type: 'closed' });
          port.close();
        }
      }
    });
  }
}
