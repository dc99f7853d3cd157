// A small JavaScript tokenizer: just enough to find statement boundaries,
// top-level declarations and unbalanced brackets in console input. It is not
// a validator; V8 has the last word on syntax.

/** The kinds of token the console needs to tell apart. */
export type TokenType =
  | "name"
  | "number"
  | "string"
  | "template"
  | "regex"
  | "punct"
  | "private";

/** One token: its kind, text and position in the source. */
export interface Token {
  type: TokenType;
  value: string;
  start: number;
  end: number;
  /** A line break separates this token from the previous one. */
  newlineBefore: boolean;
  /** For a `}`: it closed a block (or function body), not an object literal. */
  closesBlock?: boolean;
}

/** Tokens of a source, and whether the source stops inside a construct. */
export interface Tokenized {
  tokens: Token[];
  /**
   * Set when the source ends inside something more lines can finish: a
   * template literal, a block comment, or a string continued by a backslash.
   */
  unterminated: "template" | "comment" | "string" | undefined;
  /** Set when the source has an error no further line can fix. */
  broken: boolean;
}

const PUNCTUATORS = [
  ">>>=",
  "...",
  "===",
  "!==",
  "**=",
  "<<=",
  ">>=",
  ">>>",
  "&&=",
  "||=",
  "??=",
  "=>",
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "??",
  "?.",
  "++",
  "--",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "**",
  "<<",
  ">>",
];
const SINGLE_PUNCTUATORS = "{}()[];,<>+-*/%&|^!~?:=.@";

/** Reserved words: none of them can end an expression. */
export const KEYWORDS: ReadonlySet<string> = new Set([
  "await",
  "break",
  "case",
  "catch",
  "class",
  "const",
  "continue",
  "debugger",
  "default",
  "delete",
  "do",
  "else",
  "export",
  "extends",
  "finally",
  "for",
  "function",
  "if",
  "import",
  "in",
  "instanceof",
  "new",
  "return",
  "switch",
  "throw",
  "try",
  "typeof",
  "var",
  "void",
  "while",
  "with",
  "yield",
]);

// Keywords after which a `{` starts an object literal (an expression).
const EXPRESSION_KEYWORDS = new Set([
  "return",
  "typeof",
  "void",
  "delete",
  "in",
  "instanceof",
  "new",
  "yield",
  "await",
  "case",
  "extends",
  "throw",
]);

const IDENTIFIER = /[\p{ID_Start}$_\\][\p{ID_Continue}$\u200c\u200d\\]*/uy;
const NUMBER =
  /(?:0[xXoObB][\da-fA-F_]+n?|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?n?)/y;
const LINE_BREAK = /[\n\r\u2028\u2029]/;

/** Whether a `/` after `previous` starts a regular expression. */
function regexAllowed(previous: Token | undefined): boolean {
  if (previous === undefined) return true;
  switch (previous.type) {
    case "name":
      return KEYWORDS.has(previous.value);
    case "punct":
      if (previous.value === ")" || previous.value === "]") return false;
      if (previous.value === "}") return previous.closesBlock === true;
      return previous.value !== "++" && previous.value !== "--";
    default:
      return false;
  }
}

/** Whether a `{` after `previous` opens a block rather than an object literal. */
function opensBlock(previous: Token | undefined): boolean {
  if (previous === undefined) return true;
  if (previous.type === "name") {
    return KEYWORDS.has(previous.value) &&
      !EXPRESSION_KEYWORDS.has(previous.value);
  }
  if (previous.type !== "punct") return false;
  return [";", "{", "}", ")", "=>"].includes(previous.value);
}

/**
 * Splits `source` into tokens, skipping comments. Template literals are single
 * tokens (their `${}` parts are scanned so that braces inside them balance).
 */
export function tokenize(source: string): Tokenized {
  let start = 0;
  if (source.startsWith("#!")) {
    const eol = source.indexOf("\n");
    start = eol < 0 ? source.length : eol;
  }
  const scan = new Scan(source, start, false);
  scan.run();
  return {
    tokens: scan.tokens,
    unterminated: scan.unterminated,
    broken: scan.broken,
  };
}

class Scan {
  readonly tokens: Token[] = [];
  unterminated: Tokenized["unterminated"] = undefined;
  broken = false;
  /** Where scanning stopped (after the closing `}` of a substitution). */
  pos: number;
  #braces: boolean[] = []; // per open `{`: true if it opened a block
  #newlineBefore = false;

  constructor(
    readonly source: string,
    start: number,
    readonly substitution: boolean,
  ) {
    this.pos = start;
  }

