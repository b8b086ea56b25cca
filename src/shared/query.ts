import { PROTOCOLS, SOCKET_STATES, type Protocol, type Socket, type SocketState } from './model';

/**
 * The filter language, shared by the UI's search box and the CLI's --filter:
 *   nginx                free text: process, command line, address, port, state, user, host name
 *   port:443             local or remote port (also a range: port:8000-8999)
 *   lport:22 rport:443   local / remote port only
 *   proc:nginx           process name (substring); pid:123 exact pid (any owner of a shared socket)
 *   state:listen         state (listen, established, time_wait or time-wait, unconn, ...); listen is every
 *                        listener, TCP LISTEN and unconnected UDP, as `ss -l` lists them
 *   host:github          remote address or its host name (substring)
 *   user:root            owning user (exact, or uid)
 *   proto:udp  family:6  protocol (tcp udp udplite raw icmp mptcp) and address family
 *   iface:lo             the device a socket is bound to (exact; `iface:none` for unbound)
 *   netns:docker         network namespace: its id or container (substring); `netns:self` for Portwatch's own
 * Terms separated by spaces must all hold; a leading `-` negates one; "double quotes" keep spaces.
 * Bad input yields a message saying where and why, never an exception.
 */

export type QueryField = 'text' | 'port' | 'lport' | 'rport' | 'proc' | 'pid' | 'state' | 'host' | 'user' | 'proto' | 'family' | 'iface' | 'netns';

export type QueryTerm =
  | { field: 'text' | 'proc' | 'host' | 'user' | 'iface' | 'netns'; negate: boolean; value: string }
  | { field: 'port' | 'lport' | 'rport'; negate: boolean; min: number; max: number }
  | { field: 'pid'; negate: boolean; pid: number }
  | { field: 'state'; negate: boolean; state: SocketState }
  | { field: 'proto'; negate: boolean; protocol: Protocol }
  | { field: 'family'; negate: boolean; family: 4 | 6 };

export type QueryParse = { ok: true; terms: QueryTerm[] } | { ok: false; message: string; position: number };

const FIELDS = new Set<string>(['port', 'lport', 'rport', 'proc', 'pid', 'state', 'host', 'user', 'proto', 'family', 'iface', 'netns']);
const FIELD_ALIASES: Record<string, string> = {
  process: 'proc',
  name: 'proc',
  protocol: 'proto',
  localport: 'lport',
  remoteport: 'rport',
  dev: 'iface',
  interface: 'iface',
  ns: 'netns',
  container: 'netns',
};

/** Splits on spaces outside double quotes; keeps each token's start for error messages. */
function tokenize(input: string): Array<{ text: string; at: number }> | { message: string; position: number } {
  const out: Array<{ text: string; at: number }> = [];
  let i = 0;
  while (i < input.length) {
    while (i < input.length && /\s/.test(input[i] as string)) i++;
    if (i >= input.length) break;
    const at = i;
    let text = '';
    let quoted = false;
    while (i < input.length && (quoted || !/\s/.test(input[i] as string))) {
      const c = input[i] as string;
      if (c === '"') quoted = !quoted;
      else text += c;
      i++;
    }
    if (quoted) return { message: 'a quote is not closed', position: at };
    out.push({ text, at });
  }
  return out;
}

function parsePortRange(v: string): { min: number; max: number } | null {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(v);
  if (!m) return null;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  if (min > 65535 || max > 65535 || min > max) return null;
  return { min, max };
}

function parseState(v: string): SocketState | null {
  const norm = v.toUpperCase().replace(/-/g, '_');
  const aliases: Record<string, SocketState> = {
    ESTAB: 'ESTABLISHED',
    TIMEWAIT: 'TIME_WAIT',
    CLOSEWAIT: 'CLOSE_WAIT',
    LISTENING: 'LISTEN',
    SYNSENT: 'SYN_SENT',
    SYNRECV: 'SYN_RECV',
  };
  if ((SOCKET_STATES as readonly string[]).includes(norm)) return norm as SocketState;
  return aliases[norm.replace(/_/g, '')] ?? null;
}

