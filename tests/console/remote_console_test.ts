import assert from "node:assert/strict";
import { Event } from "../../coio/event.ts";
import {
  REMOTE_CONSOLE_GREETING,
  REMOTE_CONSOLE_PROMPT_MARKER,
  type RemoteConsoleOptions,
  startRemoteConsole,
} from "../../console/mod.ts";
import { count, MARKER, WireClient } from "./_wire.ts";

async function withServer(
  options: RemoteConsoleOptions,
  body: (port: number, logs: string[]) => Promise<void>,
): Promise<void> {
  const logs: string[] = [];
  const server = startRemoteConsole({
    port: 0,
    log: (message) => logs.push(message),
    ...options,
  });
  try {
    await body(server.addr.port, logs);
  } finally {
    await server.close();
  }
}

Deno.test("the wire protocol: greeting, banner, prompts with markers, results", async () => {
  assert.equal(REMOTE_CONSOLE_GREETING, "\0\0\r");
  assert.equal(REMOTE_CONSOLE_PROMPT_MARKER, "\0\r\0\r\r");
  await withServer({}, async (port) => {
    const client = await WireClient.connect(port);
    try {
      await client.waitForPrompts(1);
      assert.match(
        client.text,
        /^\0\0\rSyncless for Deno remote console \(Deno [\d.]+, pid \d+\)\.\n.*\n\0\r\0\r\r> \0$/,
      );
      await client.send("1 + 1\n");
      await client.waitForPrompts(2);
      assert.ok(
        client.text.endsWith(`${MARKER}> \0` + "2\n" + `${MARKER}> \0`),
      );
      await client.send("function f() {\n");
      await client.waitForPrompts(3);
      assert.ok(client.text.endsWith(`${MARKER}... \0`), "continuation prompt");
      await client.send("  return 'multi'\r\n}\n");
      await client.waitForPrompts(5);
      await client.send("f()\n");
      await client.waitForPrompts(6);
      assert.equal(client.replyAfterPrompt(4), "undefined\n");
      assert.equal(client.replyAfterPrompt(5), '"multi"\n');
    } finally {
      await client.close();
    }
  });
});

Deno.test("errors go back to the client with their stack trace", async () => {
  await withServer({}, async (port) => {
    const client = await WireClient.connect(port);
    try {
      await client.waitForPrompts(1);
      await client.send("let n = 1\n");
      await client.send("throw new RangeError('bad ' + n)\n");
      await client.send("n + 1\n");
      await client.waitForPrompts(4);
      const reply = client.replyAfterPrompt(2);
      assert.match(reply, /^Uncaught RangeError: bad 1\n {4}at .*input-2:1:7/);
      assert.equal(client.replyAfterPrompt(3), "2\n", "the session goes on");
    } finally {
      await client.close();
    }
  });
});

