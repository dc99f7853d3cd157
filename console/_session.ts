// One console session, local or remote: collects lines until an input is
// complete, runs it in the session's scope and formats what to print.

import { Evaluator } from "./_evaluator.ts";

/** The prompt of a console waiting for a new input. */
export const PROMPT = "> ";
/** The prompt of a console waiting for the rest of an incomplete input. */
export const CONTINUATION_PROMPT = "... ";

const CUSTOM_INSPECT = Symbol.for("Deno.customInspect");

/** What running one input produced. */
export interface RunResult {
  /** The text to print (a value, or an error with its stack), ending in a newline. */
  text: string;
  /** Whether the input threw. */
  failed: boolean;
}

/** Formats a result value as the console shows it. */
export function formatValue(value: unknown, colors: boolean): string {
  if (typeof value === "string") {
    const quoted = JSON.stringify(value);
    return colors ? `\x1b[32m${quoted}\x1b[39m` : quoted;
  }
  return Deno.inspect(value, { colors });
}

/**
 * A function that prints `text` when it is shown (typing `help`) or called
 * (`help()` returns it, and the console shows it).
 */
export function makeHelp(text: string): () => unknown {
  const help = () => help;
  Object.defineProperty(help, CUSTOM_INSPECT, { value: () => text });
  Object.defineProperty(help, "toString", { value: () => text });
  return help;
}

/** A console session: its scope, and the lines of the input being typed. */
export class ConsoleSession {
  /** Runs inputs in this session's scope. */
  readonly evaluator: Evaluator;
  #lines: string[] = [];
  #colors: boolean;
  #onRejection: (error: unknown) => void;

  /**
   * @param layers Read-only bindings behind the session's own (built-ins,
   * host scope, public API), searched in order.
   * @param onRejection Told when a promise that an input showed as its
   * value rejects (the console shows that promise, so it counts as handled).
   */
  constructor(
    layers: readonly object[],
    colors: boolean,
    onRejection: (error: unknown) => void,
  ) {
    this.evaluator = new Evaluator(layers);
    this.#colors = colors;
    this.#onRejection = onRejection;
  }

  /** The prompt to show now: `> `, or `... ` inside an incomplete input. */
  get prompt(): string {
    return this.#lines.length === 0 ? PROMPT : CONTINUATION_PROMPT;
  }

  /** Whether lines of an incomplete input are pending. */
  get pending(): boolean {
    return this.#lines.length > 0;
  }

  /**
   * Adds a typed line. Returns the complete input to run, or `undefined`
   * while more lines are needed (or for a blank line, or `.break`, which
   * abandons the pending lines).
   */
  push(line: string): string | undefined {
    if (line.trim() === ".break") {
      this.reset();
      return undefined;
    }
    if (this.#lines.length === 0 && line.trim() === "") return undefined;
    this.#lines.push(line);
    const source = this.#lines.join("\n");
    if (this.evaluator.isIncomplete(source)) return undefined;
    this.#lines = [];
    return source;
  }

  /** Abandons the lines of an incomplete input. */
  reset(): void {
    this.#lines = [];
  }

  /** Runs a complete input and formats its value or error. */
  async run(source: string): Promise<RunResult> {
    try {
      const { value } = await this.evaluator.evaluate(source);
      if (value instanceof Promise) value.catch(this.#onRejection);
      return { text: formatValue(value, this.#colors) + "\n", failed: false };
    } catch (error) {
      return { text: this.formatError(error) + "\n", failed: true };
    }
  }

  /** Formats an error as `Uncaught <stack>`, without the console's own frames. */
  formatError(error: unknown): string {
    if (error instanceof Error) {
      return "Uncaught " +
        this.evaluator.formatStack(Deno.inspect(error, { colors: false }));
    }
    return "Uncaught " + formatValue(error, this.#colors);
  }
}
