import type { Exposure } from './exposure';
import { exposureOf } from './exposure';
import type { Protocol, Socket } from './model';

/**
 * Expected ports: rules a listener may match. Every field a rule sets must hold (process is the full process
 * name, exe the executable path); a field left out matches anything. A listener no rule matches is unexpected.
 */
export interface BaselineRule {
  process?: string;
  exe?: string;
  protocol?: Protocol;
  port?: number;
  exposure?: Exposure;
  /** Why it is expected, for the person reading the file. */
  note?: string;
}

export interface Baseline {
  version: 1;
  rules: BaselineRule[];
}

export function ruleMatches(rule: BaselineRule, s: Socket): boolean {
  if (rule.protocol !== undefined && rule.protocol !== s.protocol) return false;
  if (rule.port !== undefined && rule.port !== s.localPort) return false;
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

/** The rule that expects exactly this listener: its process (when visible), protocol, port and exposure. */
export function ruleFor(s: Socket): BaselineRule {
  const rule: BaselineRule = { protocol: s.protocol, port: s.localPort, exposure: exposureOf(s) ?? 'all' };
  if (s.process) rule.process = s.process.name;
  return rule;
}

/** Rules for every listener, without repeats (a dual-stack pair, nginx's workers: one rule each). */
export function rulesFor(sockets: Iterable<Socket>): BaselineRule[] {
  const seen = new Map<string, BaselineRule>();
  for (const s of sockets) {
    if (!s.listening) continue;
    const r = ruleFor(s);
    seen.set(JSON.stringify([r.process, r.protocol, r.port, r.exposure]), r);
  }
  return [...seen.values()].sort((a, b) => (a.port ?? 0) - (b.port ?? 0) || (a.protocol ?? '').localeCompare(b.protocol ?? ''));
}
