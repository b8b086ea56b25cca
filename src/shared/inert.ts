/**
 * Untrusted text made safe to print, as lsof prints names: another user chooses their process's name and
 * command line, and a terminal acts on the control characters in them (ESC[2K plus a carriage return erases
 * a row and prints one of theirs; a bidi override reorders what follows). Pure: no node, electron or DOM.
 */

/**
 * Characters a terminal acts on instead of showing: C0 controls, DEL, C1 controls (U+0080-U+009F: 8-bit CSI
 * and OSC among them), every invisible formatting character (Unicode category Cf: the bidi embeddings,
 * overrides and isolates U+202A-U+202E and U+2066-U+2069, the marks U+200E/U+200F/U+061C, zero-width
 * characters, tag characters), the line and paragraph separators, and lone surrogates.
 */
const UNSAFE_OR_BACKSLASH = /[\\\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

const NAMED: Record<string, string> = { '\\': '\\\\', '\x1b': '\\e', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.codePointAt(0) as number;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/**
 * Text for a terminal: ESC as `\e`, newline, CR and tab as `\n` `\r` `\t`, other C0 and C1 controls and DEL
 * as `\xNN`, invisible formatting characters (bidi controls, zero-width ones) as `\u{NNNN}`, and a backslash
 * as `\\`, so what is printed maps back to exactly one string. Use it once, where a string from the system
 * (process name, command line, user, path, address) meets the terminal.
 */
export function inert(text: string): string {
  return text.replace(UNSAFE_OR_BACKSLASH, escapeOne);
}

/** What JSON.stringify leaves raw that a terminal acts on: DEL, C1, invisible formatting, line separators. */
const JSON_RAW = /[\x7f-\x9f\p{Cf}\u2028\u2029]/gu;

/**
 * JSON text that is also safe on a terminal: JSON.stringify escapes C0 controls and lone surrogates, but leaves
 * DEL, C1 controls, bidi and other formatting characters and U+2028/U+2029 raw. This writes those as \uXXXX
 * too (a pair for characters beyond the BMP), which parses back to the very same strings. Only for the output
 * of JSON.stringify: outside strings JSON holds none of these characters.
 */
export function inertJson(json: string): string {
  return json.replace(JSON_RAW, (c) => {
    let out = '';
    for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}
