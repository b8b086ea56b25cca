import { SOCKET_STATES, type Protocol, type SocketState } from '../model';
import type { Exposure } from '../reach';
import type { CompareOp } from './lexer';

/** Which end of a socket a term looks at. */
export type End = 'local' | 'remote' | 'either';

/**
 * The predicates a query is made of (the leaves of its tree), each already checked and normalised: matching
 * never parses. Text values are lower case.
 */
export type QueryTerm =
  /** Free text: a substring of what the table shows (process, command line, endpoints, state, user, ...). */
  | { field: 'text'; value: string }
  | { field: 'proc' | 'user' | 'iface' | 'netns'; value: string }
  /** `port:` (either end), `lport:` / `sport` (local), `rport:` / `dport` (remote): any of the ranges. */
  | { field: 'port' | 'lport' | 'rport'; ranges: ReadonlyArray<readonly [number, number]> }
  /** ss's `sport < :1024` and the like: a comparison with one port. */
  | { field: 'portCompare'; end: End; op: CompareOp; port: number }
  | { field: 'pid'; pid: number }
  /** A set of states; `listening` also takes every listener (TCP LISTEN and unconnected UDP, as `ss -l`). */
  | { field: 'state'; states: ReadonlySet<SocketState>; listening: boolean }
  | { field: 'proto'; protocol: Protocol; family: 4 | 6 | null }
  | { field: 'family'; family: 4 | 6 }
  | { field: 'exposure'; exposure: Exposure }
  /** `host:` the remote address (substring, exact for a whole address) or its host name (substring). */
  | { field: 'host'; value: string; exact: boolean }
  /** An address block (`host:10.0.0.0/8`, `dst 10.0.0.0/8`); `end` says which end: local, remote or either. */
  | { field: 'cidr'; end: End; family: 4 | 6; bits: readonly number[]; prefix: number }
  /** An exact address, with or without a port (`[::1]`, `dst 10.0.0.1:443`, ss's `src *:53`). */
  | { field: 'address'; end: End; address: string | null; port: number | null; iface: string | null }
  /** ss's `dst github.com`: a remote host name (the reverse-DNS name) equal to it or ending in `.name`. */
  | { field: 'hostName'; value: string }
  /** An endpoint exactly as the table shows it, local or remote: `127.0.0.1:19002`, `[::1]:19005`, `*:53`. */
  | { field: 'endpoint'; text: string; port: number }
  | { field: 'unexpected' }
  | { field: 'risk' }
  /** `dir:in` / `dir:out`: which way a connection goes (Socket.direction; a guess counts too). */
  | { field: 'dir'; direction: 'in' | 'out' }
  /** `rate>10k`, `in>=1M`, `out<500`, `bytes>1G`: bytes a second (in + out for `rate`) or bytes so far. */
  | { field: 'traffic'; what: 'rate' | 'in' | 'out' | 'bytes'; op: CompareOp; value: number };

/** A query's tree. `and` with no items holds for everything (the empty query). */
export type QueryNode =
  { kind: 'and'; items: QueryNode[] } | { kind: 'or'; items: QueryNode[] } | { kind: 'not'; item: QueryNode } | { kind: 'term'; term: QueryTerm; at: number };

const ALL_STATES: ReadonlySet<SocketState> = new Set(SOCKET_STATES);
const without = (drop: readonly SocketState[]): Set<SocketState> => new Set(SOCKET_STATES.filter((s) => !drop.includes(s)));

/** A set of states plus "every listener". */
export interface StateSet {
  states: Set<SocketState>;
  listening: boolean;
}

/**
 * ss's state names and groups (`man ss`, STATE-FILTER), in Portwatch's states. ss's `closed` is TCP's CLOSE and a
 * bound TCP socket; an unconnected UDP socket is a listener here (as `ss -l` lists it), so `listening` takes it and
 * `closed` does not.
 */
function ssState(name: string): StateSet | null {
  const connected = without(['LISTEN', 'UNCONN', 'CLOSE', 'BOUND']);
  switch (name) {
    case 'all':
      return { states: new Set(ALL_STATES), listening: true };
    case 'connected':
      return { states: connected, listening: false };
    case 'synchronized':
      connected.delete('SYN_SENT');
      return { states: connected, listening: false };
    case 'bucket':
      return { states: new Set(['TIME_WAIT', 'SYN_RECV']), listening: false };
    case 'big':
      return { states: without(['TIME_WAIT', 'SYN_RECV']), listening: true };
    case 'closed':
      return { states: new Set(['CLOSE', 'BOUND']), listening: false };
    case 'listen':
    case 'listening':
      return { states: new Set(['LISTEN', 'UNCONN']), listening: true };
    case 'fin-wait-1':
    case 'fin_wait_1':
      return { states: new Set(['FIN_WAIT1']), listening: false };
    case 'fin-wait-2':
    case 'fin_wait_2':
      return { states: new Set(['FIN_WAIT2']), listening: false };
  }
  return null;
}

const STATE_ALIASES: Record<string, SocketState> = {
  ESTAB: 'ESTABLISHED',
  TIMEWAIT: 'TIME_WAIT',
  CLOSEWAIT: 'CLOSE_WAIT',
  SYNSENT: 'SYN_SENT',
  SYNRECV: 'SYN_RECV',
  LASTACK: 'LAST_ACK',
  UNCONNECTED: 'UNCONN',
};

/** The states a name means: Portwatch's (`time_wait`, `time-wait`, `estab`, `unconn`) or ss's, groups included. */
export function statesNamed(value: string): StateSet | null {
  const lower = value.toLowerCase();
  const ss = ssState(lower);
  if (ss) return ss;
  const norm = lower.toUpperCase().replace(/-/g, '_');
  const state = (SOCKET_STATES as readonly string[]).includes(norm) ? (norm as SocketState) : STATE_ALIASES[norm.replace(/_/g, '')];
  return state ? { states: new Set([state]), listening: false } : null;
}

export const STATE_NAMES_HELP =
  'listen, established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, time-wait, close-wait, last-ack, closing, closed, unconn, bound, ' +
  'or a group: all, connected, synchronized, bucket, big';

/** A piece of the query in a message: quoted, and cut when long (a hostile query is 2,000 characters). */
export function quote(text: string): string {
  return `"${text.length > 40 ? `${text.slice(0, 40)}…` : text}"`;
}
