// SCIM filter and attribute-path parser (RFC 7644 §3.4.2.2, §3.5.2 PATH). Produces an AST; compiling
// it to SQL is filter.sql.ts, evaluating it on one resource's multi-valued attribute is filter.eval.ts.
// Lenient where real clients are: operators and attribute names in any case, and unquoted values
// (`userName sw O`, `meta.created gt 2015-10-10T14:38:21Z`) read as strings.
import { badRequest } from './scim.errors.ts';

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type Value = string | number | boolean | null;

export interface AttrPath {
  /** Schema URN prefix when given, e.g. the enterprise extension. */
  uri?: string;
  name: string;
  sub?: string;
}

export type Filter =
  | { op: 'and' | 'or'; left: Filter; right: Filter }
  | { op: 'not'; filter: Filter }
  | { op: 'pr'; attr: AttrPath }
  | { op: CompareOp; attr: AttrPath; value: Value }
  /** `emails[type eq "work" and value co "@x"]`: a filter over the elements of a multi-valued attribute. */
  | { op: 'has'; attr: AttrPath; filter: Filter };

/** A PATCH path: attrPath, optionally with a value filter and a sub-attribute after it. */
export interface PatchPath {
  attr: AttrPath;
  filter?: Filter;
  /** sub-attribute after the filter: `emails[type eq "work"].value` */
  subAfterFilter?: string;
}

const COMPARE = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);

type Tok = { t: 'word'; v: string } | { t: 'str'; v: string } | { t: '(' | ')' | '[' | ']' } | { t: 'end' };

function tokenize(input: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === '[' || c === ']') {
      out.push({ t: c });
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let esc = false;
      for (; j < input.length; j++) {
        if (esc) esc = false;
        else if (input[j] === '\\') esc = true;
        else if (input[j] === '"') break;
      }
      if (j >= input.length) throw badRequest('Unterminated string in filter', 'invalidFilter');
      let v: string;
      try {
        v = JSON.parse(input.slice(i, j + 1)) as string;
      } catch {
        throw badRequest('Invalid string literal in filter', 'invalidFilter');
      }
      // Escaped as \u0000: PostgreSQL cannot take it as text (a 500 there), and no value stored has one
      // (bodies with it are refused), so it is refused here on both databases alike.
      if (v.includes('\u0000')) throw badRequest('A value in a filter may not contain the NUL character (U+0000)', 'invalidFilter');
      out.push({ t: 'str', v });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < input.length && !' \t\n\r()[]"'.includes(input[j])) j++;
    out.push({ t: 'word', v: input.slice(i, j) });
    i = j;
  }
  out.push({ t: 'end' });
  return out;
}

/** Splits `urn:…:User:department.sub` / `name.familyName` into uri, name, sub. */
export function parseAttrPath(raw: string): AttrPath {
  let rest = raw;
  let uri: string | undefined;
  if (/^urn:/i.test(raw)) {
    const lastColon = raw.lastIndexOf(':');
    uri = raw.slice(0, lastColon);
    rest = raw.slice(lastColon + 1);
    if (!rest) throw badRequest(`Invalid attribute path "${raw}"`, 'invalidPath');
  }
  const parts = rest.split('.');
  if (parts.length > 2 || parts.some((p) => !/^[A-Za-z$][\w$-]*$/.test(p))) throw badRequest(`Invalid attribute path "${raw}"`, 'invalidPath');
  const out: AttrPath = uri ? { uri, name: parts[0] } : { name: parts[0] };
  if (parts.length === 2) out.sub = parts[1];
  return out;
}

class Parser {
  private pos = 0;
  constructor(private readonly toks: Tok[]) {}
  peek(): Tok {
    return this.toks[this.pos];
  }
  next(): Tok {
    return this.toks[this.pos++];
  }
  word(): string | null {
    const t = this.peek();
    return t.t === 'word' ? t.v.toLowerCase() : null;
  }

