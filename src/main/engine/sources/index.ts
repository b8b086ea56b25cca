import type { SourceName } from '../../../shared/model';
import { ProcfsSource } from './procfs';
import type { SocketSource } from './source';
import { SI_TIMEOUT_MS, SystemInformationSource } from './systeminformation';

export type SourceChoice = SourceName | 'auto';

/**
 * procfs on Linux when /proc is usable, systeminformation everywhere else. `siHelper`: a script that answers
 * SI_CHILD_FLAG (the monitor worker's bundle); with it, systeminformation runs in a child process that is
 * killed, with every tool it started, when it hangs.
 */
export function createSource(choice: SourceChoice = 'auto', siHelper?: string): SocketSource {
  const si = (): SocketSource => new SystemInformationSource(siHelper ? { child: { helperPath: siHelper, timeoutMs: SI_TIMEOUT_MS } } : {});
  if (choice === 'procfs') return new ProcfsSource();
  if (choice === 'systeminformation') return si();
  if (process.platform === 'linux' && ProcfsSource.available()) return new ProcfsSource();
  return si();
}
