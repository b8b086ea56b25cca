import { describe, expect, it } from 'vitest';
import { parseTimeSpec } from '../../src/shared/timeSpec';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

describe('parseTimeSpec', () => {
  it('reads spans back from now, now, and dates with and without an offset', () => {
    const at = (t: string): number | string => {
      const r = parseTimeSpec(t, NOW);
      return r.ok ? r.at : r.message;
    };
    expect(at('90s')).toBe(NOW - 90_000);
    expect(at('30m')).toBe(NOW - 1_800_000);
    expect(at('1h')).toBe(NOW - 3_600_000);
    expect(at('7d')).toBe(NOW - 7 * 86_400_000);
    expect(at('2w')).toBe(NOW - 14 * 86_400_000);
    expect(at('now')).toBe(NOW);
    expect(at('2026-12-01T10:00Z')).toBe(Date.UTC(2026, 11, 1, 10, 0));
    expect(at('2026-12-01T10:00:30.5+02:00')).toBe(Date.UTC(2026, 11, 1, 8, 0, 30, 500));
    expect(at('2026-12-01T10:00')).toBe(new Date(2026, 11, 1, 10, 0).getTime()); // local
    expect(at('2026-12-01 10:00:05')).toBe(new Date(2026, 11, 1, 10, 0, 5).getTime());
    expect(at('2026-12-01')).toBe(new Date(2026, 11, 1).getTime());
  });

  it('refuses what is not a time with a message that says what is', () => {
    for (const bad of ['', 'yesterday', '1x', '-1h', '1.5h', '2026-13-01', '2026-02-30T10:00', '2026-12-01T24:00', '2026-12-01T10:00+2', '10:00', '1h ago']) {
      const r = parseTimeSpec(bad, NOW);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/is not a time: give a span back from now \(30m, 1h, 7d, 2w\), now, or a date and time/);
    }
  });
});
