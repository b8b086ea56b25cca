/**
 * The filter language's tokens. Positions are character indexes into the query as typed, for error messages.
 *
 * - `(` `)`, also as `\(` `\)` (what a shell line leaves when pasted); single quotes are a shell's and only
 *   group (`'( dport = :smtp )'`): they split words and must pair;
 * - `|` `||` `or`, `&` `&&` `and`, `!` `not` (the words only unquoted);
 * - `= == != < <= > >=` at the start of a token, or right after an ss keyword (`sport=:22`); elsewhere they are
 *   part of a word (`--port=80` is free text);
 * - double quotes keep spaces and everything else literal inside a word (`"daemon off"`, `proc:"my app"`);
 * - `-(` negates a group.
 */

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Token =
  | { kind: 'word'; text: string; at: number; end: number; quoted: boolean }
  | { kind: 'lparen' | 'rparen' | 'or' | 'and' | 'not'; at: number; end: number; text: string }
  | { kind: 'op'; op: CompareOp; at: number; end: number; text: string }
  | { kind: 'eof'; at: number; end: number; text: '' };

export type LexResult = { ok: true; tokens: Token[] } | { ok: false; message: string; position: number };

/** The words after which an operator may follow with no space (`sport=:22`, `dport!=:443`). */
const SS_OPERAND_KEYWORDS = /^(sport|dport|src|dst|dev)$/i;
const SPACE = /\s/;
/** Characters that end a word (outside double quotes). */
const BREAK = new Set(['(', ')', "'", '|', '&']);

function readOp(input: string, i: number): { op: CompareOp; len: number } | null {
  const c = input[i];
  const d = input[i + 1];
  if (c === '=') return { op: '=', len: d === '=' ? 2 : 1 };
  if (c === '!' && d === '=') return { op: '!=', len: 2 };
  if (c === '<') return d === '=' ? { op: '<=', len: 2 } : { op: '<', len: 1 };
  if (c === '>') return d === '=' ? { op: '>=', len: 2 } : { op: '>', len: 1 };
  return null;
}

/** Splits a query into tokens; never throws. */
export function lex(input: string): LexResult {
  const tokens: Token[] = [];
  let singleQuoteAt = -1;
  let i = 0;
  const n = input.length;
  const push = (kind: 'lparen' | 'rparen' | 'or' | 'and' | 'not', at: number, end: number): void => {
    tokens.push({ kind, at, end, text: input.slice(at, end) });
  };
  while (i < n) {
    const c = input[i] as string;
    if (SPACE.test(c)) {
      i++;
      continue;
    }
    if (c === "'") {
      singleQuoteAt = singleQuoteAt < 0 ? i : -1;
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      push(c === '(' ? 'lparen' : 'rparen', i, i + 1);
      i++;
      continue;
    }
    if (c === '\\' && (input[i + 1] === '(' || input[i + 1] === ')')) {
      push(input[i + 1] === '(' ? 'lparen' : 'rparen', i, i + 2);
      i += 2;
      continue;
    }
    if (c === '|' || c === '&') {
      const len = input[i + 1] === c ? 2 : 1;
      push(c === '|' ? 'or' : 'and', i, i + len);
      i += len;
      continue;
    }
    const op = readOp(input, i);
    if (op) {
      tokens.push({ kind: 'op', op: op.op, at: i, end: i + op.len, text: input.slice(i, i + op.len) });
      i += op.len;
      continue;
    }
    if (c === '!') {
      push('not', i, i + 1);
      i++;
      continue;
    }
    if (c === '-' && input[i + 1] === '(') {
      push('not', i, i + 1);
      i++;
      continue;
    }
    // a word
    const at = i;
    let text = '';
    let inQuote = false;
    let quoted = false;
    while (i < n) {
      const ch = input[i] as string;
      if (ch === '"') {
        inQuote = !inQuote;
        quoted = true;
        i++;
        continue;
      }
      if (!inQuote) {
        if (SPACE.test(ch) || BREAK.has(ch)) break;
        if (ch === '\\' && (input[i + 1] === '(' || input[i + 1] === ')')) break;
        if (!quoted && SS_OPERAND_KEYWORDS.test(text) && readOp(input, i)) break;
        if (ch === '\\' && i + 1 < n) {
          text += input[i + 1];
          i += 2;
          continue;
        }
      }
      text += ch;
      i++;
    }
    if (inQuote) return { ok: false, message: 'a quote is not closed: expected a closing "', position: at };
    if (!quoted) {
      const lower = text.toLowerCase();
      if (lower === 'or' || lower === 'and' || lower === 'not') {
        push(lower, at, i);
        continue;
      }
    }
    tokens.push({ kind: 'word', text, at, end: i, quoted });
  }
  if (singleQuoteAt >= 0) return { ok: false, message: "a single quote is not closed: expected a closing '", position: singleQuoteAt };
  tokens.push({ kind: 'eof', at: n, end: n, text: '' });
  return { ok: true, tokens };
}
