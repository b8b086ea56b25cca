import { exposureOf, riskOf } from '../exposure';
import { formatEndpoint, formatLocal, unmapIpv4, type Protocol, type Socket } from '../model';
import { inCidr } from './addresses';
import type { CompareOp } from './lexer';
import type { End, QueryNode, QueryTerm } from './terms';

/** What matching needs beyond the socket itself: host names found by reverse DNS, service names, the baseline. */
export interface MatchContext {
  hostName?: (address: string) => string | undefined;
  /** The service column's name for a port (free text finds it); none when not given (the CLI shows none). */
  serviceName?: (port: number, protocol: Protocol) => string | undefined;
  /** For listeners: does the baseline expect it? null for other sockets; `unexpected` matches nothing without it. */
  expected?: (s: Socket) => boolean | null;
}

/** A compiled query: a predicate over a socket, built once per query (a keystroke), run once per socket. */
export type Predicate = (s: Socket, ctx: MatchContext) => boolean;

/** What the table shows of a socket, computed once per socket object (a changed socket is a new object). */
interface Shown {
  /** Every text column, lower case, joined: free text is a substring of one of them. */
  text: string;
  local: string;
  localRaw: string;
  localBare: string;
  remote: string;
}
const shownCache = new WeakMap<Socket, Shown>();

function shown(s: Socket): Shown {
  let v = shownCache.get(s);
  if (v) return v;
  const local = formatLocal(s).toLowerCase();
  const remote = formatEndpoint(s.remoteAddress, s.remotePort).toLowerCase();
  const owner = s.process ?? s.lastOwner;
  const parts = [
    owner?.name,
    owner?.cmdline.join(' '),
    s.localAddress,
    String(s.localPort),
    local,
    s.remoteAddress,
    s.remotePort === null ? null : String(s.remotePort),
    remote,
    s.state,
    s.user,
    s.pid === null ? null : String(s.pid),
    `${s.protocol}${s.family === 6 ? '6' : ''}`,
  ];
  let text = '';
  for (const p of parts) if (p !== null && p !== undefined && p !== '') text += `${p.toLowerCase()}\u0000`;
  v = {
    text,
    local,
    localRaw: formatEndpoint(s.localAddress, s.localPort, s.interface).toLowerCase(),
    localBare: formatEndpoint(s.localAddress, s.localPort).toLowerCase(),
    remote,
  };
  shownCache.set(s, v);
  return v;
}

const inRanges = (p: number | null, ranges: ReadonlyArray<readonly [number, number]>): boolean => {
  if (p === null) return false;
  for (const [min, max] of ranges) if (p >= min && p <= max) return true;
  return false;
};

function compare(p: number | null, op: CompareOp, port: number): boolean {
  if (p === null) return false;
  switch (op) {
    case '=':
      return p === port;
    case '!=':
      return p !== port;
    case '<':
      return p < port;
    case '<=':
      return p <= port;
    case '>':
      return p > port;
    case '>=':
      return p >= port;
  }
}

const atEnd = (end: End, local: () => boolean, remote: () => boolean): boolean =>
  end === 'local' ? local() : end === 'remote' ? remote() : local() || remote();

