import { sleep } from "../coio/sleep.ts";
import { spawn } from "../coio/spawn.ts";
import type { Tasklet } from "../coio/tasklet.ts";

/** Options for {@linkcode Ticker}. */
export interface TickerOptions {
  /** Milliseconds between two dots. @default {100} */
  intervalMs?: number;
  /** Where the dots go. @default {writes to standard output} */
  write?: (text: string) => void | Promise<void>;
}

const encoder = new TextEncoder();

async function writeStdout(text: string): Promise<void> {
  await Deno.stdout.write(encoder.encode(text));
}

/**
 * A demo of a background tasklet: once started, it prints a dot every
 * `intervalMs` while the rest of the program (for example the console's
 * prompt) goes on. The console preloads one as `ticker` (Syncless's
 * `+ticker` / `-ticker` are `ticker.start()` / `ticker.stop()` here).
 *
 * @example Tick three times
 * ```ts
 * import { Ticker } from "@syncless/syncless/console";
 * import { sleep } from "@syncless/syncless/coio";
 *
 * let dots = "";
 * const ticker = new Ticker({
 *   intervalMs: 10,
 *   write: (text) => {
 *     dots += text;
 *   },
 * });
 * ticker.start();
 * await sleep(35);
 * ticker.stop();
 * console.log(dots.length >= 1); // true
 * ```
 */
export class Ticker {
  #intervalMs: number;
  #write: (text: string) => void | Promise<void>;
  #tasklet: Tasklet<void> | undefined;

  /**
   * Creates a stopped ticker.
   *
   * @throws {RangeError} when `intervalMs` is not a positive number.
   */
  constructor(options: TickerOptions = {}) {
    const { intervalMs = 100, write = writeStdout } = options;
    if (typeof intervalMs !== "number" || !(intervalMs > 0)) {
      throw new RangeError(
        `Ticker intervalMs must be a number > 0, got ${String(intervalMs)}`,
      );
    }
    this.#intervalMs = intervalMs;
    this.#write = write;
  }

  /** Whether the ticking tasklet is running. */
  get running(): boolean {
    return this.#tasklet?.alive === true;
  }

  /** Starts ticking in a new tasklet; a no-op if it is already running. */
  start(): this {
    if (this.running) return this;
    this.#tasklet = spawn({ name: "ticker" }, async () => {
      for (;;) {
        await sleep(this.#intervalMs);
        await this.#write(".");
      }
    });
    return this;
  }

  /** Kills the ticking tasklet; a no-op if it is not running. */
  stop(): this {
    this.#tasklet?.kill();
    this.#tasklet = undefined;
    return this;
  }

  /** Shows the state in the console instead of the object's fields. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Ticker { ${this.running ? "running" : "stopped"} }`;
  }
}
