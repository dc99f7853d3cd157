import process from "node:process";
import * as readline from "node:readline";
import * as api from "../mod.ts";
import { spawn } from "../coio/spawn.ts";
import { setUncaughtErrorHandler, type Tasklet } from "../coio/tasklet.ts";
import { ConsoleSession, makeHelp } from "./_session.ts";
import { completeName } from "./_complete.ts";
import { History } from "./_history.ts";
import {
  describeTaskletError,
  makeSafeSpawners,
  setReporter,
  type TaskletErrorReporter,
} from "./_tasklet_errors.ts";
import { Ticker } from "./ticker.ts";

/** Options for {@linkcode runConsole}. */
export interface ConsoleOptions {
  /**
   * The file that keeps the line history between runs (created with mode
   * 0600); `null` keeps no history.
   * @default {$SYNCLESS_HISTORY, else ~/.syncless_history}
   */
  historyFile?: string | null;
  /** How many lines of history to keep. @default {1000} */
  historySize?: number;
  /** Extra names to preload, next to the public API. @default {{}} */
  scope?: Record<string, unknown>;
}

const HELP_TEXT = `Syncless for Deno console

The whole public API is preloaded (spawn, sleep, Channel, withTimeout, ...;
also as the namespace \`syncless\`). Top-level await works, let/const/function/
class declarations persist between inputs, and an input that is not complete
continues on a "... " line (Ctrl-C or .break abandons it). Other tasklets keep
running while the console waits for you; an error that ends any tasklet is
printed and the prompt comes back.

Examples:
  ticker.start()                  a tasklet prints a dot every 100 ms
  ticker.stop()                   ...until you stop it
  await sleep(1000)               the ticker goes on meanwhile
  const ch = new Channel(); spawn(() => ch.send(42)); await ch.receive()
  await withTimeout(100, () => sleep(1000))    // TimeoutError: timed out
  spawnSafe(() => { throw new Error("boom") })  // printed, console goes on
  wrapTasklet((n) => 1n / BigInt(n))(0)        // the same, as a factory
  exit()                          leave (or Ctrl-D on an empty line)
`;

const SERVE_EXAMPLE = `  serve((environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "text/html"]]);
    return "Hello, <b>World!</b>";
  }, { port: 8080 })              an HTTP server, while you keep typing
`;

function defaultHistoryFile(): string | null {
  const fromEnv = Deno.env.get("SYNCLESS_HISTORY");
  if (fromEnv) return fromEnv;
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  return home ? `${home}/.syncless_history` : null;
}

/**
 * Runs the interactive console on standard input and output until Ctrl-D
 * (on an empty line), end of input, or `exit()`: a REPL with the whole
 * public API preloaded, line editing and persistent history (through
 * `node:readline`), top-level `await`, declarations that persist between
 * inputs and multi-line input. Tasklets keep running while it waits for
 * input. While it runs, an error that ends any tasklet, or an unhandled
 * promise rejection, is printed instead of ending the process.
 *
 * `deno task console` runs it (see `console/main.ts`).
 *
 * @example Run the console, then end the process
 * ```ts ignore
 * import { runConsole } from "@syncless/syncless/console";
 *
 * await runConsole({ scope: { answer: 42 } });
 * Deno.exit(0); // tasklets started in the console may still be running
 * ```
 */
