import { lex, type CompareOp, type Token } from './lexer';
import { wordTerm, type Fail, type ParseEnv } from './fields';
import { ssPredicate, SS_KEYWORDS, WORD_OPS, type SsKeyword } from './ss';
import { quote, STATE_NAMES_HELP, statesNamed, type QueryNode, type StateSet } from './terms';

/**
 * The grammar, loosest first (ss's precedence: or, then and, then not):
 *   query   := or EOF
 *   or      := and (('or' | '|' | '||') and)*
 *   and     := unary (('and' | '&' | '&&')? unary)*          juxtaposition is and
 *   unary   := ('not' | '!' | '-(') unary | primary
 *   primary := '(' or ')' | states | ss | word
 *   states  := (('state' | 'exclude') NAME)+                  ss's state filter: one set
 *   ss      := ('sport' | 'dport' | 'src' | 'dst' | 'dev') OP? VALUE
 *   word    := field:value[,value...] | -word | displayed form | keyword | free text
 * Limits: MAX_LENGTH characters, MAX_DEPTH levels of parentheses and negations; beyond them a message, never a
 * deep recursion.
 */

export const MAX_LENGTH = 2000;
export const MAX_DEPTH = 64;

class ParseError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

const describe = (t: Token): string => (t.kind === 'eof' ? 'the end of the query' : quote(t.text));
const isKeyword = (t: Token, ...words: string[]): boolean => t.kind === 'word' && !t.quoted && words.includes(t.text.toLowerCase());

