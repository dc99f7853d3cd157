// Rewrites one console input so that it can run as the body of
// `async function (helper) { with (helper.scope) { <body> } }`:
//
// - top-level `let`/`const` become `var`: inside `with`, a `var`'s initializer
//   assigns through the scope object, so the binding outlives the input
//   (the evaluator defines every declared name on the scope beforehand);
// - top-level classes become `var C = class C {...};` for the same reason;
// - top-level function declarations stay (they hoist) and are published on
//   the scope when the block starts;
// - static `import` declarations become `var {...} = await helper.import(...)`
//   and `import(...)` calls go through `helper.import` (specifiers resolve
//   against the working directory, not this file);
// - the last expression statement becomes `return { value: (...) }`, which
//   gives the value to print (a REPL's "completion value").
//
// Line structure is kept, so line numbers in stack traces match the input.

import { KEYWORDS, type Token, tokenize } from "./_tokenize.ts";

/** How a top-level name was declared. */
export type DeclarationKind = "var" | "let" | "const" | "function" | "class";

/** Rewritten code, and how to find a position of it in the input. */
export interface Body {
  code: string;
  /** Maps an offset in `code` to the offset in the input it came from. */
  toSource(offset: number): number;
}

/** One console input, rewritten for the evaluator. */
export interface Rewritten {
  /** The body with its last expression returned as `{ value }`, if it has one. */
  withReturn: Body | undefined;
  /** The body without a `return` (for when the first does not compile). */
  withoutReturn: Body;
  /** Names the input declares at top level, with how they were declared. */
  declarations: Map<string, DeclarationKind>;
  /** Names of top-level function declarations (published at block start). */
  functions: string[];
  /** The input cannot be complete: it ends inside a bracket, string, operator... */
  incomplete: boolean;
  /** The input is a single `{...}`: it may be meant as an object literal. */
  maybeObjectLiteral: boolean;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

// Tokens that, first on a new line, continue the previous expression.
const CONTINUATIONS = new Set([
  "(",
  "[",
  ".",
  "?.",
  ",",
  "=",
  "==",
  "===",
  "!=",
  "!==",
  "<",
  ">",
  "<=",
  ">=",
  "+",
  "-",
  "*",
  "/",
  "%",
  "**",
  "&",
  "|",
  "^",
  "&&",
  "||",
  "??",
  "?",
  ":",
  "<<",
  ">>",
  ">>>",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "**=",
  "&=",
  "|=",
  "^=",
  "<<=",
  ">>=",
  ">>>=",
  "&&=",
  "||=",
  "??=",
  "=>",
]);

// Last tokens after which an input needs more.
const DANGLING_PUNCTUATORS = new Set([...CONTINUATIONS, "!", "~", "..."]);
DANGLING_PUNCTUATORS.delete("(");
DANGLING_PUNCTUATORS.delete("[");
const DANGLING_KEYWORDS = new Set([
  "new",
  "typeof",
  "void",
  "delete",
  "await",
  "yield",
  "in",
  "instanceof",
  "extends",
  "else",
  "do",
  "try",
  "finally",
  "throw",
  "case",
]);
const HEADER_KEYWORDS = new Set(["if", "for", "while", "with"]);

// First tokens of statements that are not expressions.
const STATEMENT_KEYWORDS = new Set([
  "if",
  "for",
  "while",
  "do",
  "switch",
  "try",
  "function",
  "class",
  "var",
  "const",
  "return",
  "throw",
  "break",
  "continue",
  "export",
  "with",
  "debugger",
]);

/** Whether `token` can be the last token of an expression. */
function canEnd(token: Token): boolean {
  switch (token.type) {
    case "name":
      return !KEYWORDS.has(token.value) || token.value === "this" ||
        token.value === "super";
    case "punct":
      return [")", "]", "}", "++", "--"].includes(token.value);
    default:
      return true;
  }
}

/** Whether `token`, after a line break, continues the expression before it. */
function continues(token: Token): boolean {
  if (token.type === "template") return true;
  if (token.type === "name") {
    return token.value === "in" || token.value === "instanceof";
  }
  return token.type === "punct" && CONTINUATIONS.has(token.value);
}

/** Whether a statement ends between `previous` and `token` (both at depth 0). */
function isBoundary(previous: Token, token: Token): boolean {
  if (previous.type === "punct" && previous.value === ";") return true;
  if (continues(token)) return false;
  if (previous.closesBlock) return true;
  return token.newlineBefore && canEnd(previous);
}

function isOpen(token: Token): boolean {
  return token.type === "punct" &&
    (token.value === "(" || token.value === "[" || token.value === "{");
}

function isClose(token: Token): boolean {
  return token.type === "punct" &&
    (token.value === ")" || token.value === "]" || token.value === "}");
}

function isIdentifier(token: Token | undefined): boolean {
  return token !== undefined && token.type === "name" &&
    !KEYWORDS.has(token.value);
}

/**
 * Rewrites `source` (see the top of this file). `helper` is the name of the
 * evaluator's helper parameter, which gives `.import` and `.scope`.
 */
export function rewrite(source: string, helper: string): Rewritten {
  const { tokens, unterminated, broken } = tokenize(source);
  const edits: Edit[] = [];
  const declarations = new Map<string, DeclarationKind>();
  const functions: string[] = [];
  const openers: number[] = [];
  const matching = new Map<number, number>();
  const forcedStarts = new Set<number>();
  const declarationStarts = new Set<number>();
  let lastStart = -1;
  let unbalanced = false;

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (openers.length === 0) {
      const start = i === 0 || forcedStarts.has(i) ||
        isBoundary(tokens[i - 1], token);
      if (start) {
        lastStart = i;
        startStatement(i);
      }
    }
    if (
      token.type === "name" && token.value === "import" &&
      tokens[i + 1]?.value === "(" &&
      !(tokens[i - 1]?.type === "punct" &&
        (tokens[i - 1].value === "." || tokens[i - 1].value === "?."))
    ) {
      edits.push({
        start: token.start,
        end: token.end,
        text: `${helper}.import`,
      });
    }
    if (isOpen(token)) {
      openers.push(i);
    } else if (isClose(token)) {
      const open = openers.pop();
      if (open === undefined) unbalanced = true;
      else matching.set(open, i);
    }
  }

