import { readFileSync, writeFileSync } from 'node:fs';
import type { ApiResult } from '../../shared/api';

/** The switch, per network namespace: /proc/sys is the calling thread's namespace's. */
export const CONNTRACK_ACCT_PATH = '/proc/sys/net/netfilter/nf_conntrack_acct';

const SYSCTL = 'net.netfilter.nf_conntrack_acct';

/**
 * Turns on conntrack's byte accounting in this thread's network namespace, and reads it back. Called only by the
 * API method of the same name, which a user's confirmation calls: the engine never writes it by itself. Root
 * only (the kernel would refuse anyone else, but a clear word first). Not there: conntrack is not loaded, and
 * there is nothing to count.
 */
export function enableConntrackAccounting(path = CONNTRACK_ACCT_PATH, isRoot = process.getuid?.() === 0): ApiResult<boolean> {
  if (!isRoot) return { ok: false, code: 'forbidden', message: `only root can turn on conntrack accounting (sysctl ${SYSCTL}=1)` };
  try {
    // r+: the entry must be there (conntrack loaded); nothing is ever created
    writeFileSync(path, '1\n', { flag: 'r+' });
    const now = readFileSync(path, 'latin1').trim() === '1';
    return now ? { ok: true, value: true } : { ok: false, code: 'internal', message: `${SYSCTL} was written but still reads 0` };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, code: 'bad-request', message: `conntrack is not loaded here: no ${SYSCTL} to turn on` };
    return { ok: false, code: 'internal', message: `cannot turn on ${SYSCTL}: ${(e as Error).message}` };
  }
}