export function parseQuery(input: string): QueryParse {
  if (typeof input !== 'string') return { ok: false, message: 'the query must be text', position: 0 };
  if (input.length > 2000) return { ok: false, message: 'the query is too long (2,000 characters at most)', position: 2000 };
  const tokens = tokenize(input);
  if (!Array.isArray(tokens)) return { ok: false, ...tokens };
  const terms: QueryTerm[] = [];
  for (const { text: raw, at } of tokens) {
    let text = raw;
    let negate = false;
    if (text.startsWith('-') && text.length > 1) {
      negate = true;
      text = text.slice(1);
    }
    const colon = text.indexOf(':');
    const name = colon > 0 ? text.slice(0, colon).toLowerCase() : '';
    const field = FIELD_ALIASES[name] ?? name;
    if (colon <= 0 || !FIELDS.has(field)) {
      if (text === '' || text === '-') return { ok: false, message: `"${raw}" needs something after the minus`, position: at };
      if (colon > 0 && /^[a-z]+$/.test(name) && !/^[0-9a-f]*$/i.test(name)) {
        return { ok: false, message: `unknown field "${name}:" (known: ${[...FIELDS].join(', ')})`, position: at };
      }
      terms.push({ field: 'text', negate, value: text.toLowerCase() });
      continue;
    }
    const value = text.slice(colon + 1);
    const fail = (why: string): QueryParse => ({ ok: false, message: `${field}: ${why}`, position: at });
    if (value === '') return fail('needs a value');
    switch (field) {
      case 'port':
      case 'lport':
      case 'rport': {
        const r = parsePortRange(value);
        if (!r) return fail(`"${value}" is not a port (0-65535) or a range like 8000-8999`);
        terms.push({ field, negate, ...r });
        break;
      }
      case 'pid': {
        if (!/^\d{1,10}$/.test(value) || Number(value) < 1) return fail(`"${value}" is not a process id`);
        terms.push({ field, negate, pid: Number(value) });
        break;
      }
      case 'state': {
        const s = parseState(value);
        if (!s) return fail(`"${value}" is not a state (${SOCKET_STATES.map((x) => x.toLowerCase()).join(', ')})`);
        terms.push({ field, negate, state: s });
        break;
      }
      case 'proto': {
        const p = value.toLowerCase();
        const protocol = PROTOCOLS.find((x) => x === p);
        if (!protocol) return fail(`"${value}" is not a protocol (${PROTOCOLS.join(', ')})`);
        terms.push({ field, negate, protocol });
        break;
      }
      case 'family': {
        const f = value.toLowerCase().replace(/^ipv?/, '');
        if (f !== '4' && f !== '6') return fail(`"${value}" is not 4 or 6`);
        terms.push({ field, negate, family: f === '4' ? 4 : 6 });
        break;
      }
      default:
        terms.push({ field: field as 'proc' | 'host' | 'user' | 'iface' | 'netns', negate, value: value.toLowerCase() });
    }
  }
  return { ok: true, terms };
}

/** What matching needs beyond the socket itself: host names found by reverse DNS, service names. */
export interface MatchContext {
  hostName?: (address: string) => string | undefined;
  serviceName?: (port: number, protocol: Protocol) => string | undefined;
}

const inRange = (p: number | null, min: number, max: number): boolean => p !== null && p >= min && p <= max;

function termHolds(t: QueryTerm, s: Socket, ctx: MatchContext): boolean {
  switch (t.field) {
    case 'port':
      return inRange(s.localPort, t.min, t.max) || inRange(s.remotePort, t.min, t.max);
    case 'lport':
      return inRange(s.localPort, t.min, t.max);
    case 'rport':
      return inRange(s.remotePort, t.min, t.max);
    case 'pid':
      return s.pids.includes(t.pid) || s.pid === t.pid;
    case 'state':
      // listening is what `ss -l` lists: TCP LISTEN and unconnected UDP alike (the --listen flag and the toggle too)
      return t.state === 'LISTEN' ? s.listening : s.state === t.state;
    case 'proto':
      return s.protocol === t.protocol;
    case 'family':
      return s.family === t.family;
    case 'proc':
      return (s.process?.name ?? '').toLowerCase().includes(t.value);
    case 'iface':
      return t.value === 'none' ? s.interface === null : (s.interface ?? '').toLowerCase() === t.value;
    case 'netns':
      if (t.value === 'self') return s.netns === null;
      return (s.netns ?? '').toLowerCase().includes(t.value) || (s.container ?? '').toLowerCase().includes(t.value);
    case 'user':
      return (s.user ?? '').toLowerCase() === t.value || (s.process?.user ?? '').toLowerCase() === t.value || String(s.uid) === t.value;
    case 'host': {
      if (s.remoteAddress === null) return false;
      if (s.remoteAddress.toLowerCase().includes(t.value)) return true;
      return (ctx.hostName?.(s.remoteAddress) ?? '').toLowerCase().includes(t.value);
    }
    case 'text': {
      const v = t.value;
      const hay = [
        s.process?.name,
        s.process?.cmdline.join(' '),
        s.localAddress,
        String(s.localPort),
        s.remoteAddress,
        s.remotePort === null ? null : String(s.remotePort),
        s.state,
        s.user,
        s.pid === null ? null : String(s.pid),
        s.remoteAddress === null ? null : ctx.hostName?.(s.remoteAddress),
        ctx.serviceName?.(s.localPort, s.protocol),
      ];
      return hay.some((h) => h !== null && h !== undefined && h.toLowerCase().includes(v));
    }
  }
}

/** True when every term holds (negated ones: does not hold). */
export function matchesQuery(terms: readonly QueryTerm[], s: Socket, ctx: MatchContext = {}): boolean {
  for (const t of terms) if (termHolds(t, s, ctx) === t.negate) return false;
  return true;
}