export async function runConsole(options: ConsoleOptions = {}): Promise<void> {
  const {
    historyFile = defaultHistoryFile(),
    historySize = 1000,
    scope = {},
  } = options;
  const input = process.stdin;
  const output = process.stdout;
  const terminal = Deno.stdin.isTerminal();
  const colors = Deno.stdout.isTerminal() && !Deno.noColor;

  let exitRequested = false;
  let waitingForInput = false;
  const ticker = new Ticker();

  const print = (text: string) => {
    if (waitingForInput && terminal) {
      readline.clearLine(output, 0);
      readline.cursorTo(output, 0);
    }
    output.write(text);
    if (waitingForInput) rl.prompt(true);
  };
  const report: TaskletErrorReporter = (error, tasklet) => {
    print(
      describeTaskletError(
        error,
        tasklet,
        "console",
        (e) => session.formatError(e).replace(/^Uncaught /, ""),
      ),
    );
  };
  const { spawnSafe, wrapTasklet } = makeSafeSpawners(() => report);
  const leave = () => {
    exitRequested = true;
  };
  const builtins: Record<string, unknown> = {
    help: makeHelp(HELP_TEXT + ("serve" in api ? SERVE_EXAMPLE : "")),
    ticker,
    spawnSafe,
    wrapTasklet,
    exit: leave,
    quit: leave,
    syncless: api,
  };
  const session = new ConsoleSession(
    [builtins, scope, api],
    colors,
    (error) => print(`\n${session.formatError(error)} (in promise)\n`),
  );

  const history = historyFile === null || !terminal
    ? undefined
    : new History(historyFile, historySize);
  const rl = readline.createInterface({
    input,
    output,
    terminal,
    prompt: session.prompt,
    history: history?.load() ?? [],
    historySize,
    removeHistoryDuplicates: true,
    completer: (line: string) =>
      completeName(line, session.evaluator.bindings, [builtins, scope, api]),
  });
  if (history !== undefined) {
    rl.on("history", (lines: string[]) => history.save(lines));
  }

  // Lines typed while an input runs wait their turn.
  const lines: string[] = [];
  let closed = false;
  let wake: (() => void) | undefined;
  let interrupt: (() => void) | undefined;
  rl.on("line", (line: string) => {
    lines.push(line);
    wake?.();
  });
  rl.on("close", () => {
    closed = true;
    wake?.();
  });
  rl.on("SIGINT", () => {
    if (interrupt !== undefined) {
      interrupt();
      return;
    }
    const typed = rl.line.length > 0 || session.pending;
    session.reset();
    rl.setPrompt(session.prompt);
    // Clears what was typed; readline has no public call for it.
    (rl as unknown as { line: string }).line = "";
    output.write(typed ? "\n" : "\n(To exit, press Ctrl-D or type exit())\n");
    rl.prompt();
  });

  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    print(`\n${session.formatError(event.reason)} (in promise)\n`);
  };
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    print(`\n${session.formatError(event.error)}\n`);
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  globalThis.addEventListener("error", onError);
  const previousHandler = setUncaughtErrorHandler(report);
  const previousReporter = setReporter(report);

  try {
    output.write(
      `Syncless for Deno console (Deno ${Deno.version.deno}). ` +
        `Type "help" for examples, Ctrl-D to exit.\n`,
    );
    while (!exitRequested) {
      if (lines.length === 0) {
        if (closed) break;
        rl.setPrompt(session.prompt);
        waitingForInput = true;
        rl.prompt();
        await new Promise<void>((resolve) => wake = resolve);
        wake = undefined;
        waitingForInput = false;
        continue;
      }
      const source = session.push(lines.shift()!);
      if (source === undefined) continue;
      const text = await runInput(session, source, (stop) => interrupt = stop);
      interrupt = undefined;
      output.write(text);
    }
    if (closed && !exitRequested) output.write("\n");
  } finally {
    ticker.stop();
    rl.close();
    globalThis.removeEventListener("unhandledrejection", onRejection);
    globalThis.removeEventListener("error", onError);
    setUncaughtErrorHandler(previousHandler);
    setReporter(previousReporter);
    await history?.flush();
  }
}

/**
 * Runs one input in its own tasklet, so Ctrl-C can kill it (any coio wait
 * in it raises `TaskletExit`); the console then moves on at once even if the
 * input is stuck in a non-coio promise.
 */
async function runInput(
  session: ConsoleSession,
  source: string,
  onInterruptible: (stop: () => void) => void,
): Promise<string> {
  const tasklet: Tasklet<string> = spawn(
    { name: "console input" },
    async () => (await session.run(source)).text,
  );
  let stop!: () => void;
  const interrupted = new Promise<string>((resolve) => {
    stop = () => {
      tasklet.kill();
      resolve("Interrupted\n");
    };
  });
  onInterruptible(stop);
  return await Promise.race([tasklet.join(), interrupted]);
}
