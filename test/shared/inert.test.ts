import { describe, expect, it } from 'vitest';
import { inert, inertJson } from '../../src/shared/inert';

/** Reads inert()'s output back: the escape must name exactly one string. */
function unescape(text: string): string {
  return text.replace(/\\(?:e|n|r|t|\\|x([0-9a-f]{2})|u\{([0-9a-f]+)\})/g, (m, x?: string, u?: string) => {
    if (x) return String.fromCharCode(parseInt(x, 16));
    if (u) return String.fromCodePoint(parseInt(u, 16));
    return { '\\e': '\x1b', '\\n': '\n', '\\r': '\r', '\\t': '\t', '\\\\': '\\' }[m] as string;
  });
}

const PRINTS_AS_IS = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]*$/u;

describe('inert: untrusted text for a terminal', () => {
  it('escapes as lsof does', () => {
    expect(inert('\x1b[2K\rsshd')).toBe('\\e[2K\\rsshd');
    expect(inert('a\nb\tc')).toBe('a\\nb\\tc');
    expect(inert('\x00\x07\x08\x7f\x80\x9b\x9f')).toBe('\\x00\\x07\\x08\\x7f\\x80\\x9b\\x9f');
    expect(inert('C:\\x1b')).toBe('C:\\\\x1b'); // a literal backslash, so the text above is not taken for ESC
  });

  it('escapes bidi controls and other invisible formatting, which reorder or hide what a terminal shows', () => {
    for (const c of [
      '\u202a',
      '\u202b',
      '\u202c',
      '\u202d',
      '\u202e',
      '\u2066',
      '\u2067',
      '\u2068',
      '\u2069',
      '\u200b',
      '\u200e',
      '\u200f',
      '\u061c',
      '\ufeff',
      '\u2028',
      '\u2029',
    ]) {
      expect(inert(`x${c}y`)).toBe(`x\\u{${c.codePointAt(0)?.toString(16)}}y`);
    }
    expect(inert('\u{e0041}')).toBe('\\u{e0041}'); // a tag character: invisible
    expect(inert('\ud800')).toBe('\\u{d800}'); // a lone surrogate
    expect(inert('\xad')).toBe('\\xad'); // soft hyphen
  });

  it('leaves printable text alone, Unicode included', () => {
    for (const s of ['nginx: worker process', 'python3.11', '127.0.0.1:80', '[::1]:443', 'Überwachung', 'дроид', '中文', 'العربية', '🦊', 'a~b'])
      expect(inert(s)).toBe(s);
  });

  it('fuzz: the output prints as it is, and maps back to exactly the input', () => {
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
    const alphabet = [
      'a',
      ' ',
      '\\',
      'e',
      'x',
      '{',
      'u',
      '\x1b',
      '\n',
      '\r',
      '\t',
      '\x00',
      '\x7f',
      '\x9b',
      '\u202e',
      '\u2066',
      '\u200d',
      '\u2028',
      '\ud83e',
      '\udd8a',
      'é',
      '中',
    ];
    for (let i = 0; i < 5000; i++) {
      const s = Array.from({ length: rand(12) }, () => alphabet[rand(alphabet.length)]).join('');
      const out = inert(s);
      expect(out, JSON.stringify(s)).toMatch(PRINTS_AS_IS);
      expect(unescape(out), JSON.stringify(s)).toBe(s);
    }
  });

  it('inertJson: JSON that parses to the same value and holds nothing a terminal acts on', () => {
    const value = { name: 'a\x1b\x7f\x9b\u202e\u2069\u2028\u2029\u{e0041}\ud800b', ok: 'plain "quoted" \\ text' };
    const json = inertJson(JSON.stringify(value));
    expect(json).toMatch(PRINTS_AS_IS);
    expect(JSON.parse(json)).toEqual(value);
    expect(json).toBe('{"name":"a\\u001b\\u007f\\u009b\\u202e\\u2069\\u2028\\u2029\\udb40\\udc41\\ud800b","ok":"plain \\"quoted\\" \\\\ text"}');
  });
});
