// Runs console input with a per-session scope.
//
// Design: each input is rewritten (see _rewrite.ts) and compiled, with an
// indirect eval, as
//
//   (async function (__syncless__) { with (__syncless__.scope) { <input>
//   } })
//
// The function is async, so top-level `await` works; the code is sloppy
// (required by `with`), as in Node's REPL. `__syncless__.scope` is the
// session's own bindings object; its prototype chain (ending in null) mirrors
// the read-only layers (the session's built-ins, the host's extra scope, the
// whole public API) with accessors that read the layer live and, on
// assignment, shadow the name in the session. A name found nowhere on the
// chain falls through to globals. Top-level declarations become `var`s,
// whose initializers assign through `with` to the bindings object (the
// evaluator defines each declared name there first), so `let x = 2` on one
// line and `x * 21` on the next both see the session's `x`. A `const` turns
// into an accessor that refuses assignment once its input has run. An
// ordinary object (not a Proxy) keeps `with` lookups fast. The wrapper starts
// on the input's first line, so line numbers in stack traces are the input's.

import { type Body, type DeclarationKind, rewrite } from "./_rewrite.ts";

const HELPER = "__syncless__";
// Frames from these files are the console's and the scheduler's, not the user's.
const MACHINERY = [
  import.meta.url,
  new URL("../coio/tasklet.ts", import.meta.url).href,
];

type Compiled = (helper: Helper) => Promise<unknown>;

interface Helper {
  scope: Record<string, unknown>;
  import: (specifier: string, options?: ImportCallOptions) => Promise<unknown>;
  publish: (functions: Record<string, unknown>) => void;
}

/**
 * A prototype-chain link (before `next`) that shows `layer`'s own properties:
 * reads are live, an assignment defines the name on the receiving session.
 */
