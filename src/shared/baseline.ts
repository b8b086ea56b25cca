import { z } from 'zod';
import type { Exposure } from './exposure';
import { exposureOf } from './exposure';
import { PROTOCOLS, type Protocol, type Socket } from './model';

/**
 * Expected ports: rules a listener may match. Every field a rule sets must hold (process is the full process
 * name, exe the executable path, ports a range "8000-8999"); a field left out matches anything, so a rule with
 * an exe and no port is "any port for this executable", and one with an exposure is scoped to it ("node on
 * loopback, any port"). A listener no rule matches is unexpected.
 */
export interface BaselineRule {
  process?: string;
  exe?: string;
  protocol?: Protocol;
  port?: number;
  /** An inclusive range of ports, "8000-8999" (version 2 files). Never set together with `port`. */
  ports?: string;
  exposure?: Exposure;
  /** Why it is expected, for the person reading the file. */
  note?: string;
}

/**
 * The file. Version 1 has no `ports`; version 2 adds it. Portwatch reads both and writes the lowest version
 * that holds the rules, so a file without ranges stays readable by earlier versions.
 */
export interface Baseline {
  version: 1 | 2;
  rules: BaselineRule[];
}

const RANGE = /^(\d{1,5})-(\d{1,5})$/;

/** "8000-8999" as its bounds, or null when it is not such a range of ports (0-65535, low first). */
export function parsePortRange(text: string): { from: number; to: number } | null {
  const m = RANGE.exec(text);
  if (!m) return null;
  const from = Number(m[1]);
  const to = Number(m[2]);
  return from <= to && to <= 65535 ? { from, to } : null;
}

/** What a rule may match on; a rule that sets none of them would expect every listener. */
export const MATCH_FIELDS = ['process', 'exe', 'protocol', 'port', 'ports', 'exposure'] as const;

/** The fields of a rule and their bounds: the file's (baselineFile.ts) and the API's (contract.ts) one check. */
export const RULE_FIELDS = {
  process: z.string().min(1).max(256).optional(),
  exe: z.string().min(1).max(4096).optional(),
  protocol: z.enum(PROTOCOLS).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  ports: z
    .string()
    .max(11)
    .refine((t) => parsePortRange(t) !== null, { message: 'must be a range of ports, low-high, such as "8000-8999" (0 to 65535)' })
    .optional(),
  exposure: z.enum(['all', 'interface', 'loopback']).optional(),
  note: z.string().max(1000).optional(),
};

/** A rule as the file and the API accept it: known fields only, at least one to match, never all ports alone. */
export const BaselineRuleSchema = z
  .strictObject(RULE_FIELDS)
  .refine((r) => MATCH_FIELDS.some((k) => r[k] !== undefined), {
    message: `sets no field to match (${MATCH_FIELDS.join(', ')}), so it would expect every listener`,
  })
  .refine((r) => r.port === undefined || r.ports === undefined, { message: 'sets both port and ports: give one port or one range' })
  .refine((r) => !(r.ports === '0-65535' && MATCH_FIELDS.every((k) => k === 'ports' || r[k] === undefined)), {
    message: 'covers every port and sets nothing else to match, so it would expect every listener',
  });

export function ruleMatches(rule: BaselineRule, s: Socket): boolean {
  if (rule.protocol !== undefined && rule.protocol !== s.protocol) return false;
  if (rule.port !== undefined && rule.port !== s.localPort) return false;
  if (rule.ports !== undefined) {
    // a range that does not parse matches nothing: the file's check refuses it, this is the second fence
    const r = parsePortRange(rule.ports);
    if (r === null || s.localPort < r.from || s.localPort > r.to) return false;
  }
  if (rule.exposure !== undefined && rule.exposure !== exposureOf(s)) return false;
  if (rule.process !== undefined && rule.process !== s.process?.name) return false;
  if (rule.exe !== undefined && rule.exe !== s.process?.exe) return false;
  return true;
}

