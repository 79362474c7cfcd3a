// The Sigma condition language, parsed with a precedence-climbing recursive descent parser.
// Precedence, least to most binding: or, and, not, `x of`, parentheses. Operators are case-insensitive.
//   selection and not 1 of filter_*
//   (a or b) and all of sel_*
//   1 of them / all of them   (them: every search identifier not starting with "_")
// The deprecated aggregation syntax (`... | count() > 5`) is refused: use a correlation rule.
import { compileGlob, starParts } from '../../patterns/glob.ts';

export type CondNode =
  | { readonly t: 'id'; readonly name: string }
  | { readonly t: 'and'; readonly a: CondNode; readonly b: CondNode }
  | { readonly t: 'or'; readonly a: CondNode; readonly b: CondNode }
  | { readonly t: 'not'; readonly a: CondNode }
  /** `1 of x`, `all of x`; `pattern` is a search-identifier pattern with `*` wildcards, or `them`. */
  | { readonly t: 'of'; readonly quant: 'one' | 'all'; readonly pattern: string };

interface Token {
  readonly v: string;
  readonly pos: number;
}

export class ConditionSyntaxError extends Error {}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:([()])|(\|)|([^\s()|]+))/y;
  let m: RegExpExecArray | null;
  re.lastIndex = 0;
  while (re.lastIndex < src.length && (m = re.exec(src))) {
    const v = m[1] ?? m[2] ?? m[3];
    if (v === undefined) break; // trailing white space
    out.push({ v, pos: m.index + m[0].length - v.length });
  }
  return out;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'of', 'them', 'all']);

export function parseCondition(src: string): CondNode {
  const toks = tokenize(src);
  let i = 0;
  const peek = () => toks[i];
  const lower = (t: Token | undefined) => t?.v.toLowerCase();
  const fail = (msg: string, tok = peek()): never => {
    const where = tok ? `at position ${tok.pos + 1}` : 'at the end';
    throw new ConditionSyntaxError(`${msg} ${where} in "${src}"`);
  };

  function parseOr(): CondNode {
    let node = parseAnd();
    while (lower(peek()) === 'or') {
      i++;
      node = { t: 'or', a: node, b: parseAnd() };
    }
    return node;
  }
  function parseAnd(): CondNode {
    let node = parseNot();
    while (lower(peek()) === 'and') {
      i++;
      node = { t: 'and', a: node, b: parseNot() };
    }
    return node;
  }
  function parseNot(): CondNode {
    if (lower(peek()) === 'not') {
      i++;
      return { t: 'not', a: parseNot() };
    }
    return parsePrimary();
  }
  function parsePrimary(): CondNode {
    const tok = peek();
    if (!tok) return fail('expected a search identifier');
    if (tok.v === '|') return fail('aggregation expressions ("| count() ...") are not supported: write a correlation rule');
    if (tok.v === '(') {
      i++;
      const inner = parseOr();
      if (peek()?.v !== ')') fail('expected ")"');
      i++;
      return inner;
    }
    if (tok.v === ')') return fail('unexpected ")"');
    const lv = tok.v.toLowerCase();
    if ((lv === '1' || lv === 'all' || lv === 'any') && lower(toks[i + 1]) === 'of') {
      i += 2;
      const target = peek();
      if (!target || target.v === '(' || target.v === ')' || target.v === '|') return fail('expected a search-identifier pattern or "them" after "of"');
      const tl = target.v.toLowerCase();
      if (KEYWORDS.has(tl) && tl !== 'them') return fail(`expected a search-identifier pattern, not "${target.v}",`, target);
      i++;
      return { t: 'of', quant: lv === 'all' ? 'all' : 'one', pattern: tl === 'them' ? 'them' : target.v };
    }
    if (/^\d+$/.test(lv) && lower(toks[i + 1]) === 'of') return fail(`only "1 of" and "all of" are defined, not "${tok.v} of",`);
    if (KEYWORDS.has(lv)) return fail(`unexpected "${tok.v}"`);
    i++;
    return { t: 'id', name: tok.v };
  }

  if (toks.length === 0) fail('empty condition');
  const node = parseOr();
  if (i < toks.length) {
    const t = toks[i]!;
    if (t.v === '|') fail('aggregation expressions ("| count() ...") are not supported: write a correlation rule');
    fail(`unexpected "${t.v}"`);
  }
  return node;
}

/** Glob match of a search-identifier pattern (`*` any sequence). */
export function identifierPattern(pattern: string): (name: string) => boolean {
  if (!pattern.includes('*')) return (n) => n === pattern;
  return compileGlob(starParts(pattern)); // linear-time, no RegExp built from the rule's text
}

/** Expands `x of pattern` to the identifiers it covers (`them` excludes identifiers starting with "_"). */
export function expandPattern(pattern: string, identifiers: readonly string[]): string[] {
  if (pattern === 'them') return identifiers.filter((n) => !n.startsWith('_'));
  const m = identifierPattern(pattern);
  return identifiers.filter(m);
}

/** Identifiers referenced by a condition (patterns expanded). */
export function referencedIdentifiers(node: CondNode, identifiers: readonly string[], out = new Set<string>()): Set<string> {
  switch (node.t) {
    case 'id':
      out.add(node.name);
      break;
    case 'of':
      for (const n of expandPattern(node.pattern, identifiers)) out.add(n);
      break;
    case 'not':
      referencedIdentifiers(node.a, identifiers, out);
      break;
    default:
      referencedIdentifiers(node.a, identifiers, out);
      referencedIdentifiers(node.b, identifiers, out);
  }
  return out;
}