  parseOr(inValuePath: boolean): Filter {
    let left = this.parseAnd(inValuePath);
    while (this.word() === 'or') {
      this.next();
      left = { op: 'or', left, right: this.parseAnd(inValuePath) };
    }
    return left;
  }
  parseAnd(inValuePath: boolean): Filter {
    let left = this.parseUnary(inValuePath);
    while (this.word() === 'and') {
      this.next();
      left = { op: 'and', left, right: this.parseUnary(inValuePath) };
    }
    return left;
  }
  parseUnary(inValuePath: boolean): Filter {
    if (this.word() === 'not') {
      this.next();
      const t = this.peek();
      if (t.t !== '(') throw badRequest('"not" must be followed by a parenthesised filter', 'invalidFilter');
      return { op: 'not', filter: this.parseUnary(inValuePath) };
    }
    const t = this.peek();
    if (t.t === '(') {
      this.next();
      const f = this.parseOr(inValuePath);
      if (this.next().t !== ')') throw badRequest('Missing ")" in filter', 'invalidFilter');
      return f;
    }
    return this.parseComparison(inValuePath);
  }
  parseComparison(inValuePath: boolean): Filter {
    const t = this.next();
    if (t.t !== 'word') throw badRequest('Expected an attribute name in filter', 'invalidFilter');
    const attr = parseAttrPathForFilter(t.v);
    if (this.peek().t === '[') {
      if (inValuePath) throw badRequest('Nested value filters are not allowed', 'invalidFilter');
      this.next();
      const inner = this.parseOr(true);
      if (this.next().t !== ']') throw badRequest('Missing "]" in filter', 'invalidFilter');
      let f: Filter = { op: 'has', attr, filter: inner };
      // `emails[type eq "work"].value eq "x"` is not RFC filter syntax but some clients send it.
      const after = this.peek();
      if (after.t === 'word' && after.v.startsWith('.')) {
        this.next();
        const cmp = this.parseOperatorAndValue({ name: after.v.slice(1) });
        f = { op: 'has', attr, filter: { op: 'and', left: inner, right: cmp } };
      }
      return f;
    }
    return this.parseOperatorAndValue(attr);
  }
  parseOperatorAndValue(attr: AttrPath): Filter {
    const opTok = this.next();
    const op = opTok.t === 'word' ? opTok.v.toLowerCase() : '';
    if (op === 'pr') return { op: 'pr', attr };
    if (!COMPARE.has(op)) throw badRequest(`Unknown filter operator "${opTok.t === 'word' ? opTok.v : opTok.t}"`, 'invalidFilter');
    const v = this.next();
    let value: Value;
    if (v.t === 'str') value = v.v;
    else if (v.t === 'word') {
      const lw = v.v.toLowerCase();
      if (lw === 'true') value = true;
      else if (lw === 'false') value = false;
      else if (lw === 'null') value = null;
      else if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v.v)) value = Number(v.v);
      else value = v.v;
    } else throw badRequest('Expected a value in filter', 'invalidFilter');
    return { op: op as CompareOp, attr, value };
  }
  expectEnd(): void {
    if (this.peek().t !== 'end') throw badRequest('Unexpected text at the end of the filter', 'invalidFilter');
  }
}

function parseAttrPathForFilter(raw: string): AttrPath {
  try {
    return parseAttrPath(raw);
  } catch {
    throw badRequest(`Invalid attribute "${raw}" in filter`, 'invalidFilter');
  }
}

/** Longest filter accepted (it also bounds the parser's recursion on nested parentheses). */
export const MAX_FILTER_LENGTH = 4096;

export function parseFilter(input: string): Filter {
  if (!input || !input.trim()) throw badRequest('Empty filter', 'invalidFilter');
  if (input.length > MAX_FILTER_LENGTH) throw badRequest(`The filter is longer than ${MAX_FILTER_LENGTH.toLocaleString('en-US')} characters`, 'invalidFilter');
  const p = new Parser(tokenize(input));
  const f = p.parseOr(false);
  p.expectEnd();
  return f;
}

/** PATCH `path` (RFC 7644 §3.5.2): attrPath | valuePath [subAttr]. */
export function parsePatchPath(input: string): PatchPath {
  const raw = input.trim();
  const open = raw.indexOf('[');
  if (open < 0) return { attr: parseAttrPath(raw) };
  const close = raw.lastIndexOf(']');
  if (close < open) throw badRequest(`Invalid path "${input}"`, 'invalidPath');
  const attr = parseAttrPath(raw.slice(0, open));
  let filter: Filter;
  try {
    const p = new Parser(tokenize(raw.slice(open + 1, close)));
    filter = p.parseOr(true);
    p.expectEnd();
  } catch (err) {
    throw badRequest(`Invalid filter in path "${input}": ${(err as Error).message}`, 'invalidPath');
  }
  const tail = raw.slice(close + 1);
  if (tail && !/^\.[A-Za-z$][\w$-]*$/.test(tail)) throw badRequest(`Invalid path "${input}"`, 'invalidPath');
  return tail ? { attr, filter, subAfterFilter: tail.slice(1) } : { attr, filter };
}