class Parser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly env: ParseEnv,
    private readonly input: string,
  ) {}

  private peek(k = 0): Token {
    return this.tokens[Math.min(this.i + k, this.tokens.length - 1)] as Token;
  }
  private next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }
  private fail(message: string, position: number): never {
    throw new ParseError(message, position);
  }
  private startsTerm(t: Token): boolean {
    return t.kind === 'word' || t.kind === 'lparen' || t.kind === 'not';
  }

  query(): QueryNode {
    if (this.peek().kind === 'eof') return { kind: 'and', items: [] };
    const root = this.or(0);
    const t = this.peek();
    if (t.kind === 'rparen') this.fail('unexpected ")": there is no "(" before it to close', t.at);
    if (t.kind !== 'eof') this.fail(`expected "or", "and" or a term, not ${describe(t)}`, t.at);
    return root;
  }

  private or(depth: number): QueryNode {
    const items = [this.and(depth)];
    while (this.peek().kind === 'or') {
      const op = this.next();
      if (!this.startsTerm(this.peek())) this.fail(`expected a term after ${quote(op.text)}, not ${describe(this.peek())}`, this.peek().at);
      items.push(this.and(depth));
    }
    return items.length === 1 ? (items[0] as QueryNode) : { kind: 'or', items };
  }

  private and(depth: number): QueryNode {
    const items = [this.unary(depth)];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'and') {
        this.next();
        if (!this.startsTerm(this.peek())) this.fail(`expected a term after ${quote(t.text)}, not ${describe(this.peek())}`, this.peek().at);
      } else if (!this.startsTerm(t)) break;
      items.push(this.unary(depth));
    }
    return items.length === 1 ? (items[0] as QueryNode) : { kind: 'and', items };
  }

  private unary(depth: number): QueryNode {
    const t = this.peek();
    if (t.kind === 'not') {
      if (depth >= MAX_DEPTH) this.fail(`nested too deep: at most ${MAX_DEPTH} levels of parentheses and negations`, t.at);
      this.next();
      if (!this.startsTerm(this.peek())) this.fail(`expected a term after ${quote(t.text)}, not ${describe(this.peek())}`, this.peek().at);
      return { kind: 'not', item: this.unary(depth + 1) };
    }
    return this.primary(depth);
  }

  private primary(depth: number): QueryNode {
    const t = this.peek();
    switch (t.kind) {
      case 'lparen': {
        if (depth >= MAX_DEPTH) this.fail(`nested too deep: at most ${MAX_DEPTH} levels of parentheses and negations`, t.at);
        this.next();
        if (this.peek().kind === 'rparen') this.fail('expected a term inside "( )"', this.peek().at);
        const inner = this.or(depth + 1);
        const close = this.peek();
        if (close.kind !== 'rparen') this.fail(`expected ")" to close the "(" at column ${t.at + 1}, not ${describe(close)}`, close.at);
        this.next();
        return inner;
      }
      case 'rparen':
        return this.fail('unexpected ")": there is no "(" before it to close', t.at);
      case 'or':
      case 'and':
        return this.fail(`expected a term before ${quote(t.text)}`, t.at);
      case 'op':
        return this.fail(`unexpected ${quote(t.text)}: an operator goes after sport, dport, src, dst or dev`, t.at);
      case 'eof':
        return this.fail('expected a term', t.at);
      case 'not':
        return this.unary(depth);
      case 'word': {
        if (isKeyword(t, 'state', 'exclude')) return this.states();
        if (isKeyword(t, ...SS_KEYWORDS)) return this.ss();
        this.next();
        const exact = !t.quoted && t.end - t.at === t.text.length && this.input.slice(t.at, t.end) === t.text;
        const n = wordTerm(t.text, t.at, exact, this.env);
        if ('message' in n) this.fail(n.message, n.position);
        return n;
      }
    }
  }

  /** `state established state syn-sent exclude time-wait`: one set, as ss builds it. */
  private states(): QueryNode {
    const at = this.peek().at;
    let set: StateSet | null = null;
    while (isKeyword(this.peek(), 'state', 'exclude')) {
      const kw = this.next();
      const v = this.peek();
      if (v.kind !== 'word') this.fail(`expected a state after ${quote(kw.text)} (${STATE_NAMES_HELP}), not ${describe(v)}`, v.at);
      this.next();
      const named = statesNamed(v.text);
      if (!named) this.fail(`${quote(v.text)} is not a state (${STATE_NAMES_HELP})`, v.at);
      const exclude = kw.text.toLowerCase() === 'exclude';
      // ss: the first `state` starts from nothing, the first `exclude` from every state
      set ??= exclude ? { ...(statesNamed('all') as StateSet) } : { states: new Set(), listening: false };
      if (exclude) {
        for (const s of named.states) set.states.delete(s);
        if (named.listening) set.listening = false;
      } else {
        for (const s of named.states) set.states.add(s);
        set.listening ||= named.listening;
      }
    }
    const s = set as StateSet;
    return { kind: 'term', term: { field: 'state', states: s.states, listening: s.listening }, at };
  }

  /** `sport = :22`, `dport gt :1024`, `dst 10.0.0.1`, `dev lo`. */
  private ss(): QueryNode {
    const kw = this.next();
    const keyword = kw.text.toLowerCase() as SsKeyword;
    let op: CompareOp = '=';
    const o = this.peek();
    if (o.kind === 'op') {
      op = o.op;
      this.next();
    } else if (o.kind === 'word' && !o.quoted && WORD_OPS[o.text.toLowerCase()] && this.peek(1).kind === 'word') {
      op = WORD_OPS[o.text.toLowerCase()] as CompareOp;
      this.next();
    }
    const v = this.peek();
    const wants =
      keyword === 'sport' || keyword === 'dport'
        ? 'a port like :22 or :ssh'
        : keyword === 'dev'
          ? 'a device like lo'
          : 'an address like 10.0.0.1, 10.0.0.0/8 or [::1]:443';
    if (v.kind !== 'word') this.fail(`expected ${wants} after "${kw.text}${o.kind === 'op' ? ` ${o.text}` : ''}", not ${describe(v)}`, v.at);
    this.next();
    const n = ssPredicate(keyword, op, v.text, v.at, this.env);
    if (typeof n === 'string') this.fail(`${kw.text}: ${n}`, v.at);
    return n;
  }
}

export type ParseOutcome = { ok: true; root: QueryNode } | ({ ok: false } & Fail);

/** Parses a query into its tree; every failure is a message with a character index, never an exception. */
export function parseTree(input: unknown, env: ParseEnv): ParseOutcome {
  if (typeof input !== 'string') return { ok: false, message: 'the query must be text', position: 0 };
  if (input.length > MAX_LENGTH) {
    return { ok: false, message: `the query is too long (${MAX_LENGTH.toLocaleString('en-US')} characters at most)`, position: MAX_LENGTH };
  }
  const lexed = lex(input);
  if (!lexed.ok) return lexed;
  try {
    return { ok: true, root: new Parser(lexed.tokens, env, input).query() };
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, message: e.message, position: e.position };
    // a defect of ours, never the user's input: still an answer, not an exception
    return { ok: false, message: `the query could not be read (${e instanceof Error ? e.message : String(e)})`, position: 0 };
  }
}
