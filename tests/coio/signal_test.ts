import assert from "node:assert/strict";
import {
  current,
  schedule,
  signal,
  SignalHandler,
  sleep,
  spawn,
  withTimeout,
} from "../../coio/mod.ts";

/** A promise that `count` calls of `tick()` fulfil. */
function countdown(count: number): { tick(): void; done: Promise<void> } {
  let resolve!: () => void;
  const done = new Promise<void>((r) => resolve = r);
  return {
    tick() {
      if (--count === 0) resolve();
    },
    done,
  };
}

// Waits for handlers with a generous bound so that a lost signal fails the
// test instead of hanging it.
function delivered(done: Promise<void>): Promise<void> {
  return withTimeout(10_000, () => done);
}

Deno.test("signal_test testSignalHandlerEvent: two handlers each run once per SIGUSR2", async () => {
  const got: number[] = [];
  const names: string[] = [];
  let both = countdown(2);
  const first = new SignalHandler("SIGUSR2", (name) => {
    got.push(1);
    names.push(name);
    both.tick();
  });
  const second = new SignalHandler("SIGUSR2", (name) => {
    got.push(2);
    names.push(name);
    both.tick();
  });
  // A sleeping tasklet, so that the loop has a real event to wait on.
  const sleeper = spawn(() => sleep(999_999_000));
  try {
    await schedule();
    assert.deepEqual(got, []);
    Deno.kill(Deno.pid, "SIGUSR2");
    assert.deepEqual(got, []); // dispatch is asynchronous
    await delivered(both.done);
    assert.deepEqual(got.toSorted(), [1, 2]);
    assert.deepEqual(names, ["SIGUSR2", "SIGUSR2"]);
    // Nothing runs twice: any duplicate would have been queued by now.
    for (let i = 0; i < 10; i++) await schedule();
    assert.deepEqual(got.toSorted(), [1, 2]);

    // A second signal, sent once the first was handled, runs each again.
    both = countdown(2);
    Deno.kill(Deno.pid, "SIGUSR2");
    await delivered(both.done);
    assert.deepEqual(got.toSorted(), [1, 1, 2, 2]);
  } finally {
    sleeper.kill();
    first.delete();
    second.delete();
  }
  assert.equal(first.active, false);
  assert.equal(second.active, false);
});

Deno.test("SignalHandler: handlers run as tasklets, not inside the signal dispatch", async () => {
  const ran = countdown(1);
  let tasklet = "";
  using _handler = new SignalHandler("SIGUSR2", () => {
    tasklet = current().name;
    ran.tick();
  });
  Deno.kill(Deno.pid, "SIGUSR2");
  await delivered(ran.done);
  assert.equal(tasklet, "signal SIGUSR2");
  assert.notEqual(tasklet, current().name);
});

Deno.test("SignalHandler: a handler's error is printed and ignored", async () => {
  const printed: unknown[][] = [];
  const originalError = console.error;
  console.error = (...args: unknown[]) => printed.push(args);
  try {
    const both = countdown(2);
    using _failing = new SignalHandler("SIGUSR2", () => {
      both.tick();
      throw new Error("handler failed");
    });
    using _failingLater = new SignalHandler("SIGUSR2", async () => {
      await schedule();
      both.tick();
      throw new Error("async handler failed");
    });
    const survivor = countdown(1);
    using _fine = new SignalHandler("SIGUSR2", () => survivor.tick());
    Deno.kill(Deno.pid, "SIGUSR2");
    await delivered(Promise.all([both.done, survivor.done]).then(() => {}));
    // The async handler's error surfaces once it has run.
    for (let i = 0; i < 10 && printed.length < 2; i++) await schedule();
  } finally {
    console.error = originalError;
  }
  const messages = printed.map((args) => (args[1] as Error).message).sort();
  assert.deepEqual(messages, ["async handler failed", "handler failed"]);
  for (const args of printed) {
    assert.equal(args[0], "signal handler for SIGUSR2 failed:");
  }
});

