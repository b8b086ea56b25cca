import { canonicalAddress, parseCidr } from './addresses';
import { portRanges, type ParseEnv } from './fields';
import type { CompareOp } from './lexer';
import { quote, type End, type QueryNode, type QueryTerm } from './terms';

/**
 * ss's own filter predicates (`man ss`, EXPRESSION and HOST SYNTAX), as users type them:
 *   sport = :22   dport != :443   dport > :1024   sport ge :1024   (ports or service names, with or without ':')
 *   src 192.168.0.0/16   dst 10.0.0.1   dst [::1]:443   dst 10.0.0.1:https   dst github.com   src *:53
 *   dev lo   dev != eth0
 * `src` and `sport` are the local end, `dst` and `dport` the remote one, as ss has them.
 */

export const SS_KEYWORDS = ['sport', 'dport', 'src', 'dst', 'dev'] as const;
export type SsKeyword = (typeof SS_KEYWORDS)[number];

/** ss's word operators. */
export const WORD_OPS: Record<string, CompareOp> = {
  eq: '=',
  ne: '!=',
  neq: '!=',
  gt: '>',
  lt: '<',
  ge: '>=',
  geq: '>=',
  le: '<=',
  leq: '<=',
};

const term = (t: QueryTerm, at: number): QueryNode => ({ kind: 'term', term: t, at });
const not = (n: QueryNode): QueryNode => ({ kind: 'not', item: n });
const and = (items: QueryNode[]): QueryNode => (items.length === 1 ? (items[0] as QueryNode) : { kind: 'and', items });

/** ss's `inet:` / `inet6:` before a host or port: a family. */
function stripFamily(value: string): { family: 4 | 6 | null; rest: string } {
  const m = /^(inet6?):(.*)$/i.exec(value);
  if (!m) return { family: null, rest: value };
  return { family: (m[1] as string).toLowerCase() === 'inet6' ? 6 : 4, rest: m[2] as string };
}

/** Holds for every socket (ss's `*`). */
const EVERY: QueryNode = { kind: 'and', items: [] };

const withFamily = (family: 4 | 6 | null, n: QueryNode, at: number): QueryNode => (family === null ? n : and([term({ field: 'family', family }, at), n]));

/** `sport OP :PORT`. */
function portPredicate(end: End, op: CompareOp, value: string, at: number, env: ParseEnv): QueryNode | string {
  const { family, rest } = stripFamily(value);
  const bare = rest.startsWith(':') ? rest.slice(1) : rest;
  if (bare === '' || bare === '*') return withFamily(family, EVERY, at);
  const r = portRanges(bare, env);
  if (typeof r === 'string') return `${r}: expected a port like :22 or :ssh`;
  const field = end === 'local' ? 'lport' : 'rport';
  if (op === '=' || op === '!=') {
    const n = term({ field, ranges: r }, at);
    return withFamily(family, op === '=' ? n : not(n), at);
  }
  if (r.length !== 1 || (r[0] as [number, number])[0] !== (r[0] as [number, number])[1]) {
    return `${quote(bare)} names several ports: ${op} needs one`;
  }
  return withFamily(family, term({ field: 'portCompare', end, op, port: (r[0] as [number, number])[0] }, at), at);
}

/** `dst HOST`: `[FAMILY:]ADDRESS[/LEN][:PORT]`, `*:PORT`, `:PORT`, `[v6]:PORT`, or a host name. */
function hostPredicate(end: End, value: string, at: number, env: ParseEnv): QueryNode | string {
  const { family, rest } = stripFamily(value.toLowerCase());
  let host = rest;
  let port: string | null = null;
  const bracket = /^\[([^\]]*)\](.*)$/.exec(host);
  if (bracket) {
    host = bracket[1] as string;
    const after = bracket[2] as string;
    // [fd00::]/8 and [::1]:443
    const m = /^(\/\d{1,3})?(?::(.+))?$/.exec(after);
    if (!m) return `${quote(value)}: expected [ADDRESS], [ADDRESS]/LEN or [ADDRESS]:PORT`;
    host += m[1] ?? '';
    port = m[2] ?? null;
  } else if (!(host.includes(':') && (canonicalAddress(host.split('/')[0] as string) !== null || parseCidr(host, end) !== null))) {
    // not a bare IPv6 address: the last colon, if any, starts the port
    const colon = host.lastIndexOf(':');
    if (colon >= 0) {
      port = host.slice(colon + 1);
      host = host.slice(0, colon);
    }
  }
  const parts: QueryNode[] = [];
  if (family !== null) parts.push(term({ field: 'family', family }, at));
  if (host !== '' && host !== '*') {
    const cidr = parseCidr(host, end);
    if (typeof cidr === 'string') return cidr;
    if (cidr) parts.push(term(cidr, at));
    else {
      const address = canonicalAddress(host);
      if (address !== null) parts.push(term({ field: 'address', end, address, port: null, iface: null }, at));
      else if (end === 'remote' && !/^[\d.]+$/.test(host) && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host)) {
        parts.push(term({ field: 'hostName', value: host }, at));
      } else return `${quote(host)} is not an address, an address block like 10.0.0.0/8${end === 'remote' ? ' or a host name' : ''}`;
    }
  }
  if (port !== null && port !== '*') {
    const r = portRanges(port, env);
    if (typeof r === 'string') return r;
    parts.push(term({ field: end === 'local' ? 'lport' : 'rport', ranges: r }, at));
  }
  if (parts.length === 0) return EVERY;
  return and(parts);
}

/** One ss predicate: the keyword, its operator (`=` when none was given) and its operand. */
export function ssPredicate(keyword: SsKeyword, op: CompareOp, value: string, at: number, env: ParseEnv): QueryNode | string {
  switch (keyword) {
    case 'sport':
    case 'dport':
      return portPredicate(keyword === 'sport' ? 'local' : 'remote', op, value, at, env);
    case 'src':
    case 'dst': {
      if (op !== '=' && op !== '!=') return `${keyword} takes = or !=, not ${op}`;
      const n = hostPredicate(keyword === 'src' ? 'local' : 'remote', value, at, env);
      return typeof n === 'string' || op === '=' ? n : not(n);
    }
    case 'dev': {
      if (op !== '=' && op !== '!=') return `dev takes = or !=, not ${op}`;
      const n = term({ field: 'iface', value: value.toLowerCase() }, at);
      return op === '=' ? n : not(n);
    }
  }
}
