import { describe, expect, it } from 'vitest';
import { planKill, planLines, planListeners, summariseConnections } from '../../src/shared/killPlan';
import { makeProcess, makeSocket } from '../helpers/sockets';

const node = makeProcess(40, 'node', { cmdline: ['node', '/srv/app/server.js', '--port', '3000'], user: 'alice' });

function mine(over: Parameters<typeof makeSocket>[0]) {
  return makeSocket({ pid: 40, pids: [40], process: node, ...over });
}

describe('kill plan text', () => {
  const listeners = [3000, 3001, 3002, 9229, 5173, 8080].map((port, i) =>
    mine({ id: `l${port}`, localPort: port, localAddress: i === 0 ? '0.0.0.0' : '127.0.0.1' }),
  );
  const connections = Array.from({ length: 12 }, (_, i) =>
    mine({
      id: `c${i}`,
      listening: false,
      localPort: 3000,
      remoteAddress: '10.0.0.9',
      remotePort: 50000 + i,
      state: i < 9 ? 'ESTABLISHED' : 'CLOSE_WAIT',
    }),
  );
  const plan = planKill(40, [...listeners, ...connections, makeSocket({ id: 'other', localPort: 22, pid: 1, pids: [1] })]);

  it('lists every listener, by port, whatever port was asked about', () => {
    expect(planListeners(plan)).toEqual([
      'tcp 0.0.0.0:3000',
      'tcp 127.0.0.1:3001',
      'tcp 127.0.0.1:3002',
      'tcp 127.0.0.1:5173',
      'tcp 127.0.0.1:8080',
      'tcp 127.0.0.1:9229',
    ]);
  });

  it('summarises many connections: the first few, the rest counted by state', () => {
    const c = summariseConnections(plan);
    expect(c).toMatchObject({ total: 12, more: 7, byState: '9 ESTABLISHED, 3 CLOSE_WAIT' });
    expect(c.shown).toHaveLength(5);
    expect(c.shown[0]).toBe('tcp 127.0.0.1:3000 -> 10.0.0.9:50000 ESTABLISHED');
  });

  it('says the command line, the listeners and the connections, in lines', () => {
    expect(planLines(plan)).toEqual([
      'command line: node /srv/app/server.js --port 3000',
      `listens on:   6 sockets: ${planListeners(plan).join(', ')}`,
      'connections:  12 (9 ESTABLISHED, 3 CLOSE_WAIT)',
      ...summariseConnections(plan).shown.map((s) => `  ${s}`),
      '  ... and 7 more',
    ]);
    expect(planLines(planKill(40, []))).toEqual(['listens on:   nothing', 'connections:  none']);
    // workers it started that hold its listener too (nginx's master and workers)
    const shared = planKill(40, [mine({ id: 's', pids: [40, 41, 42] })]);
    expect(planLines(shared)).toContain('also held by: pids 41, 42');
  });
});
