import type { ApiResult } from '../../shared/api';
import { rightOf } from '../../shared/contract';

/*
 * Viewing and control are separate rights. Each method's right is in the contract's table
 * (src/shared/contract.ts), so a new method cannot be added without deciding.
 */

export const READ_ONLY: ApiResult<never> = { ok: false, code: 'forbidden', message: 'this server is read-only' };

/** True when a read-only connection may not call `method` (unknown methods are left to dispatch, which refuses them). */
export function needsControl(method: string): boolean {
  return rightOf(method) === 'change';
}
