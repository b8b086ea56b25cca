import { formatEndpoint, PROTOCOLS, type Protocol } from '../model';
import { canonicalAddress, parseCidr } from './addresses';
import type { CompareOp } from './lexer';
import type { ServicePorts } from './services';
import { quote, STATE_NAMES_HELP, statesNamed, type QueryNode, type QueryTerm } from './terms';

/**
 * One word of a query that is not an operator or an ss keyword: a `field:value[,value...]` term, a keyword
 * (`unexpected`, `risk`), a displayed form (`127.0.0.1:19002`, `[::1]:19005`, `*:53`, `:3000`, `tcp6`, `[::1]`)
 * or free text; `-` before it negates it.
 */

export interface ParseEnv {
  servicePorts: ServicePorts;
}

export interface Fail {
  message: string;
  position: number;
}

export const FIELDS = [
  'port',
  'lport',
  'rport',
  'proc',
  'pid',
  'state',
  'host',
  'user',
  'proto',
  'family',
  'iface',
  'netns',
  'exposure',
  'dir',
  'rate',
] as const;
type Field = (typeof FIELDS)[number];
const FIELD_ALIASES: Record<string, Field> = {
  process: 'proc',
  name: 'proc',
  protocol: 'proto',
  localport: 'lport',
  remoteport: 'rport',
  sport: 'lport',
  dport: 'rport',
  dev: 'iface',
  interface: 'iface',
  ns: 'netns',
  container: 'netns',
  direction: 'dir',
};

/** `rate>10k`, `in>=1.5M`, `bytes<1g`: what, the comparison, and the amount (k, M, G in thousands, SI as elsewhere). */
const TRAFFIC = /^(rate|in|out|bytes)(>=|<=|!=|==|=|>|<)(\d+(?:\.\d+)?)([kmgt]?)(?:b|b\/s)?$/i;
const SCALE: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

/** A traffic comparison, or null when the text is not one. */
export function trafficTerm(text: string, at: number): QueryNode | null {
  const m = TRAFFIC.exec(text);
  if (!m) return null;
  const op = (m[2] === '==' ? '=' : m[2]) as CompareOp;
  const value = Number(m[3]) * (SCALE[(m[4] ?? '').toLowerCase()] ?? 1);
  return term({ field: 'traffic', what: (m[1] as string).toLowerCase() as 'rate' | 'in' | 'out' | 'bytes', op, value }, at);
}

const isField = (name: string): name is Field => (FIELDS as readonly string[]).includes(name);

/** Edit distance, for "did you mean" (short strings only: field names). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}

function didYouMean(name: string): string {
  const names = [...FIELDS, ...Object.keys(FIELD_ALIASES)];
  const best = names.map((f) => [f, distance(name.slice(0, 20), f)] as const).sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= 2 ? `did you mean "${best[0]}:"?` : '';
}

const term = (t: QueryTerm, at: number): QueryNode => ({ kind: 'term', term: t, at });
const anyOf = (items: QueryNode[]): QueryNode => (items.length === 1 ? (items[0] as QueryNode) : { kind: 'or', items });

const PORT_HELP = 'a port (0-65535), a range like 8000-8999 or a service name like ssh';

/** A port, a range or a service name, as [min, max] ranges; a message when it is none. */
export function portRanges(value: string, env: ParseEnv): Array<[number, number]> | string {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value);
  if (m) {
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : Number(m[2]);
    if (min > 65535 || max > 65535 || min > max) return `${quote(value)} is not ${PORT_HELP}`;
    return [[min, max]];
  }
  const ports = /^[a-z][a-z0-9._+-]{0,63}$/i.test(value) ? env.servicePorts(value) : undefined;
  if (!ports || ports.length === 0) return `${quote(value)} is not ${PORT_HELP}`;
  return ports.map((p) => [p, p]);
}

function protocolOf(value: string): { protocol: Protocol; family: 4 | 6 | null } | null {
  const m = /^([a-z]+)([46])?$/.exec(value);
  const protocol = m ? PROTOCOLS.find((p) => p === m[1]) : undefined;
  if (!m || !protocol) return null;
  return { protocol, family: m[2] === undefined ? null : m[2] === '4' ? 4 : 6 };
}

/** One value of a field (a list's alternatives each come here). */
function fieldValue(field: Field, value: string, at: number, env: ParseEnv): QueryNode | string {
  const lower = value.toLowerCase();
  switch (field) {
    case 'port':
    case 'lport':
    case 'rport': {
      const r = portRanges(value, env);
      return typeof r === 'string' ? r : term({ field, ranges: r }, at);
    }
    case 'pid':
      if (!/^\d{1,10}$/.test(value) || Number(value) < 1) return `${quote(value)} is not a process id`;
      return term({ field, pid: Number(value) }, at);
    case 'state': {
      const s = statesNamed(value);
      if (!s) return `${quote(value)} is not a state (${STATE_NAMES_HELP})`;
      return term({ field, ...s }, at);
    }
    case 'proto': {
      const p = protocolOf(lower);
      if (!p) return `${quote(value)} is not a protocol (${PROTOCOLS.join(', ')})`;
      return term({ field, ...p }, at);
    }
    case 'family': {
      const f = lower.replace(/^ipv?/, '');
      if (f !== '4' && f !== '6') return `${quote(value)} is not 4 or 6`;
      return term({ field, family: f === '4' ? 4 : 6 }, at);
    }
    case 'exposure':
      if (lower !== 'all' && lower !== 'interface' && lower !== 'loopback') return `${quote(value)} is not an exposure (all, interface, loopback)`;
      return term({ field, exposure: lower }, at);
    case 'dir':
      if (lower !== 'in' && lower !== 'out') return `${quote(value)} is not a direction (in, out)`;
      return term({ field, direction: lower }, at);
    case 'rate':
      // `rate:>10k` as well as `rate>10k`; a bare amount means at least that
      return trafficTerm(/^[<>=!]/.test(lower) ? `rate${lower}` : `rate>=${lower}`, at) ?? `${quote(value)} is not a rate (e.g. >10k, >=1.5M, <500)`;
    case 'host': {
      const cidr = parseCidr(lower, 'remote');
      if (typeof cidr === 'string') return cidr;
      if (cidr) return term(cidr, at);
      const whole = canonicalAddress(lower);
      return term({ field: 'host', value: whole ?? lower, exact: whole !== null }, at);
    }
    default:
      return term({ field, value: lower }, at);
  }
}