/** For listeners: does some rule expect it? Non-listening sockets are never judged (null). */
export function isExpected(rules: readonly BaselineRule[], s: Socket): boolean | null {
  if (!s.listening) return null;
  return rules.some((r) => ruleMatches(r, s));
}

/** The first rule that expects this listener, or null (what "un-mark" removes). */
export function ruleExpecting(rules: readonly BaselineRule[], s: Socket): BaselineRule | null {
  return s.listening ? (rules.find((r) => ruleMatches(r, s)) ?? null) : null;
}

/**
 * How wide a rule made from a listener is: `port` this port, any port, or a range "8000-8999"; `exposure` this
 * listener's exposure or any. "Mark as expected" offers these.
 */
export interface RuleChoice {
  ports: 'this' | 'any' | string;
  exposure: 'this' | 'any';
}

/** The rule that expects exactly this listener: its process (when visible), protocol, port and exposure. */
export function ruleFor(s: Socket): BaselineRule {
  const rule: BaselineRule = { protocol: s.protocol, port: s.localPort, exposure: exposureOf(s) ?? 'all' };
  if (s.process) rule.process = s.process.name;
  return rule;
}

/**
 * A rule for this listener as wide as `choice` says: for "any port" and a range, the executable when known (so
 * it means this program, not every program of that name), else the process name. Null when the range does not
 * parse or does not hold the port, or when a port-wide choice has no process to hold on to (it would expect
 * every listener).
 */
export function ruleWith(s: Socket, choice: RuleChoice): BaselineRule | null {
  if (choice.ports === 'this' && choice.exposure === 'this') return ruleFor(s);
  const rule: BaselineRule = { protocol: s.protocol };
  if (choice.ports === 'this') rule.port = s.localPort;
  else if (choice.ports !== 'any') {
    const r = parsePortRange(choice.ports);
    if (r === null || s.localPort < r.from || s.localPort > r.to) return null;
    rule.ports = `${r.from}-${r.to}`;
  }
  if (choice.exposure === 'this') rule.exposure = exposureOf(s) ?? 'all';
  if (s.process) {
    if (choice.ports !== 'this' && s.process.exe) rule.exe = s.process.exe;
    else rule.process = s.process.name;
  } else if (choice.ports !== 'this') return null;
  return rule;
}

/** One rule as words: "nginx, tcp port 80, all interfaces"; "/usr/bin/node, any port, loopback". */
export function describeRule(r: BaselineRule): string {
  const who = r.process ?? r.exe ?? 'any process';
  const port = r.port !== undefined ? `port ${r.port}` : r.ports !== undefined ? `ports ${r.ports}` : 'any port';
  const where = r.exposure === undefined ? 'any exposure' : r.exposure === 'all' ? 'all interfaces' : r.exposure === 'interface' ? 'one interface' : 'loopback';
  const extra = r.process !== undefined && r.exe !== undefined ? ` (${r.exe})` : '';
  return `${who}${extra}, ${r.protocol ? `${r.protocol} ` : ''}${port}, ${where}`;
}

/** Two rules are the same rule when they match on the same fields (the note is not one). */
export function ruleKey(r: BaselineRule): string {
  return JSON.stringify([r.process, r.exe, r.protocol, r.port, r.ports, r.exposure]);
}

/** Rules for every listener, without repeats (a dual-stack pair, nginx's workers: one rule each). */
export function rulesFor(sockets: Iterable<Socket>): BaselineRule[] {
  const seen = new Map<string, BaselineRule>();
  for (const s of sockets) {
    if (!s.listening) continue;
    const r = ruleFor(s);
    seen.set(ruleKey(r), r);
  }
  return [...seen.values()].sort((a, b) => (a.port ?? 0) - (b.port ?? 0) || (a.protocol ?? '').localeCompare(b.protocol ?? ''));
}

/** The lowest file version that holds these rules. */
export function baselineVersion(rules: readonly BaselineRule[]): 1 | 2 {
  return rules.some((r) => r.ports !== undefined) ? 2 : 1;
}
