// A pull reader for JSON that moves through the text the way Jackson's streaming parser does, so that
// errors carry the same "line, column" AWS reports. EventBridge compiles patterns with aws/event-ruler,
// which reads them with Jackson and reports errors as
//   <reason>\n at [Source: (String)"<pattern>"; line: L, column: C]
// where the column is one past the parser's read pointer. Jackson reads ahead in two places that show in
// those columns, and this reader does the same:
//  - after a field name it consumes the colon and the start of the value (an opening quote, bracket or
//    brace, or a whole number or literal), so a field name token "ends" inside its value;
//  - a string value is only read past its closing quote when its text is asked for.

export type Token =
  | 'START_OBJECT'
  | 'END_OBJECT'
  | 'START_ARRAY'
  | 'END_ARRAY'
  | 'FIELD_NAME'
  | 'VALUE_STRING'
  | 'VALUE_NUMBER_INT'
  | 'VALUE_NUMBER_FLOAT'
  | 'VALUE_TRUE'
  | 'VALUE_FALSE'
  | 'VALUE_NULL';

/** A syntax or content error with Jackson's location suffix. */
export class JsonReadError extends Error {
  constructor(
    readonly reason: string,
    readonly location: string,
  ) {
    super(`${reason}\n at ${location}`);
  }
}

/**
 * Jackson (2.15 on) refuses documents nested deeper than StreamReadConstraints' default of 1000 containers,
 * with a StreamConstraintsException that carries no location; event-ruler lets it through uncaught. It
 * also keeps the compiler's recursion far from the JavaScript stack's limit.
 */
export const MAX_NESTING_DEPTH = 1000;

/** The nesting-depth refusal: a reason without Jackson's location suffix. */
export class NestingDepthError extends Error {}

interface Context {
  kind: 'root' | 'object' | 'array';
  /** Entries already read in this container (decides whether a comma is expected). */
  entries: number;
  /** Where the container started, for "expected close marker" errors. */
  start: number;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

export class JsonReader {
  private pos = 0;
  private readonly stack: Context[] = [{ kind: 'root', entries: 0, start: 0 }];
  private lookahead: Token | undefined;
  private lookaheadText = '';
  /** The current value is a string whose closing quote has not been read yet. */
  private incomplete = false;
  private text = '';
  private current: Token | undefined;
  private fieldName = '';

  constructor(private readonly src: string) {}

  /** The name of the current field (valid after FIELD_NAME and for its value). */
  get currentName(): string {
    return this.fieldName;
  }

  /** The token last returned by nextToken(). */
  currentToken(): Token | undefined {
    return this.current;
  }

  /** Jackson's getCurrentLocation(): the read pointer, as "[Source: ...; line, column]". */
  location(): string {
    return this.locationAt(this.pos);
  }