/** `[::1]`, `[::1]:443`, `[fe80::1]%eth0:80`: a bracketed IPv6 address, with a scope and a port. */
const BRACKETED = /^\[([0-9a-f:.]+)\](?:%([^\s%:[\]]+))?(?::(\d{1,5}))?$/;
/** `127.0.0.1:80`, `0.0.0.0%lo:80`, `*:53`: an IPv4 address (or `*`) with a port, as the table shows them. */
const V4_ENDPOINT = /^(\d{1,3}(?:\.\d{1,3}){3}|\*)(?:%([^\s%:]+))?:(\d{1,5})$/;

/** The displayed forms and keywords; null for plain free text. */
function displayedForm(text: string, at: number, env: ParseEnv): QueryNode | string | null {
  const lower = text.toLowerCase();
  if (lower === 'unexpected') return term({ field: 'unexpected' }, at);
  if (lower === 'risk') return term({ field: 'risk' }, at);
  const traffic = trafficTerm(lower, at);
  if (traffic) return traffic;
  const proto = /^[a-z]+[46]$/.test(lower) ? protocolOf(lower) : null;
  if (proto) return term({ field: 'proto', ...proto }, at);
  if (lower.startsWith(':')) {
    const r = portRanges(lower.slice(1), env);
    if (typeof r === 'string') return `${r} (":PORT" is a port at either end)`;
    return term({ field: 'port', ranges: r }, at);
  }
  const b = BRACKETED.exec(lower);
  if (b) {
    const address = canonicalAddress(b[1] as string);
    if (address === null || !address.includes(':')) return `${quote(b[1] as string)} is not an IPv6 address`;
    const iface = b[2] ?? null;
    if (b[3] === undefined) return term({ field: 'address', end: 'either', address, port: null, iface }, at);
    const port = Number(b[3]);
    if (port > 65535) return `${quote(b[3] as string)} is not a port (0-65535)`;
    return term({ field: 'endpoint', text: formatEndpoint(address, port, iface), port }, at);
  }
  const v = V4_ENDPOINT.exec(lower);
  if (v) {
    const address = v[1] === '*' ? '*' : canonicalAddress(v[1] as string);
    if (address === null) return `${quote(v[1] as string)} is not an IPv4 address`;
    const port = Number(v[3]);
    if (port > 65535) return `${quote(v[3] as string)} is not a port (0-65535)`;
    return term({ field: 'endpoint', text: formatEndpoint(address, port, v[2] ?? null), port }, at);
  }
  return null;
}

/** A word's term: `field:value,...`, a displayed form, a keyword or free text; `-` first negates it. */
export function wordTerm(raw: string, at: number, exactPositions: boolean, env: ParseEnv): QueryNode | Fail {
  let text = raw;
  let negate = false;
  let offset = 0;
  if (text.startsWith('-') && text.length > 1) {
    negate = true;
    text = text.slice(1);
    offset = 1;
  }
  if (text === '' || text === '-') return { message: `${quote(raw)} needs something after the minus`, position: at };
  const pos = (i: number): number => (exactPositions ? at + offset + i : at);
  const wrap = (n: QueryNode): QueryNode => (negate ? { kind: 'not', item: n } : n);

  const colon = text.indexOf(':');
  const name = colon > 0 ? text.slice(0, colon).toLowerCase() : '';
  const field = FIELD_ALIASES[name] ?? name;
  if (colon > 0 && isField(field)) {
    const value = text.slice(colon + 1);
    if (value === '') return { message: `${field}: needs a value (${field}:VALUE, or a list like ${field}:A,B)`, position: pos(colon + 1) };
    const items: QueryNode[] = [];
    let start = colon + 1;
    for (const part of value.split(',')) {
      if (part === '') return { message: `${field}: expected a value before or after ","`, position: pos(start) };
      const n = fieldValue(field, part, pos(start), env);
      if (typeof n === 'string') return { message: `${field}: ${n}`, position: pos(start) };
      items.push(n);
      start += part.length + 1;
    }
    return wrap(anyOf(items));
  }
  const shown = displayedForm(text, at, env);
  if (typeof shown === 'string') return { message: shown, position: pos(0) };
  if (shown) return wrap(shown);
  if (colon > 0 && /^[a-z]+$/.test(name) && !/^[0-9a-f]*$/i.test(name)) {
    const guess = didYouMean(name);
    return { message: `unknown field "${name}:": ${guess || `known: ${FIELDS.join(', ')}`}`, position: pos(0) };
  }
  return wrap(term({ field: 'text', value: text.toLowerCase() }, at));
}