  function startStatement(i: number): void {
    const token = tokens[i];
    if (token.type !== "name") return;
    const next = tokens[i + 1];
    switch (token.value) {
      case "var":
      case "const":
        declaration(i, token.value);
        return;
      case "let":
        if (
          next !== undefined &&
          (isIdentifier(next) || next.value === "[" || next.value === "{")
        ) {
          declarationStarts.add(i);
          declaration(i, "let");
        }
        return;
      case "function":
        functionDeclaration(i + 1);
        return;
      case "async":
        if (next?.value === "function" && !next.newlineBefore) {
          functionDeclaration(i + 2);
        }
        return;
      case "class":
        if (isIdentifier(next)) classDeclaration(i);
        return;
      case "import":
        if (next !== undefined && next.value !== "(" && next.value !== ".") {
          declarationStarts.add(i);
          importDeclaration(i);
        }
        return;
    }
  }

  function functionDeclaration(i: number): void {
    if (tokens[i]?.value === "*") i++;
    const name = tokens[i];
    if (!isIdentifier(name)) return;
    declarations.set(name!.value, "function");
    functions.push(name!.value);
  }

  function classDeclaration(i: number): void {
    const name = tokens[i + 1].value;
    let depth = 0;
    let body = -1;
    for (let j = i + 2; j < tokens.length; j++) {
      const t = tokens[j];
      if (depth === 0 && t.value === "{" && t.type === "punct") {
        body = j;
        break;
      }
      if (isOpen(t)) depth++;
      else if (isClose(t)) depth--;
    }
    if (body < 0) return;
    let end = -1;
    depth = 0;
    for (let j = body; j < tokens.length; j++) {
      if (isOpen(tokens[j])) depth++;
      else if (isClose(tokens[j]) && --depth === 0) {
        end = j;
        break;
      }
    }
    if (end < 0) return;
    declarations.set(name, "class");
    edits.push({
      start: tokens[i].start,
      end: tokens[i].start,
      text: `var ${name} = `,
    });
    edits.push({ start: tokens[end].end, end: tokens[end].end, text: ";" });
    forcedStarts.add(end + 1);
  }

  function declaration(i: number, kind: "var" | "let" | "const"): void {
    if (kind !== "var") {
      edits.push({ start: tokens[i].start, end: tokens[i].end, text: "var" });
    }
    const names: string[] = [];
    let j = i + 1;
    for (;;) {
      j = target(j, names);
      if (j < 0) break;
      if (tokens[j]?.value === "=") j = skipExpression(j + 1, true);
      if (tokens[j]?.value !== ",") break;
      j++;
    }
    for (const name of names) declarations.set(name, kind);
  }

  // Collects the names a binding pattern binds; returns the index after it, or -1.
  function target(j: number, names: string[]): number {
    const token = tokens[j];
    if (isIdentifier(token)) {
      names.push(token!.value);
      return j + 1;
    }
    if (token?.value === "[") return arrayPattern(j + 1, names);
    if (token?.value === "{") return objectPattern(j + 1, names);
    return -1;
  }