function mirror(layer: object, next: object): object {
  const link = Object.create(next);
  const source = layer as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(layer)) {
    Object.defineProperty(link, key, {
      get: () => source[key],
      set(this: object, value: unknown) {
        Object.defineProperty(this, key, {
          value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      },
      enumerable: false,
      configurable: true,
    });
  }
  return link;
}

/** Resolves an import specifier of console input against the working directory. */
function resolveSpecifier(specifier: string): string {
  if (/^\.{0,2}\//.test(specifier)) {
    return new URL(specifier, `file://${Deno.cwd()}/`).href;
  }
  return specifier;
}

/**
 * One session's scope and the means to run input in it. Inputs of one
 * evaluator must run one at a time (each console session does so).
 */
export class Evaluator {
  /** The session's own bindings (declared or assigned names). */
  readonly bindings: Record<string, unknown>;
  #helper: Helper;
  #inputs = 0;
  // Per recent input: maps a (line, column) of the compiled code to the input.
  #positions = new Map<string, (line: number, column: number) => string>();

  /**
   * @param layers Read-only bindings behind the session's own, searched in
   * order (their own properties, as they are when the session starts).
   */
  constructor(layers: readonly object[]) {
    let chain: object = Object.create(null);
    for (const layer of layers.toReversed()) chain = mirror(layer, chain);
    const bindings: Record<string, unknown> = Object.create(chain);
    this.bindings = bindings;
    this.#helper = {
      scope: bindings,
      import: (specifier, options) =>
        import(resolveSpecifier(String(specifier)), options),
      publish: (functions) => Object.assign(bindings, functions),
    };
  }

  /**
   * Whether `source` is the beginning of an input that more lines could
   * complete (an open bracket, template or comment, a trailing operator...).
   */
  isIncomplete(source: string): boolean {
    const rewritten = rewrite(source, HELPER);
    if (!rewritten.incomplete) return false;
    try {
      this.#compile(rewritten.withoutReturn.code, [], "input");
      return false;
    } catch {
      return true;
    }
  }

  /**
   * Runs `source` in the session's scope and returns the value of its last
   * expression statement (`undefined` if it ends with another statement),
   * boxed so that a promise value is not adopted. Throws what the code
   * throws, or a `SyntaxError`.
   */
  async evaluate(source: string): Promise<{ value: unknown }> {
    const name = `input-${++this.#inputs}`;
    const rewritten = rewrite(source, HELPER);
    // Each candidate: a body, and how far its input is from `source`.
    const candidates: [Body, number][] = [];
    if (rewritten.maybeObjectLiteral) {
      const literal = rewrite(`(${source}\n)`, HELPER).withReturn;
      if (literal !== undefined) candidates.push([literal, 1]);
    }
    if (rewritten.withReturn !== undefined) {
      candidates.push([rewritten.withReturn, 0]);
    }
    candidates.push([rewritten.withoutReturn, 0]);
    let compiled: Compiled | undefined;
    for (let i = 0; i < candidates.length && compiled === undefined; i++) {
      const [body, shift] = candidates[i];
      try {
        compiled = this.#compile(body.code, rewritten.functions, name);
      } catch (error) {
        if (i === candidates.length - 1) throw error;
        continue;
      }
      this.#remember(name, source, body, shift, rewritten.functions);
    }
    this.#declare(rewritten.declarations);
    try {
      const completion = await compiled!(this.#helper) as
        | { value: unknown }
        | undefined;
      return { value: completion?.value };
    } finally {
      for (const [name, kind] of rewritten.declarations) {
        if (kind === "const" && Object.hasOwn(this.bindings, name)) {
          this.#freeze(name);
        }
      }
    }
  }

  /** Makes `name` a constant: reads give its value, assignments throw. */
  #freeze(name: string): void {
    const value = this.bindings[name];
    Object.defineProperty(this.bindings, name, {
      get: () => value,
      set: () => {
        throw new TypeError("Assignment to constant variable.");
      },
      enumerable: true,
      configurable: true,
    });
  }

  #prefix(functions: string[]): string {
    const publish = functions.length === 0
      ? ""
      : `${HELPER}.publish({ ${functions.join(", ")} }); `;
    return `(async function (${HELPER}) { with (${HELPER}.scope) { ${publish}`;
  }

  #compile(body: string, functions: string[], name: string): Compiled {
    return (0, eval)(
      `${this.#prefix(functions)}${body}\n} })\n//# sourceURL=${name}`,
    ) as Compiled;
  }

  #remember(
    name: string,
    source: string,
    body: Body,
    shift: number,
    functions: string[],
  ): void {
    const prefixLength = this.#prefix(functions).length;
    const lineStarts = (text: string) => {
      const starts = [0];
      for (let i = 0; i < text.length; i++) {
        if (text[i] === "\n") starts.push(i + 1);
      }
      return starts;
    };
    const compiledLines = lineStarts(body.code);
    const sourceLines = lineStarts(source);
    this.#positions.set(name, (line, column) => {
      const offset = (compiledLines[line - 1] ?? 0) + column - 1 -
        (line === 1 ? prefixLength : 0);
      const at = Math.min(
        Math.max(0, body.toSource(Math.max(0, offset)) - shift),
        source.length,
      );
      const sourceLine = sourceLines.findLastIndex((start) => start <= at);
      return `${sourceLine + 1}:${at - sourceLines[sourceLine] + 1}`;
    });
    if (this.#positions.size > 100) {
      this.#positions.delete(this.#positions.keys().next().value!);
    }
  }

  #declare(declarations: Map<string, DeclarationKind>): void {
    const bindings = this.bindings;
    for (const [name, kind] of declarations) {
      // let/const/class start fresh; var and function keep a value they had.
      const keep = (kind === "var" || kind === "function") &&
        Object.hasOwn(bindings, name);
      const value = keep ? bindings[name] : undefined;
      Object.defineProperty(bindings, name, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
  }

  /**
   * Tidies a stack trace for the user: drops the frames of the console
   * machinery (from the evaluator's own frame down) and shows positions in
   * console input as `input-N:line:column` of what was typed.
   */
  formatStack(text: string): string {
    const lines = text.split("\n");
    const cut = lines.findIndex((line) =>
      /^\s+at /.test(line) && MACHINERY.some((url) => line.includes(url))
    );
    if (cut >= 0) lines.length = cut;
    // Frames inside the runtime (timers, node compatibility) say nothing.
    return lines.filter((line) => !/^\s+at .*\(?ext:/.test(line)).join("\n")
      .replace(
        /\b(input-\d+), <anonymous>:(\d+):(\d+)/g,
        (text, name: string, line: string, column: string) => {
          const position = this.#positions.get(name);
          if (position === undefined) return text;
          return `${name}:${position(Number(line), Number(column))}`;
        },
      );
  }
}
