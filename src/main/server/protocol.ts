import { z } from 'zod';

/*
 * How a WebSocket shows its credential (src/renderer/src/api/ws.ts is the other side; it keeps its own copy
 * of these few shapes because the renderer may not import from main, and src/shared is not ours to change
 * here). The first message from the page is a Hello; the server answers a good one with a Welcome, then the
 * snapshot, and closes a bad one with AUTH_REFUSED and a reason.
 */

/** The close code of a refused credential: the page stops retrying when it sees it. */
export const AUTH_REFUSED = 4401;

export const Hello = z.union([
  z.strictObject({ type: z.literal('hello'), token: z.string().max(256) }),
  z.strictObject({ type: z.literal('hello'), code: z.string().max(256) }),
]);

/** Carries the token, so that a page that came with a one-time code can keep it for reconnecting. */
export interface Welcome {
  type: 'welcome';
  token: string;
}