function termPredicate(t: QueryTerm): Predicate {
  switch (t.field) {
    case 'port':
      return (s) => inRanges(s.localPort, t.ranges) || inRanges(s.remotePort, t.ranges);
    case 'lport':
      return (s) => inRanges(s.localPort, t.ranges);
    case 'rport':
      return (s) => inRanges(s.remotePort, t.ranges);
    case 'portCompare':
      return (s) =>
        atEnd(
          t.end,
          () => compare(s.localPort, t.op, t.port),
          () => compare(s.remotePort, t.op, t.port),
        );
    case 'pid':
      return (s) => s.pid === t.pid || s.pids.includes(t.pid);
    case 'state':
      return (s) => t.states.has(s.state) || (t.listening && s.listening);
    case 'proto':
      return (s) => s.protocol === t.protocol && (t.family === null || s.family === t.family);
    case 'family':
      return (s) => s.family === t.family;
    case 'exposure':
      return (s) => exposureOf(s) === t.exposure;
    case 'proc':
      return (s) => (s.process?.name ?? '').toLowerCase().includes(t.value);
    case 'iface':
      return (s) => (t.value === 'none' ? s.interface === null : (s.interface ?? '').toLowerCase() === t.value);
    case 'netns':
      return (s) =>
        t.value === 'self' ? s.netns === null : (s.netns ?? '').toLowerCase().includes(t.value) || (s.container ?? '').toLowerCase().includes(t.value);
    case 'user':
      return (s) => (s.user ?? '').toLowerCase() === t.value || (s.process?.user ?? '').toLowerCase() === t.value || String(s.uid) === t.value;
    case 'host':
      return (s, ctx) => {
        if (s.remoteAddress === null) return false;
        if (t.exact ? unmapIpv4(s.remoteAddress) === t.value || s.remoteAddress === t.value : s.remoteAddress.toLowerCase().includes(t.value)) return true;
        return (ctx.hostName?.(s.remoteAddress) ?? '').toLowerCase().includes(t.value);
      };
    case 'hostName':
      return (s, ctx) => {
        if (s.remoteAddress === null) return false;
        const name = (ctx.hostName?.(s.remoteAddress) ?? '').toLowerCase().replace(/\.$/, '');
        return name !== '' && (name === t.value || name.endsWith(`.${t.value}`));
      };
    case 'cidr':
      return (s) =>
        atEnd(
          t.end,
          () => inCidr(t, s.localAddress),
          () => inCidr(t, s.remoteAddress),
        );
    case 'address': {
      const same = (a: string | null, port: number | null): boolean =>
        a !== null && (t.address === null || unmapIpv4(a) === t.address || a === t.address) && (t.port === null || port === t.port);
      return (s) =>
        atEnd(
          t.end,
          () => same(s.localAddress, s.localPort) && (t.iface === null || s.interface === t.iface),
          () => same(s.remoteAddress, s.remotePort),
        );
    }
    case 'endpoint':
      return (s) => {
        const v = shown(s);
        return v.local === t.text || v.remote === t.text || v.localRaw === t.text || v.localBare === t.text;
      };
    case 'unexpected':
      return (s, ctx) => s.listening && ctx.expected?.(s) === false;
    case 'risk':
      return (s) => s.listening && riskOf(s.localPort, s.protocol) !== null;
    case 'text': {
      const v = t.value;
      return (s, ctx) => {
        if (shown(s).text.includes(v)) return true;
        if (s.remoteAddress !== null && ctx.hostName && (ctx.hostName(s.remoteAddress) ?? '').toLowerCase().includes(v)) return true;
        return ctx.serviceName !== undefined && (ctx.serviceName(s.localPort, s.protocol) ?? '').toLowerCase().includes(v);
      };
    }
  }
}

/** The query's tree as one predicate (closures all the way down: nothing is interpreted per socket). */
export function compile(n: QueryNode): Predicate {
  switch (n.kind) {
    case 'term':
      return termPredicate(n.term);
    case 'not': {
      const inner = compile(n.item);
      return (s, ctx) => !inner(s, ctx);
    }
    case 'and': {
      const items = n.items.map(compile);
      if (items.length === 0) return () => true;
      if (items.length === 1) return items[0] as Predicate;
      return (s, ctx) => {
        for (const p of items) if (!p(s, ctx)) return false;
        return true;
      };
    }
    case 'or': {
      const items = n.items.map(compile);
      return (s, ctx) => {
        for (const p of items) if (p(s, ctx)) return true;
        return false;
      };
    }
  }
}

/** Whether a tree uses a term of this field (`unexpected` needs the baseline). */
export function uses(n: QueryNode, field: QueryTerm['field']): boolean {
  switch (n.kind) {
    case 'term':
      return n.term.field === field;
    case 'not':
      return uses(n.item, field);
    default:
      return n.items.some((i) => uses(i, field));
  }
}
