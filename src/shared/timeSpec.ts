/**
 * Times as a person gives them to `portwatch history --since/--until` (and a History view's custom range):
 * a span back from now (`90s`, `30m`, `1h`, `7d`, `2w`), `now`, or a date and time (`2026-12-01T10:00`,
 * `2026-12-01 10:00:30`, `2026-12-01`: local time; with `Z` or `+02:00`: that offset). Pure; errors as values.
 */

export type TimeSpec = { ok: true; at: number } | { ok: false; message: string };

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
const SPAN = /^(\d{1,6})([smhdw])$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?(Z|[+-]\d{2}:\d{2})?$/;

/** `text` as epoch ms, relative to `now`; a message saying what is accepted otherwise. */
export function parseTimeSpec(text: string, now: number): TimeSpec {
  const t = text.trim();
  const bad: TimeSpec = {
    ok: false,
    message: `'${t.slice(0, 40)}' is not a time: give a span back from now (30m, 1h, 7d, 2w), now, or a date and time (2026-12-01T10:00, local; Z or +01:00 for an offset)`,
  };
  if (t === 'now') return { ok: true, at: now };
  const span = SPAN.exec(t);
  if (span) return { ok: true, at: now - Number(span[1]) * (UNITS[span[2] as string] as number) };
  const m = DATE_TIME.exec(t);
  if (!m) return bad;
  const [, y, mo, d, h = '00', mi = '00', s = '00', ms = '0', zone] = m;
  const parts = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s), Number(ms.padEnd(3, '0'))] as const;
  const [year, month, day, hour, minute, second, milli] = parts;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return bad;
  let at: number;
  if (zone === undefined) {
    const local = new Date(year, month - 1, day, hour, minute, second, milli);
    if (local.getDate() !== day || local.getMonth() !== month - 1) return bad; // 2026-02-30
    at = local.getTime();
  } else {
    const utc = Date.UTC(year, month - 1, day, hour, minute, second, milli);
    if (new Date(utc).getUTCDate() !== day) return bad;
    const offset = zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
    at = utc - offset;
  }
  return Number.isFinite(at) ? { ok: true, at } : bad;
}
