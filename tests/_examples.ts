/**
 * Runs one example (`deno run -A examples/NAME.ts`) as a child process for a
 * smoke test: its stdout is read line by line so a test can wait for a line,
 * stderr is collected, and `finish()` waits for the exit (killing the child
 * if it outlives its deadline), so no process, stream or timer is leaked.
 */

const ROOT = new URL("../", import.meta.url);
const decoder = new TextDecoder();

/** The result of a finished example. */
export interface ExampleResult {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** Options for {@linkcode Example.start}. */
export interface ExampleOptions {
  /** Environment variables for the child (PORT, LIFETIME_MS, ...). */
  env?: Record<string, string>;
  /** Command-line arguments after the file name. */
  args?: string[];
  /** Bytes to write to the child's stdin (then it is closed); none = null stdin. */
  stdin?: string;
  /** Milliseconds before the child is killed (SIGKILL) whatever it does. */
  deadlineMs?: number;
}

/** A running example. */
export class Example {
  readonly name: string;
  #child: Deno.ChildProcess;
  #stdout = "";
  #stderr = "";
  #stdoutDone: Promise<void>;
  #stderrDone: Promise<void>;
  #changed: (() => void)[] = [];
  #deadline: ReturnType<typeof setTimeout>;
  #result: Promise<ExampleResult> | undefined;

  private constructor(name: string, options: ExampleOptions) {
    this.name = name;
    const file = new URL(`examples/${name}.ts`, ROOT).pathname;
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", file, ...(options.args ?? [])],
      cwd: ROOT.pathname,
      env: { NO_COLOR: "1", ...options.env },
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (options.stdin !== undefined) {
      const writer = this.#child.stdin.getWriter();
      writer.write(new TextEncoder().encode(options.stdin))
        .then(() => writer.close())
        .catch(() => {});
    }
    this.#stdoutDone = this.#pump(this.#child.stdout, (t) => this.#stdout += t);
    this.#stderrDone = this.#pump(this.#child.stderr, (t) => this.#stderr += t);
    this.#deadline = setTimeout(
      () => this.kill("SIGKILL"),
      options.deadlineMs ?? 60_000,
    );
  }

  /** Starts `examples/<name>.ts`. */
  static start(name: string, options: ExampleOptions = {}): Example {
    return new Example(name, options);
  }

  async #pump(
    stream: ReadableStream<Uint8Array>,
    append: (text: string) => void,
  ): Promise<void> {
    for await (const chunk of stream) {
      append(decoder.decode(chunk, { stream: true }));
      for (const wake of this.#changed.splice(0)) wake();
    }
    for (const wake of this.#changed.splice(0)) wake();
  }

  /** Everything printed to stdout so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** Everything printed to stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /**
   * Waits until stdout matches `pattern` and returns the match; throws (with
   * the output so far) when the child ends first or `timeoutMs` passes.
   */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    const end = Date.now() + timeoutMs;
    let ended = false;
    this.#stdoutDone.then(() => ended = true);
    for (;;) {
      const match = pattern.exec(this.#stdout);
      if (match !== null) return match;
      const left = end - Date.now();
      if (ended || left <= 0) {
        throw new Error(
          `${this.name}: no ${pattern} in stdout (${
            ended ? "it ended" : "timed out"
          })\n--- stdout:\n${this.#stdout}\n--- stderr:\n${this.#stderr}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#changed.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for a `host:port` after `label` in stdout and returns the port. */
  async port(label: RegExp = /127\.0\.0\.1:(\d+)/): Promise<number> {
    const match = await this.waitFor(label);
    return Number(match[1]);
  }

  /** Sends a signal to the child (ignored when it has already ended). */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.#child.kill(signal);
    } catch {
      // Already ended.
    }
  }

  /** Waits for the child to end and returns its exit status and output. */
  finish(): Promise<ExampleResult> {
    this.#result ??= (async () => {
      const status = await this.#child.status;
      clearTimeout(this.#deadline);
      await Promise.all([this.#stdoutDone, this.#stderrDone]);
      return {
        code: status.code,
        signal: status.signal,
        stdout: this.#stdout,
        stderr: this.#stderr,
      };
    })();
    return this.#result;
  }

  /** Kills the child if it still runs and waits for it (for `finally`). */
  async close(): Promise<ExampleResult> {
    this.kill("SIGKILL");
    return await this.finish();
  }
}

/** Reads from `conn` until `pattern` matches the text read so far. */
export async function readUntil(
  conn: Deno.Conn,
  pattern: RegExp,
  timeoutMs = 10_000,
): Promise<string> {
  let text = "";
  const buffer = new Uint8Array(4096);
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    while (!pattern.test(text)) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
  } catch {
    // Closed by the timer: the assertion below reports what arrived.
  } finally {
    clearTimeout(timer);
  }
  if (!pattern.test(text)) {
    throw new Error(`no ${pattern} in ${JSON.stringify(text)}`);
  }
  return text;
}

/** Closes `closer`, ignoring "already closed". */
export function closeQuietly(closer: { close(): void }): void {
  try {
    closer.close();
  } catch {
    // Already closed.
  }
}
