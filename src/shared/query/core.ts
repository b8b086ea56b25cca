import type { Socket } from '../model';
import type { ParseEnv } from './fields';
import { compile, uses, type MatchContext, type Predicate } from './matcher';
import { parseTree } from './parser';
import type { QueryNode } from './terms';

/** A parsed query: its tree, and the predicate compiled from it once. */
export interface Query {
  readonly root: QueryNode;
  readonly test: Predicate;
  /** It uses `unexpected`, which only a host that knows the baseline can answer. */
  readonly needsBaseline: boolean;
}

/** A query, or why not: `position` is the character index (0-based) where reading stopped. */
export type QueryParse = { ok: true; query: Query } | { ok: false; message: string; position: number };

/** parseQuery with the service names given (see query/services.ts). */
export function parseQueryWith(input: string, env: ParseEnv): QueryParse {
  const tree = parseTree(input, env);
  if (!tree.ok) return { ok: false, message: tree.message, position: tree.position };
  return { ok: true, query: { root: tree.root, test: compile(tree.root), needsBaseline: uses(tree.root, 'unexpected') } };
}

/** True when the socket matches the query. */
export function matchesQuery(q: Query, s: Socket, ctx: MatchContext = {}): boolean {
  return q.test(s, ctx);
}
