/**
 * The history's public surface (engine/history): the store, what a monitor's polls become, the recorder that
 * joins them, where the database lives and its lock. Its own bundle (out/node/history.cjs, for the benchmarks)
 * and not part of engine/index.ts, so that hosts which do not record never load libsql's native module.
 */
export { HistoryStore, DEFAULT_RETENTION, DAY_MS, type Retention, type FlowRow, type ListenerSpan, type OpenResult, type TimeRange } from './store';
export type { FlowKey, FlowEventRow, TimelineRow, OpenFailure } from './store';
export { HistoryTracker, HOUR_MS, hourOf, listenerKey, type HistoryBatch, type HistoryEvent, type FlowIncrement } from './tracker';
export { HistoryRecorder, type WriteStats } from './recorder';
export { HistoryWriter, MAX_CONTACTS, type HistorySink, type WriterStats } from './writer';
export { defaultHistoryPath, checkHistoryPath, HISTORY_FILE } from './files';
export { HistoryLock, describeHolder, type LockHolder } from './lock';
