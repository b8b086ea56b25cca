import { describe, expect, it } from 'vitest';
import { BaselineRuleSchema, describeRule, isExpected, parsePortRange, ruleExpecting, ruleMatches, ruleWith } from '../../src/shared/baseline';
import { makeProcess, makeSocket } from '../helpers/sockets';

const node = (port: number, address = '127.0.0.1') =>
  makeSocket({
    id: `tcp|${address}|${port}|*|*|1`,
    localPort: port,
    localAddress: address,
    pid: 7,
    pids: [7],
    process: makeProcess(7, 'node', { exe: '/usr/bin/node' }),
  });

describe('baseline rules people write (issue 14, item 2)', () => {
  it('ranges: inclusive, low first, within 0-65535; anything else is no range', () => {
    expect(parsePortRange('8000-8999')).toEqual({ from: 8000, to: 8999 });
    expect(parsePortRange('80-80')).toEqual({ from: 80, to: 80 });
    for (const bad of ['', '80', '9000-8000', '1-65536', ' 1-2', '1-2 ', '-1-5', '1--5', '0x10-0x20', '1.5-3']) expect(parsePortRange(bad), bad).toBeNull();
    expect(ruleMatches({ ports: '8000-8999' }, node(8000))).toBe(true);
    expect(ruleMatches({ ports: '8000-8999' }, node(8999))).toBe(true);
    expect(ruleMatches({ ports: '8000-8999' }, node(9000))).toBe(false);
    // a range that does not parse (it can only come from a caller that skipped the schema) matches nothing
    expect(ruleMatches({ ports: 'all' }, node(9000))).toBe(false);
  });

  it('"any port for this executable", scoped by exposure: node on loopback, any port', () => {
    const rule = ruleWith(node(41234), { ports: 'any', exposure: 'this' });
    expect(rule).toEqual({ protocol: 'tcp', exposure: 'loopback', exe: '/usr/bin/node' });
    expect(isExpected([rule!], node(5173))).toBe(true);
    expect(isExpected([rule!], node(5173, '0.0.0.0'))).toBe(false);
    const python = makeSocket({ localPort: 5173, process: makeProcess(8, 'python3', { exe: '/usr/bin/python3' }) });
    expect(isExpected([rule!], python)).toBe(false);
    expect(ruleWith(node(41234), { ports: 'any', exposure: 'any' })).toEqual({ protocol: 'tcp', exe: '/usr/bin/node' });
    expect(ruleWith(node(8080), { ports: '8000-8999', exposure: 'this' })).toEqual({
      protocol: 'tcp',
      ports: '8000-8999',
      exposure: 'loopback',
      exe: '/usr/bin/node',
    });
    expect(ruleWith(node(8080), { ports: 'this', exposure: 'any' })).toEqual({ protocol: 'tcp', port: 8080, process: 'node' });
    expect(ruleWith(node(8080), { ports: 'this', exposure: 'this' })).toEqual({ protocol: 'tcp', port: 8080, exposure: 'loopback', process: 'node' });
  });

  it('refuses choices that do not hold the port or would expect every listener of a hidden owner', () => {
    expect(ruleWith(node(7000), { ports: '8000-8999', exposure: 'this' })).toBeNull();
    expect(ruleWith(node(7000), { ports: 'lots', exposure: 'this' })).toBeNull();
    expect(ruleWith(makeSocket({ process: null, ownerHidden: true }), { ports: 'any', exposure: 'any' })).toBeNull();
    // without a readable executable, the name
    expect(ruleWith(makeSocket({ process: makeProcess(9, 'java', { exe: null }) }), { ports: 'any', exposure: 'any' })).toEqual({
      protocol: 'tcp',
      process: 'java',
    });
  });

  it('the API and the file check rules the same way', () => {
    expect(BaselineRuleSchema.safeParse({ ports: '8000-8999' }).success).toBe(true);
    for (const bad of [{}, { note: 'x' }, { ports: '0-65535' }, { port: 1, ports: '1-2' }, { ports: 'abc' }, { portz: 1 }, { port: 70000 }]) {
      expect(BaselineRuleSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(BaselineRuleSchema.safeParse({ ports: '0-65535', exe: '/usr/bin/node' }).success).toBe(true);
  });

  it('says a rule in words, and finds the rule that expects a listener (what un-mark removes)', () => {
    expect(describeRule({ exe: '/usr/bin/node', exposure: 'loopback' })).toBe('/usr/bin/node, any port, loopback');
    expect(describeRule({ process: 'nginx', protocol: 'tcp', port: 80, exposure: 'all' })).toBe('nginx, tcp port 80, all interfaces');
    expect(describeRule({ ports: '8000-8999', protocol: 'tcp' })).toBe('any process, tcp ports 8000-8999, any exposure');
    const rules = [{ port: 22 }, { exe: '/usr/bin/node' }];
    expect(ruleExpecting(rules, node(3000))).toBe(rules[1]);
    expect(ruleExpecting(rules, makeSocket({ localPort: 9 }))).toBeNull();
  });
});
