import { exposureOf, riskOf, type Exposure } from '../reach';
import { formatEndpoint, formatLocal, groupOwnerOf, unmapIpv4, type ProcessInfo, type Protocol, type Socket } from '../model';
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

/**
 * The text free text looks in, lower case, computed once per object and kept while the object lives (a changed
 * socket is a new object; processes are shared by their sockets, so a command line is lowered once, not once per
 * socket): a keystroke then costs one substring search per socket.
 */
const ownerText = new WeakMap<ProcessInfo, string>();
const socketText = new WeakMap<Socket, string>();
const STATE_TEXT = new Map<string, string>();

function ownerTextOf(p: ProcessInfo): string {
  let t = ownerText.get(p);
  if (t === undefined) {
    t = `${p.name}\u0000${p.cmdline.join(' ')}`.toLowerCase();
    ownerText.set(p, t);
  }
  return t;
}

/** Every text column of the row, as the table shows it (the endpoints contain the addresses and ports). */
function textOf(s: Socket): string {
  let t = socketText.get(s);
  if (t !== undefined) return t;
  const owner = s.process ?? s.lastOwner;
  let state = STATE_TEXT.get(s.state);
  if (state === undefined) STATE_TEXT.set(s.state, (state = s.state.toLowerCase()));
  const local = formatLocal(s);
  t =
    `${owner ? ownerTextOf(owner) : ''}\u0000${local}\u0000${local.startsWith(s.localAddress) ? '' : s.localAddress}\u0000` +
    `${formatEndpoint(s.remoteAddress, s.remotePort)}\u0000${state}\u0000${s.user ?? ''}\u0000${s.pid ?? ''}\u0000${s.protocol}${s.family === 6 ? '6' : ''}`;
  // addresses are canonical (lower case) already; the user name may not be
  if (s.user !== null && s.user !== s.user.toLowerCase()) t = t.toLowerCase();
  socketText.set(s, t);
  return t;
}

/** Service names by port and protocol, lower case, per lookup function: a keystroke asks for them 10,000 times. */
const serviceCache = new WeakMap<NonNullable<MatchContext['serviceName']>, Map<number, string>>();
const PROTOCOL_INDEX: Record<Protocol, number> = { tcp: 0, udp: 1, udplite: 2, raw: 3, icmp: 4, mptcp: 5 };

function serviceText(lookup: NonNullable<MatchContext['serviceName']>, s: Socket): string {
  let byPort = serviceCache.get(lookup);
  if (!byPort) serviceCache.set(lookup, (byPort = new Map()));
  const key = s.localPort * 8 + PROTOCOL_INDEX[s.protocol];
  let name = byPort.get(key);
  if (name === undefined) byPort.set(key, (name = (lookup(s.localPort, s.protocol) ?? '').toLowerCase()));
  return name;
}

/** Exposure by local address and device, cached: its loopback test parses the address. */
const EXPOSURE_LIMIT = 100_000;
let exposureCache = new Map<string, Exposure | null>();

function exposureOfListener(s: Socket): Exposure | null {
  if (!s.listening) return null;
  const key = s.interface === null ? s.localAddress : `${s.localAddress}%${s.interface}`;
  let e = exposureCache.get(key);
  if (e === undefined) {
    e = exposureOf(s);
    if (exposureCache.size >= EXPOSURE_LIMIT) exposureCache = new Map();
    exposureCache.set(key, e);
  }
  return e;
}

/** Whether an end shows as `text` (only asked once its port matched: most sockets are turned away by the port). */
function localShowsAs(s: Socket, text: string): boolean {
  return formatLocal(s) === text || formatEndpoint(s.localAddress, s.localPort, s.interface) === text || formatEndpoint(s.localAddress, s.localPort) === text;
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
      return (s) => exposureOfListener(s) === t.exposure;
    case 'proc':
      // the rows of the process's group
      return (s) => (groupOwnerOf(s)?.name ?? '').toLowerCase().includes(t.value);
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
      return (s) =>
        (s.localPort === t.port && localShowsAs(s, t.text)) || (s.remotePort === t.port && formatEndpoint(s.remoteAddress, s.remotePort) === t.text);
    case 'unexpected':
      return (s, ctx) => s.listening && ctx.expected?.(s) === false;
    case 'risk':
      return (s) => s.listening && riskOf(s.localPort, s.protocol) !== null;
    case 'dir':
      return (s) => s.direction === t.direction;
    case 'traffic':
      return (s) => {
        // a socket without the number (no counters, first sight) never matches a comparison
        const v =
          t.what === 'bytes'
            ? s.bytesIn === null && s.bytesOut === null
              ? null
              : (s.bytesIn ?? 0) + (s.bytesOut ?? 0)
            : t.what === 'in'
              ? (s.rateIn ?? null)
              : t.what === 'out'
                ? (s.rateOut ?? null)
                : (s.rateIn ?? null) === null && (s.rateOut ?? null) === null
                  ? null
                  : (s.rateIn ?? 0) + (s.rateOut ?? 0);
        return compare(v, t.op, t.value);
      };
    case 'text': {
      const v = t.value;
      return (s, ctx) => {
        if (textOf(s).includes(v)) return true;
        if (s.remoteAddress !== null && ctx.hostName && (ctx.hostName(s.remoteAddress) ?? '').toLowerCase().includes(v)) return true;
        return ctx.serviceName !== undefined && serviceText(ctx.serviceName, s).includes(v);
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