  function arrayPattern(j: number, names: string[]): number {
    for (;;) {
      const token = tokens[j];
      if (token === undefined) return -1;
      if (token.value === "]") return j + 1;
      if (token.value === ",") {
        j++;
        continue;
      }
      j = target(token.value === "..." ? j + 1 : j, names);
      if (j < 0) return -1;
      if (tokens[j]?.value === "=") j = skipExpression(j + 1, false);
      if (tokens[j]?.value === ",") j++;
      else if (tokens[j]?.value !== "]") return -1;
    }
  }

  function objectPattern(j: number, names: string[]): number {
    for (;;) {
      const token = tokens[j];
      if (token === undefined) return -1;
      if (token.value === "}") return j + 1;
      if (token.value === "...") {
        j = target(j + 1, names);
        if (j < 0) return -1;
      } else {
        let key: Token | undefined;
        if (token.value === "[") {
          j = skipExpression(j + 1, false);
          if (tokens[j]?.value !== "]") return -1;
          j++;
        } else if (
          token.type === "name" || token.type === "string" ||
          token.type === "number"
        ) {
          key = token;
          j++;
        } else {
          return -1;
        }
        if (tokens[j]?.value === ":") {
          j = target(j + 1, names);
          if (j < 0) return -1;
        } else if (isIdentifier(key)) {
          names.push(key!.value);
        } else {
          return -1;
        }
      }
      if (tokens[j]?.value === "=") j = skipExpression(j + 1, false);
      if (tokens[j]?.value === ",") j++;
      else if (tokens[j]?.value !== "}") return -1;
    }
  }

  // Index of the first token after the expression starting at `j`: a `,` or
  // an unbalanced closing bracket, or (at statement level) a statement end.
  function skipExpression(j: number, statementLevel: boolean): number {
    let depth = 0;
    for (; j < tokens.length; j++) {
      const token = tokens[j];
      if (depth === 0) {
        if (token.value === "," && token.type === "punct") return j;
        if (isClose(token)) return j;
        if (statementLevel) {
          if (token.value === ";" && token.type === "punct") return j;
          if (forcedStarts.has(j)) return j;
          const previous = tokens[j - 1];
          if (
            token.newlineBefore && canEnd(previous) && !continues(token)
          ) return j;
        }
      }
      if (isOpen(token)) depth++;
      else if (isClose(token)) depth--;
    }
    return j;
  }

  function importDeclaration(i: number): void {
    let j = i + 1;
    let defaultName: string | undefined;
    let namespace: string | undefined;
    const named: [string, string][] = [];
    let specifier: Token | undefined;
    if (tokens[j]?.type === "string") {
      specifier = tokens[j];
    } else {
      if (isIdentifier(tokens[j])) {
        defaultName = tokens[j].value;
        j++;
        if (tokens[j]?.value === ",") j++;
      }
      if (tokens[j]?.value === "*") {
        if (tokens[j + 1]?.value !== "as" || !isIdentifier(tokens[j + 2])) {
          return;
        }
        namespace = tokens[j + 2].value;
        j += 3;
      } else if (tokens[j]?.value === "{") {
        j++;
        while (tokens[j] !== undefined && tokens[j].value !== "}") {
          const imported = tokens[j];
          if (imported.type !== "name" && imported.type !== "string") return;
          let local = imported.value;
          j++;
          if (tokens[j]?.value === "as") {
            if (!isIdentifier(tokens[j + 1])) return;
            local = tokens[j + 1].value;
            j += 2;
          } else if (imported.type === "string") {
            return;
          }
          named.push([imported.value, local]);
          if (tokens[j]?.value === ",") j++;
          else if (tokens[j]?.value !== "}") return;
        }
        if (tokens[j] === undefined) return;
        j++;
      }
      if (tokens[j]?.value !== "from" || tokens[j + 1]?.type !== "string") {
        return;
      }
      specifier = tokens[j + 1];
      j++;
    }
    let end = j;
    let attributes = "";
    const keyword = tokens[j + 1];
    if (
      (keyword?.value === "with" || keyword?.value === "assert") &&
      !keyword.newlineBefore && tokens[j + 2]?.value === "{"
    ) {
      let close = j + 3;
      while (close < tokens.length && tokens[close].value !== "}") close++;
      if (close >= tokens.length) return;
      attributes = `, { with: ${
        source.slice(tokens[j + 2].start, tokens[close].end)
      } }`;
      end = close;
    }
    const call = `await ${helper}.import(${specifier.value}${attributes})`;
    let text: string;
    if (namespace !== undefined) {
      text = `var ${namespace} = ${call}`;
      declarations.set(namespace, "var");
      if (defaultName !== undefined) {
        text += `, ${defaultName} = ${namespace}.default`;
        declarations.set(defaultName, "var");
      }
    } else if (defaultName === undefined && named.length === 0) {
      text = `void (${call})`;
    } else {
      const parts: string[] = [];
      if (defaultName !== undefined) {
        parts.push(`default: ${defaultName}`);
        declarations.set(defaultName, "var");
      }
      for (const [imported, local] of named) {
        parts.push(imported === local ? local : `${imported}: ${local}`);
        declarations.set(local, "var");
      }
      text = `var { ${parts.join(", ")} } = ${call}`;
    }
    const replaced = source.slice(tokens[i].start, tokens[end].end);
    text += "\n".repeat(replaced.split("\n").length - 1);
    edits.push({ start: tokens[i].start, end: tokens[end].end, text });
    if (end + 1 < tokens.length) forcedStarts.add(end + 1);
  }