  /** Scans to the end, or, in a substitution, past its unbalanced `}`. */
  run(): boolean {
    const source = this.source;
    while (this.pos < source.length) {
      const pos = this.pos;
      const ch = source[pos];
      if (LINE_BREAK.test(ch)) {
        this.#newlineBefore = true;
        this.pos++;
      } else if (/\s/.test(ch)) {
        this.pos++;
      } else if (ch === "/" && source[pos + 1] === "/") {
        const eol = source.slice(pos).search(LINE_BREAK);
        this.pos = eol < 0 ? source.length : pos + eol;
      } else if (ch === "/" && source[pos + 1] === "*") {
        const close = source.indexOf("*/", pos + 2);
        if (close < 0) {
          this.unterminated = "comment";
          return false;
        }
        if (LINE_BREAK.test(source.slice(pos, close))) {
          this.#newlineBefore = true;
        }
        this.pos = close + 2;
      } else if (ch === '"' || ch === "'") {
        const end = scanString(source, pos);
        if (end < 0) {
          if (/\\\r?\n?$/.test(source)) this.unterminated = "string";
          else this.broken = true;
          return false;
        }
        this.#push("string", end);
      } else if (ch === "`") {
        const end = this.#scanTemplate(pos + 1);
        if (end < 0) return false;
        this.#push("template", end);
      } else if (ch === "/" && regexAllowed(this.tokens.at(-1))) {
        const end = scanRegex(source, pos);
        if (end < 0) {
          this.broken = true;
          return false;
        }
        this.#push("regex", end);
      } else if (this.#scanWord(pos)) {
        // pushed
      } else if (ch === "}" && this.substitution && this.#braces.length === 0) {
        this.pos++;
        return true;
      } else {
        let punct = PUNCTUATORS.find((p) => source.startsWith(p, pos)) ??
          (SINGLE_PUNCTUATORS.includes(ch) ? ch : undefined);
        if (punct === "?." && /\d/.test(source[pos + 2] ?? "")) punct = "?";
        if (punct === undefined) {
          this.broken = true;
          this.pos++;
          continue;
        }
        let closesBlock: boolean | undefined;
        if (punct === "{") this.#braces.push(opensBlock(this.tokens.at(-1)));
        if (punct === "}") closesBlock = this.#braces.pop() ?? true;
        this.#push("punct", pos + punct.length);
        if (closesBlock !== undefined) {
          this.tokens.at(-1)!.closesBlock = closesBlock;
        }
      }
    }
    if (this.substitution) this.unterminated = "template";
    return false;
  }

  #scanWord(pos: number): boolean {
    const source = this.source;
    let from = pos;
    let type: TokenType = "name";
    if (source[pos] === "#") {
      from++;
      type = "private";
    }
    IDENTIFIER.lastIndex = from;
    if (IDENTIFIER.test(source)) {
      this.#push(type, IDENTIFIER.lastIndex);
      return true;
    }
    const digit = /\d/;
    if (
      digit.test(source[pos]) ||
      source[pos] === "." && digit.test(source[pos + 1] ?? "")
    ) {
      NUMBER.lastIndex = pos;
      NUMBER.test(source);
      this.#push("number", Math.max(NUMBER.lastIndex, pos + 1));
      return true;
    }
    return false;
  }

  /** Index after the closing backtick of a template whose body starts at `pos`, or -1. */
  #scanTemplate(pos: number): number {
    const source = this.source;
    for (let i = pos; i < source.length; i++) {
      const c = source[i];
      if (c === "\\") {
        i++;
      } else if (c === "`") {
        return i + 1;
      } else if (c === "$" && source[i + 1] === "{") {
        const inner = new Scan(source, i + 2, true);
        if (!inner.run()) {
          this.unterminated = inner.unterminated ?? "template";
          this.broken ||= inner.broken;
          return -1;
        }
        i = inner.pos - 1;
      }
    }
    this.unterminated = "template";
    return -1;
  }

  #push(type: TokenType, end: number): void {
    const start = this.pos;
    this.tokens.push({
      type,
      value: this.source.slice(start, end),
      start,
      end,
      newlineBefore: this.#newlineBefore,
    });
    this.#newlineBefore = false;
    this.pos = end;
  }
}

/** Index after the closing quote of the string at `pos`, or -1. */
function scanString(source: string, pos: number): number {
  const quote = source[pos];
  for (let i = pos + 1; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      if (source[i + 1] === "\r" && source[i + 2] === "\n") i++;
      i++;
    } else if (c === quote) {
      return i + 1;
    } else if (c === "\n" || c === "\r") {
      return -1;
    }
  }
  return -1;
}

/** Index after the flags of the regular expression at `pos`, or -1. */
function scanRegex(source: string, pos: number): number {
  let inClass = false;
  for (let i = pos + 1; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      i++;
    } else if (c === "\n" || c === "\r") {
      return -1;
    } else if (c === "[") {
      inClass = true;
    } else if (c === "]") {
      inClass = false;
    } else if (c === "/" && !inClass) {
      let end = i + 1;
      while (end < source.length && /[\p{ID_Continue}$]/u.test(source[end])) {
        end++;
      }
      return end;
    }
  }
  return -1;
}
