// The interactive console, driven under a pseudo-terminal (tmux) as a
// person would use it: `deno task console`, keys in, screen out.

import assert from "node:assert/strict";
import { haveTmux, replyTo, TmuxSession } from "./_tmux.ts";

const DENO = Deno.execPath();

async function startConsole(home: string): Promise<TmuxSession> {
  const session = await TmuxSession.start([DENO, "task", "console"], {
    env: { HOME: home, SYNCLESS_HISTORY: `${home}/history` },
  });
  try {
    await session.waitForLastLine("> ", 60_000);
  } catch (error) {
    await session.kill();
    throw error;
  }
  return session;
}

/** Types `input`, waits for the next prompt, returns the reply lines. */
async function evaluate(
  session: TmuxSession,
  input: string,
): Promise<string[]> {
  await session.line(input);
  const screen = await session.waitFor(
    (s) => {
      const lines = s.split("\n");
      const at = lines.findLastIndex((line) => line === `> ${input}`);
      return at >= 0 && lines.length > at + 1 && lines.at(-1) === ">";
    },
    `the reply to ${input}`,
  );
  return replyTo(screen, input);
}

async function withConsole(
  body: (session: TmuxSession, home: string) => Promise<void>,
): Promise<void> {
  if (!(await haveTmux())) {
    console.log("SKIP: tmux is not installed");
    return;
  }
  const home = await Deno.makeTempDir({ prefix: "syncless-console-" });
  try {
    const session = await startConsole(home);
    try {
      await body(session, home);
    } finally {
      await session.kill();
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("console: prompt, results, let persists, top-level await, multi-line input", async () => {
  await withConsole(async (session) => {
    const banner = await session.screen();
    assert.match(banner, /Syncless for Deno console \(Deno [\d.]+\)/);
    assert.deepEqual(await evaluate(session, "let x = 2"), ["undefined"]);
    assert.deepEqual(await evaluate(session, "x * 21"), ["42"]);
    assert.deepEqual(
      await evaluate(session, 'await sleep(20); "awaited"'),
      ['"awaited"'],
    );
    // The public API is preloaded, and so is the namespace.
    assert.deepEqual(
      await evaluate(session, "typeof spawn + typeof syncless.withTimeout"),
      ['"functionfunction"'],
    );
    await session.line("function add(a, b) {");
    await session.waitForLastLine("... ");
    await session.line("  return a + b + x");
    await session.waitForLastLine("... ");
    await session.line("}");
    await session.waitForLastLine("> ");
    assert.deepEqual(await evaluate(session, "add(19, 21)"), ["42"]);
    const error = await evaluate(session, "throw new TypeError('nope')");
    assert.equal(error[0], "Uncaught TypeError: nope");
    const help = await evaluate(session, "help");
    assert.ok(help.some((line) => line.includes("ticker.start()")));
    assert.ok(help.some((line) => line.includes("spawnSafe(")));
  });
});

Deno.test("console: a ticker makes progress while the prompt waits", async () => {
  await withConsole(async (session) => {
    assert.deepEqual(await evaluate(session, "ticker.start()"), [
      "Ticker { running }",
    ]);
    // Nothing is typed now: dots appear after the idle prompt.
    await session.waitFor(
      (screen) => /^> \.{3,}$/.test(screen.split("\n").at(-1)!),
      "dots after the idle prompt",
    );
    await session.line("ticker.stop()");
    await session.waitFor(
      (screen) => screen.includes("Ticker { stopped }"),
      "the ticker to stop",
    );
  });
});

Deno.test("console: an uncaught error in any tasklet is printed and the prompt returns", async () => {
  await withConsole(async (session) => {
    await session.line('spawn(() => { throw new Error("kaboom") }); "spawned"');
    await session.waitFor(
      (s) => s.includes("Error terminated tasklet-"),
      "the report of the error",
    );
    await session.waitForLastLine("> ");
    const screen = await session.screen();
    assert.match(screen, /\nError: kaboom\n/);
    assert.match(screen, /Error terminated tasklet-\d+, resuming console\./);
    await session.line('wrapTasklet(() => { throw new Error("wrapped") })()');
    await session.waitFor(
      (s) => /\nError: wrapped\n/.test(s),
      "the report of the wrapped tasklet's error",
    );
    await session.line(
      'spawnSafe(() => Promise.reject(new RangeError("safe"))); 0',
    );
    await session.waitFor(
      (s) => /\nRangeError: safe\n/.test(s),
      "the report of spawnSafe's error",
    );
    // The console is alive and still evaluates.
    assert.deepEqual(await evaluate(session, "6 * 7"), ["42"]);
  });
});

Deno.test("console: Ctrl-C interrupts a running input and clears a typed line", async () => {
  await withConsole(async (session) => {
    await session.line("await sleep(60000)");
    await session.waitFor(
      (s) =>
        s.split("\n").at(-1) === "> await sleep(60000)" ||
        s.endsWith("await sleep(60000)"),
      "the input to run",
    );
    await session.keys("C-c");
    await session.waitFor((s) => s.includes("Interrupted"), "Interrupted");
    await session.waitForLastLine("> ");
    await session.line("[1,");
    await session.waitForLastLine("... ");
    await session.keys("C-c");
    await session.waitForLastLine("> ");
    assert.deepEqual(await evaluate(session, "'after'"), ['"after"']);
  });
});

Deno.test("console: history survives a restart (Up arrow), Ctrl-D exits with 0", async () => {
  if (!(await haveTmux())) {
    console.log("SKIP: tmux is not installed");
    return;
  }
  const home = await Deno.makeTempDir({ prefix: "syncless-console-" });
  try {
    const first = await startConsole(home);
    try {
      assert.deepEqual(await evaluate(first, "let hist = 6 * 7"), [
        "undefined",
      ]);
      await first.keys("C-d");
      await first.waitFor((s) => s.includes("[exited 0]"), "exit status 0");
    } finally {
      await first.kill();
    }
    const stat = await Deno.stat(`${home}/history`);
    assert.equal(stat.mode! & 0o777, 0o600);
    assert.equal(
      await Deno.readTextFile(`${home}/history`),
      "let hist = 6 * 7\n",
    );

    const second = await startConsole(home);
    try {
      await second.keys("Up");
      await second.waitForLastLine("> let hist = 6 * 7");
      await second.keys("Enter");
      await second.waitForLastLine("> ");
      assert.deepEqual(await evaluate(second, "hist"), ["42"]);
      await second.keys("C-d");
      await second.waitFor((s) => s.includes("[exited 0]"), "exit status 0");
    } finally {
      await second.kill();
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
