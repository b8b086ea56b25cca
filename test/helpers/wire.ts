import type { WsMessage } from '../../src/shared/api';
import { decodeDelta, decodeSnapshot } from '../../src/shared/wire';

/**
 * One server message as the page reads it (src/renderer/src/api/ws.ts): snapshots and deltas, and getState's
 * snapshot, out of the wire layout (src/shared/wire.ts), so tests assert on model objects.
 */
export function readMessage<T = WsMessage | { type: 'welcome'; token: string }>(raw: unknown): T {
  const m = JSON.parse(String(raw)) as { type: string; event?: string; data?: unknown; result?: { ok: boolean; value?: unknown } };
  if (m.type === 'event' && m.event === 'snapshot') m.data = decodeSnapshot(m.data);
  else if (m.type === 'event' && m.event === 'delta') m.data = decodeDelta(m.data);
  else if (m.type === 'result' && m.result?.ok) {
    const v = m.result.value as { snapshot?: unknown } | null;
    if (v && typeof v === 'object' && v.snapshot && typeof v.snapshot === 'object' && 'v' in v.snapshot) v.snapshot = decodeSnapshot(v.snapshot);
  }
  return m as T;
}
