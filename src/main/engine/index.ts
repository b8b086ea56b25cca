/** The engine's public surface, for hosts (CLI, web server, Electron main) and the benchmark. */
export { Monitor, checkInterval, DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS, MAX_INTERVAL_MS } from './monitor';
export type { MonitorEvents, MonitorLike } from './monitor';
export { MonitorHost } from './monitorHost';
export { NetlinkSource } from './sources/netlink';
export { ProcfsSource } from './sources/procfs';
export { SystemInformationSource } from './sources/systeminformation';
export { createSource } from './sources';
export type { SocketSource, SourceResult } from './sources/source';
export { diffSockets, indexSockets } from './diff';