Deno.test("concurrent sessions run side by side, each with its own scope", async () => {
  const gate = new Event();
  const shared = { hits: 0, value: 0 };
  await withServer({ scope: { gate, shared } }, async (port) => {
    const a = await WireClient.connect(port);
    const b = await WireClient.connect(port);
    try {
      await Promise.all([a.waitForPrompts(1), b.waitForPrompts(1)]);
      await a.send("let who = 'a'; shared.hits++\n");
      await b.send("let who = 'b'; shared.hits++\n");
      await Promise.all([a.waitForPrompts(2), b.waitForPrompts(2)]);
      // A waits on the shared event; B, in its own session, sets it.
      await a.send("await gate.wait(); shared.value + ':' + who\n");
      await b.send("shared.value = 42; gate.set(); who\n");
      await Promise.all([a.waitForPrompts(3), b.waitForPrompts(3)]);
      assert.equal(a.replyAfterPrompt(2), '"42:a"\n');
      assert.equal(b.replyAfterPrompt(2), '"b"\n');
      assert.equal(shared.hits, 2);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

Deno.test("quit(), exit(), a Ctrl-D line and EOF end a session", async () => {
  await withServer({}, async (port, logs) => {
    for (const ending of ["quit()\n", "exit()\n", "\x04\r\n", ""]) {
      const client = await WireClient.connect(port);
      try {
        await client.waitForPrompts(1);
        await client.send("'still here'\n" + ending);
        if (ending === "") await client.closeWrite();
        await client.waitForEof();
        assert.ok(client.text.includes('"still here"\n'));
        assert.equal(count(client.text, MARKER), 2, JSON.stringify(ending));
      } finally {
        await client.close();
      }
    }
    assert.equal(
      logs.filter((line) => line.includes("session opened")).length,
      4,
    );
  });
});

Deno.test("console.log and tasklet errors of a session are written to it", async () => {
  await withServer({}, async (port) => {
    const client = await WireClient.connect(port);
    try {
      await client.waitForPrompts(1);
      await client.send("console.log('to the client', { a: 1 })\n");
      await client.waitForPrompts(2);
      assert.equal(
        client.replyAfterPrompt(1),
        "to the client { a: 1 }\nundefined\n",
      );
      await client.send(
        "spawn(() => { throw new Error('kaboom') }); 'spawned'\n",
      );
      await client.waitFor(
        (t) => t.includes("Error terminated"),
        "the tasklet's error",
      );
      assert.match(client.text, /\nError: kaboom\n/);
      assert.match(
        client.text,
        /Error terminated tasklet-\d+, resuming session\.\n/,
      );
      await client.send("'alive'\n");
      await client.waitFor((t) => t.includes('"alive"\n'), "the next result");
    } finally {
      await client.close();
    }
  });
});

Deno.test("with a token, the first line must be it; a wrong one runs nothing", async () => {
  await withServer({ token: "s3cret" }, async (port, logs) => {
    const intruder = await WireClient.connect(port);
    try {
      await intruder.waitForPrompts(1);
      assert.equal(intruder.text, `\0\0\r${MARKER}token: \0`);
      await intruder.send("globalThis.h7Executed = true\n1 + 1\n");
      await intruder.waitForEof();
      assert.equal(
        intruder.text,
        `\0\0\r${MARKER}token: \0error: wrong token, closing\n`,
      );
      assert.equal("h7Executed" in globalThis, false);
      assert.ok(
        logs.some((line) => /refused 127\.0\.0\.1:\d+: wrong token/.test(line)),
        logs.join("\n"),
      );
    } finally {
      await intruder.close();
    }
    const friend = await WireClient.connect(port);
    try {
      await friend.waitForPrompts(1);
      await friend.send("s3cret\n6 * 7\n");
      await friend.waitForPrompts(3);
      assert.equal(friend.replyAfterPrompt(2), "42\n");
    } finally {
      await friend.close();
    }
  });
});

Deno.test("binding a non-loopback address needs a token", async () => {
  assert.throws(
    () => startRemoteConsole({ hostname: "0.0.0.0", port: 0 }),
    (error: Error) =>
      error instanceof TypeError &&
      /not a loopback.*needs a token/.test(error.message),
  );
  assert.throws(
    () => startRemoteConsole({ port: 0, token: "" }),
    TypeError,
  );
  assert.throws(
    () => startRemoteConsole({ port: 0, maxLineSize: 0 }),
    RangeError,
  );
  const server = startRemoteConsole({
    hostname: "0.0.0.0",
    port: 0,
    token: "t",
    log: () => {},
  });
  assert.equal(server.addr.hostname, "0.0.0.0");
  await server.close();
  for (const hostname of ["127.0.0.1", "::1", "localhost"]) {
    let server;
    try {
      server = startRemoteConsole({ hostname, port: 0, log: () => {} });
    } catch (error) {
      // A machine without IPv6 cannot bind ::1; that is not a refusal.
      if (hostname === "::1" && !(error instanceof TypeError)) continue;
      throw error;
    }
    await server.close();
  }
});

Deno.test("a line over the limit (1 MiB by default) is refused and ends the session", async () => {
  await withServer({}, async (port, logs) => {
    const client = await WireClient.connect(port);
    try {
      await client.waitForPrompts(1);
      const line = "'" + "a".repeat(1536 * 1024) + "'\n";
      const sending = client.send(line).catch(() => {});
      await client.waitForEof();
      await sending;
      assert.ok(
        client.text.endsWith(
          `${MARKER}> \0error: line longer than 1048576 bytes, closing\n`,
        ),
        JSON.stringify(client.text.slice(-200)),
      );
      assert.ok(logs.some((l) => l.includes("longer than 1048576 bytes")));
    } finally {
      await client.close();
    }
    // A line of exactly the limit is fine.
    const ok = await WireClient.connect(port);
    try {
      await ok.waitForPrompts(1);
      await ok.send("'" + "b".repeat(1024 * 1024 - 9) + "'.length\n");
      await ok.waitForPrompts(2);
      assert.equal(ok.replyAfterPrompt(1), `${1024 * 1024 - 9}\n`);
    } finally {
      await ok.close();
    }
  });
});

Deno.test("sameUserOnly admits a process of the same user", async () => {
  await withServer({ sameUserOnly: true }, async (port) => {
    const client = await WireClient.connect(port);
    try {
      await client.waitForPrompts(1);
      await client.send("Deno.uid()\n");
      await client.waitForPrompts(2);
      assert.equal(client.replyAfterPrompt(1), `${Deno.uid()}\n`);
    } finally {
      await client.close();
    }
  });
});

Deno.test("close() ends the open sessions", async () => {
  const server = startRemoteConsole({ port: 0, log: () => {} });
  const client = await WireClient.connect(server.addr.port);
  try {
    await client.waitForPrompts(1);
    assert.equal(server.sessionCount, 1);
    await server.close();
    await client.waitForEof();
    assert.equal(server.sessionCount, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("the CLI listens where asked, tells how to connect, refuses bad arguments", async () => {
  const cli = new URL("../../console/remote_console.ts", import.meta.url)
    .pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, "127.0.0.1", "0"],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let text = "";
    while (!/\n {2}nc \S+ \d+/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`CLI ended: ${text}`);
      text += value;
    }
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(text)![1]);
    assert.match(text, /backdoor_client\.ts 127\.0\.0\.1 \d+/);
    const client = await WireClient.connect(port);
    try {
      await client.waitForPrompts(1);
      await client.send("typeof startRemoteConsole\n");
      await client.waitForPrompts(2);
      assert.equal(client.replyAfterPrompt(1), '"function"\n');
    } finally {
      await client.close();
    }
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // it ended on its own (and the test says why)
    }
    await child.status;
    await reader.cancel();
  }
  for (
    const args of [["0.0.0.0", "0"], ["not-a-port"], ["a", "b", "c"], [
      "--help",
    ]]
  ) {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", cli, ...args],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env: { SYNCLESS_CONSOLE_TOKEN: "" },
    }).output();
    assert.equal(code, 1, args.join(" "));
    assert.match(
      new TextDecoder().decode(stderr),
      args[0] === "0.0.0.0" ? /needs a token/ : /^usage: /,
    );
  }
});