  private locationAt(offset: number): string {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset && i < this.src.length; i++) {
      if (this.src.charCodeAt(i) === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    return `[Source: (String)"${this.src}"; line: ${line}, column: ${offset - lineStart + 1}]`;
  }

  /** Throws a content error at the current location (event-ruler's barf). */
  fail(reason: string): never {
    throw new JsonReadError(reason, this.location());
  }

  /** The text of the current token (reads a pending string to its end). */
  getText(): string {
    if (this.incomplete) this.finishString();
    switch (this.current) {
      case 'START_OBJECT':
        return '{';
      case 'END_OBJECT':
        return '}';
      case 'START_ARRAY':
        return '[';
      case 'END_ARRAY':
        return ']';
      case 'FIELD_NAME':
        return this.fieldName;
      case undefined:
        return '';
      default:
        return this.text;
    }
  }

  nextToken(): Token | undefined {
    if (this.incomplete) this.skipString();
    if (this.lookahead !== undefined) {
      const t = this.lookahead;
      this.lookahead = undefined;
      this.text = this.lookaheadText;
      if (t === 'VALUE_STRING') this.incomplete = true;
      return this.setCurrent(t);
    }
    const ctx = this.stack[this.stack.length - 1]!;
    let c = this.skipWs();
    if (ctx.kind === 'object') {
      if (c === -1) this.endOfInput(ctx);
      if (c === 0x7d /* } */) {
        this.pos++;
        this.stack.pop();
        return this.setCurrent('END_OBJECT');
      }
      if (ctx.entries > 0) {
        if (c !== 0x2c /* , */) this.unexpected(c, 'was expecting comma to separate Object entries');
        this.pos++;
        c = this.skipWs();
      }
      if (c !== 0x22 /* " */) {
        if (c === -1) this.endOfInput(ctx);
        this.unexpected(c, 'was expecting double-quote to start field name');
      }
      this.pos++;
      this.fieldName = this.readStringBody();
      ctx.entries++;
      c = this.skipWs();
      if (c !== 0x3a /* : */) {
        if (c === -1) this.endOfInput(ctx);
        this.unexpected(c, 'was expecting a colon to separate field name and value');
      }
      this.pos++;
      this.skipWs();
      const value = this.startValue();
      this.lookahead = value;
      this.lookaheadText = this.text;
      if (value === 'VALUE_STRING') this.incomplete = false;
      return this.setCurrent('FIELD_NAME');
    }
    if (ctx.kind === 'array') {
      if (c === -1) this.endOfInput(ctx);
      if (c === 0x5d /* ] */) {
        this.pos++;
        this.stack.pop();
        return this.setCurrent('END_ARRAY');
      }
      if (ctx.entries > 0) {
        if (c !== 0x2c) {
          if (c === -1) this.endOfInput(ctx);
          this.unexpected(c, 'was expecting comma to separate Array entries');
        }
        this.pos++;
        this.skipWs();
      }
      ctx.entries++;
      const t = this.startValue();
      return this.setCurrent(t);
    }
    // root
    if (c === -1) return undefined;
    if (ctx.entries > 0) return undefined; // trailing content is not read, as in event-ruler
    ctx.entries++;
    return this.setCurrent(this.startValue());
  }

  private setCurrent(t: Token): Token {
    this.current = t;
    return t;
  }

  private skipWs(): number {
    while (this.pos < this.src.length && WS.has(this.src.charCodeAt(this.pos))) this.pos++;
    return this.pos < this.src.length ? this.src.charCodeAt(this.pos) : -1;
  }

  /** Reads the start of a value at the pointer; strings are left incomplete. */
  private startValue(): Token {
    const c = this.pos < this.src.length ? this.src.charCodeAt(this.pos) : -1;
    switch (c) {
      case 0x22:
        this.pos++;
        this.incomplete = true;
        this.text = '';
        return 'VALUE_STRING';
      case 0x7b:
        this.pos++;
        this.enter();
        this.stack.push({ kind: 'object', entries: 0, start: this.pos - 1 });
        return 'START_OBJECT';
      case 0x5b:
        this.pos++;
        this.enter();
        this.stack.push({ kind: 'array', entries: 0, start: this.pos - 1 });
        return 'START_ARRAY';
      case -1:
        this.endOfInput(this.stack[this.stack.length - 1]!);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.readNumber();
        return this.readLiteral();
    }
  }

  /** Jackson's StreamReadConstraints.validateNestingDepth, checked as a container opens. */
  private enter(): void {
    const depth = this.stack.length; // the root context is not a container: this is the new depth
    if (depth > MAX_NESTING_DEPTH) {
      throw new NestingDepthError(
        `Document nesting depth (${depth}) exceeds the maximum allowed (${MAX_NESTING_DEPTH}, from \`StreamReadConstraints.getMaxNestingDepth()\`)`,
      );
    }
  }

  private readNumber(): Token {
    const re = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    re.lastIndex = this.pos;
    const m = re.exec(this.src);
    if (!m || m[0] === '-' || m[0] === '') {
      this.pos++;
      const next = this.pos < this.src.length ? this.src[this.pos]! : '';
      throw new JsonReadError(
        `Unexpected character ('${next}' (code ${next.charCodeAt(0) || 0})) in numeric value: expected digit (0-9) to follow minus sign, for valid numeric value`,
        this.locationAt(this.pos + 1),
      );
    }
    if (/^-?0$/.test(m[1] === undefined ? m[0] : m[0].split(/[.eE]/)[0]!) && /[0-9]/.test(this.src[this.pos + m[0].length] ?? '')) {
      throw new JsonReadError('Invalid numeric value: Leading zeroes not allowed', this.locationAt(this.pos + m[0].length + 1));
    }
    this.pos += m[0].length;
    this.text = m[0];
    return m[2] !== undefined || m[3] !== undefined ? 'VALUE_NUMBER_FLOAT' : 'VALUE_NUMBER_INT';
  }

  private readLiteral(): Token {
    let end = this.pos;
    while (end < this.src.length && isIdentChar(this.src.charCodeAt(end))) end++;
    const word = this.src.slice(this.pos, end);
    if (word === 'true' || word === 'false' || word === 'null') {
      this.pos = end;
      this.text = word;
      return word === 'true' ? 'VALUE_TRUE' : word === 'false' ? 'VALUE_FALSE' : 'VALUE_NULL';
    }
    if (word === '') {
      const ch = this.src[this.pos]!;
      this.unexpected(ch.charCodeAt(0), 'expected a value');
    }
    throw new JsonReadError(
      `Unrecognized token '${word}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')`,
      this.locationAt(end),
    );
  }

  private unexpected(c: number, expectation: string): never {
    const ch = String.fromCharCode(c);
    const shown = c === 0x27 ? "'''" : `'${ch}'`;
    throw new JsonReadError(`Unexpected character (${shown} (code ${c})): ${expectation}`, this.locationAt(this.pos));
  }

  private endOfInput(ctx: Context): never {
    const what = ctx.kind === 'object' ? 'Object' : ctx.kind === 'array' ? 'Array' : undefined;
    const reason = what
      ? `Unexpected end-of-input: expected close marker for ${what} (start marker at ${this.locationAt(ctx.start)})`
      : 'No content to map due to end-of-input';
    throw new JsonReadError(reason, this.locationAt(this.src.length));
  }

  private finishString(): void {
    this.text = this.readStringBody();
    this.incomplete = false;
  }

  private skipString(): void {
    this.readStringBody();
    this.incomplete = false;
  }

  /** Reads a string from after its opening quote to after its closing quote. */
  private readStringBody(): string {
    let out = '';
    let runStart = this.pos;
    while (true) {
      if (this.pos >= this.src.length) {
        throw new JsonReadError(
          'Unexpected end-of-input: was expecting closing quote for a string value',
          this.locationAt(this.src.length),
        );
      }
      const c = this.src.charCodeAt(this.pos);
      if (c === 0x22) {
        out += this.src.slice(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c === 0x5c) {
        out += this.src.slice(runStart, this.pos);
        const e = this.src[this.pos + 1];
        this.pos += 2;
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const hex = this.src.slice(this.pos, this.pos + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
              throw new JsonReadError(
                "Unexpected character: expected a hex-digit for character escape sequence",
                this.locationAt(this.pos + 1),
              );
            }
            out += String.fromCharCode(parseInt(hex, 16));
            this.pos += 4;
            break;
          }
          default:
            throw new JsonReadError(
              `Unrecognized character escape '${e ?? ''}' (code ${e ? e.charCodeAt(0) : 0})`,
              this.locationAt(this.pos),
            );
        }
        runStart = this.pos;
        continue;
      }
      if (c < 0x20) {
        throw new JsonReadError(
          `Illegal unquoted character ((CTRL-CHAR, code ${c})): has to be escaped using backslash to be included in string value`,
          this.locationAt(this.pos + 1),
        );
      }
      this.pos++;
    }
  }
}

function isIdentChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2e || c === 0x2d || c === 0x2b;
}