  // The last statement: return it if it is an expression, boxed so that an
  // async function does not adopt a returned promise (a REPL shows it).
  let returnEdits: Edit[] | undefined;
  if (lastStart >= 0 && isExpressionStart(lastStart)) {
    let last = tokens.length - 1;
    if (tokens[last].value === ";" && tokens[last].type === "punct") last--;
    if (last >= lastStart) {
      returnEdits = [
        {
          start: tokens[lastStart].start,
          end: tokens[lastStart].start,
          text: "return { value: (",
        },
        { start: tokens[last].end, end: tokens[last].end, text: ") }" },
      ];
    }
  }

  function isExpressionStart(i: number): boolean {
    const token = tokens[i];
    if (token.type === "punct") {
      return token.value !== "{" && token.value !== ";";
    }
    if (token.type !== "name") return true;
    if (STATEMENT_KEYWORDS.has(token.value)) return false;
    if (tokens[i + 1]?.value === ":") return false; // a label
    if (declarationStarts.has(i)) return false;
    if (token.value === "async" && tokens[i + 1]?.value === "function") {
      return false;
    }
    return true;
  }

  let incomplete = unterminated !== undefined ||
    (openers.length > 0 && !unbalanced && !broken);
  const lastToken = tokens.at(-1);
  if (!incomplete && lastToken !== undefined && !broken && !unbalanced) {
    if (lastToken.type === "punct") {
      incomplete = DANGLING_PUNCTUATORS.has(lastToken.value);
      if (lastToken.value === ")") {
        const open = [...matching].find(([, close]) =>
          close === tokens.length - 1
        )?.[0];
        const before = open === undefined ? undefined : tokens[open - 1];
        incomplete = before !== undefined && before.type === "name" &&
          HEADER_KEYWORDS.has(before.value);
      }
    } else if (lastToken.type === "name") {
      incomplete = DANGLING_KEYWORDS.has(lastToken.value);
    }
  }

  const first = tokens[0];
  const maybeObjectLiteral = first !== undefined && first.value === "{" &&
    first.type === "punct" && matching.get(0) === tokens.length - 1;

  return {
    withReturn: returnEdits === undefined
      ? undefined
      : applyEdits(source, [...edits, ...returnEdits]),
    withoutReturn: applyEdits(source, edits),
    declarations,
    functions,
    incomplete,
    maybeObjectLiteral,
  };
}

function applyEdits(source: string, edits: Edit[]): Body {
  // By position; at one position, insertions before replacements.
  const sorted = edits.map((edit, index) => ({ edit, index })).sort((a, b) =>
    a.edit.start - b.edit.start ||
    Number(a.edit.end > a.edit.start) - Number(b.edit.end > b.edit.start) ||
    a.index - b.index
  ).map(({ edit }) => edit);
  let code = "";
  let pos = 0;
  // Per applied edit: where its text starts in `code`, and the edit.
  const applied: { at: number; edit: Edit }[] = [];
  for (const edit of sorted) {
    code += source.slice(pos, edit.start);
    applied.push({ at: code.length, edit });
    code += edit.text;
    pos = Math.max(pos, edit.end);
  }
  code += source.slice(pos);
  return {
    code,
    toSource(offset: number): number {
      let shift = 0; // code offset minus source offset, before `offset`
      for (const { at, edit } of applied) {
        if (offset < at) break;
        if (offset < at + edit.text.length) return edit.start;
        shift = at + edit.text.length - edit.end;
      }
      return offset - shift;
    },
  };
}