Deno.test("SignalHandler: a deleted handler no longer runs, the others still do", async () => {
  let deletedRuns = 0;
  const deleted = new SignalHandler("SIGUSR2", () => deletedRuns++);
  const kept = countdown(1);
  using _kept = new SignalHandler("SIGUSR2", () => kept.tick());
  deleted.delete();
  deleted.delete(); // deleting twice does nothing
  Deno.kill(Deno.pid, "SIGUSR2");
  await delivered(kept.done);
  for (let i = 0; i < 10; i++) await schedule();
  assert.equal(deletedRuns, 0);
});

Deno.test("signal(): one persistent handler, replaced in place, removed with null", async () => {
  const log: string[] = [];
  let next = countdown(1);
  const handler = signal("SIGUSR2", () => {
    log.push("first");
    next.tick();
  });
  try {
    assert.ok(handler instanceof SignalHandler);
    const replaced = signal("SIGUSR2", (name) => {
      log.push(`second ${name}`);
      next.tick();
    });
    assert.equal(replaced, handler);
    Deno.kill(Deno.pid, "SIGUSR2");
    await delivered(next.done);
    for (let i = 0; i < 10; i++) await schedule();
    assert.deepEqual(log, ["second SIGUSR2"]);

    // After removal, a probe handler keeps SIGUSR2 from ending the process.
    const probe = countdown(1);
    using _probe = new SignalHandler("SIGUSR2", () => probe.tick());
    assert.equal(signal("SIGUSR2", null), null);
    assert.equal(handler.active, false);
    assert.equal(signal("SIGUSR2", null), null); // already removed
    next = countdown(1);
    Deno.kill(Deno.pid, "SIGUSR2");
    await delivered(probe.done);
    for (let i = 0; i < 10; i++) await schedule();
    assert.deepEqual(log, ["second SIGUSR2"]);

    // A new persistent handler is a new object.
    const again = signal("SIGUSR2", () => {});
    assert.notEqual(again, handler);
    again.delete();
  } finally {
    signal("SIGUSR2", null);
  }
});

Deno.test("SignalHandler: invalid signal names and handlers throw TypeError", () => {
  for (const name of ["SIGFOO", "sigusr2", "", "SIGKILL", "SIGSTOP"]) {
    assert.throws(
      () => new SignalHandler(name as Deno.Signal, () => {}),
      (error) =>
        error instanceof TypeError &&
        error.message.startsWith(
          `Cannot handle signal ${JSON.stringify(name)}: `,
        ),
    );
    assert.throws(() => signal(name as Deno.Signal, () => {}), TypeError);
    assert.throws(() => signal(name as Deno.Signal, null), TypeError);
  }
  assert.throws(
    () => new SignalHandler(12 as unknown as Deno.Signal, () => {}),
    { name: "TypeError", message: /signal name must be a string/ },
  );
  for (const bad of [undefined, 42, "handler", {}]) {
    assert.throws(
      () => new SignalHandler("SIGUSR2", bad as never),
      { name: "TypeError", message: /^signal handler not callable/ },
    );
    assert.throws(() => signal("SIGUSR2", bad as never), TypeError);
  }
  using handler = new SignalHandler("SIGUSR2", () => {});
  assert.throws(() => {
    handler.handler = null as never;
  }, TypeError);
});

Deno.test("SignalHandler: registrations do not keep the process alive", async () => {
  const mod = new URL("../../coio/mod.ts", import.meta.url).href;
  const code = `
    import { signal, SignalHandler } from ${JSON.stringify(mod)};
    new SignalHandler("SIGUSR2", () => {});
    signal("SIGINT", () => {});
    console.log("registered");
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", code],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  assert.equal(output.signal, null, "the child had to be killed: it hung");
  assert.equal(new TextDecoder().decode(output.stdout).trim(), "registered");
});
