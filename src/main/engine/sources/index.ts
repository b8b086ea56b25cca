import type { SourceName } from '../../../shared/model';
import { ProcfsSource } from './procfs';
import type { SocketSource } from './source';
import { SystemInformationSource } from './systeminformation';

export type SourceChoice = SourceName | 'auto';

/** procfs on Linux when /proc is usable, systeminformation everywhere else. */
export function createSource(choice: SourceChoice = 'auto'): SocketSource {
  if (choice === 'procfs') return new ProcfsSource();
  if (choice === 'systeminformation') return new SystemInformationSource();
  if (process.platform === 'linux' && ProcfsSource.available()) return new ProcfsSource();
  return new SystemInformationSource();
}
