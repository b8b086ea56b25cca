import { describe, expect, it } from 'vitest';
import { describeMute, isMuted, LEARNING_CHOICES, learningText, severityOf, shouldNotify, visibleAlerts } from '../../src/shared/alerts';
import type { Alert, AlertSeverity } from '../../src/shared/api';

const alert = (id: number, severity: AlertSeverity, notify = severity === 'high'): Alert => ({
  id,
  at: id,
  severity,
  socketId: `tcp|x|${id}`,
  protocol: 'tcp',
  localAddress: severity === 'high' ? '0.0.0.0' : severity === 'medium' ? '10.0.0.2' : '127.0.0.1',
  localPort: 1000 + id,
  exposure: severity === 'high' ? 'all' : severity === 'medium' ? 'interface' : 'loopback',
  process: 'python3',
  summary: 'python3 sneaky.py',
  commandLine: 'python3 sneaky.py',
  pid: 9,
  risk: null,
  notify,
  message: '',
});

describe('alert severity, visibility and notification (issue 14, item 1)', () => {
  it('severity follows exposure, and only high ones the engine marked notify (Electron and web alike)', () => {
    expect([severityOf('all'), severityOf('interface'), severityOf('loopback')]).toEqual(['high', 'medium', 'low']);
    expect([
      shouldNotify(alert(1, 'high')),
      shouldNotify(alert(2, 'high', false)),
      shouldNotify(alert(3, 'medium', true)),
      shouldNotify(alert(4, 'low', true)),
    ]).toEqual([true, false, false, false]);
  });

  it('low alerts are shown only when loopback is included; cleared ones never', () => {
    const list = [alert(1, 'high'), alert(2, 'low'), alert(3, 'medium'), alert(4, 'low')];
    expect(visibleAlerts(list, { includeLoopback: false, clearedThrough: 0 }).map((a) => a.id)).toEqual([1, 3]);
    expect(visibleAlerts(list, { includeLoopback: true, clearedThrough: 0 }).map((a) => a.id)).toEqual([1, 2, 3, 4]);
    expect(visibleAlerts(list, { includeLoopback: true, clearedThrough: 2 }).map((a) => a.id)).toEqual([3, 4]);
  });

  it('a mute holds a process summary or a port, and says which', () => {
    expect(isMuted([{ process: 'python3 sneaky.py' }], { summary: 'python3 sneaky.py', localPort: 1 })).toBe(true);
    expect(isMuted([{ process: 'python3 sneaky.py' }], { summary: 'python3 other.py', localPort: 1 })).toBe(false);
    expect(isMuted([{ port: 8080 }], { summary: null, localPort: 8080 })).toBe(true);
    expect(isMuted([], { summary: 'x', localPort: 8080 })).toBe(false);
    expect([describeMute({ port: 8080 }), describeMute({ process: 'node server.js' })]).toEqual(['port 8080', 'node server.js']);
  });
});

describe('the learning period of first-contact alerts, as the menu says it', () => {
  it('says hours below a day and whole days and weeks above; the choices are an hour, a day, three days, a week', () => {
    expect(LEARNING_CHOICES.map(learningText)).toEqual(['1 h', '1 day', '3 days', '1 week']);
    expect(learningText(5 * 3_600_000)).toBe('5 h');
    expect(learningText(36 * 3_600_000)).toBe('36 h');
    expect(learningText(14 * 86_400_000)).toBe('2 weeks');
    expect(learningText(365 * 86_400_000)).toBe('365 days');
  });
});
