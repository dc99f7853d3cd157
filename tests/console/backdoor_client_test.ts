// The backdoor client, driven under a pseudo-terminal (tmux) against a
// remote console in this process, a plain TCP server, and a process whose
// console SIGUSR1 starts.

import assert from "node:assert/strict";
import { startRemoteConsole } from "../../console/mod.ts";
import { haveTmux, replyTo, TmuxSession } from "./_tmux.ts";

const DENO = Deno.execPath();
const CLIENT = new URL("../../console/backdoor_client.ts", import.meta.url)
  .pathname;
const FIXTURE = new URL("./_signal_fixture.ts", import.meta.url).pathname;

async function startClient(
  args: string[],
  home: string,
  env: Record<string, string> = {},
): Promise<TmuxSession> {
  return await TmuxSession.start([DENO, "run", "-A", CLIENT, ...args], {
    env: { HOME: home, ...env },
  });
}

/** Types `input`, waits for the next `> ` prompt, returns the reply lines. */
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

async function withHome(body: (home: string) => Promise<void>): Promise<void> {
  if (!(await haveTmux())) {
    console.log("SKIP: tmux is not installed");
    return;
  }
  const home = await Deno.makeTempDir({ prefix: "syncless-backdoor-" });
  try {
    await body(home);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("backdoor client: line editing with a remote console, markers hidden, history, quit()", async () => {
  await withHome(async (home) => {
    const server = startRemoteConsole({ port: 0, log: () => {} });
    const client = await startClient(
      ["127.0.0.1", String(server.addr.port)],
      home,
    );
    try {
      const first = await client.waitForLastLine("> ", 60_000);
      assert.match(first, /info: local line editing enabled for RemoteConsole/);
      assert.match(first, /Syncless for Deno remote console/);
      assert.deepEqual(await evaluate(client, "let y = 20"), ["undefined"]);
      assert.deepEqual(await evaluate(client, "y + 22"), ["42"]);
      await client.line("[1,");
      await client.waitForLastLine("... ");
      await client.line("2]");
      await client.waitForLastLine("> ");
      // Up recalls the last line typed, edited locally.
      await client.keys("Up");
      await client.waitForLastLine("> 2]");
      await client.keys("C-u");
      await client.waitForLastLine("> ");
      const screen = await client.screen();
      assert.ok(screen.includes("[ 1, 2 ]"), screen);
      assert.ok(!screen.includes("\0") && !screen.includes("^@"), screen);
      await client.line("quit()");
      await client.waitFor((s) => s.includes("[exited 0]"), "exit status 0");
      assert.equal(
        await Deno.readTextFile(`${home}/.syncless_backdoor_history`),
        "let y = 20\ny + 22\n[1,\n2]\nquit()\n",
      );
    } finally {
      await client.kill();
      await server.close();
    }
  });
});

Deno.test("backdoor client: sends the token when asked, Ctrl-D ends with 0", async () => {
  await withHome(async (home) => {
    const server = startRemoteConsole({
      port: 0,
      token: "s3cret",
      log: () => {},
    });
    const client = await startClient(
      ["127.0.0.1", String(server.addr.port)],
      home,
      { SYNCLESS_CONSOLE_TOKEN: "s3cret" },
    );
    try {
      await client.waitForLastLine("> ", 60_000);
      assert.deepEqual(await evaluate(client, "6 * 7"), ["42"]);
      await client.keys("C-d");
      const screen = await client.waitFor(
        (s) => s.includes("[exited 0]"),
        "exit status 0",
      );
      assert.match(screen, /info: EOF from user, closing connection/);
      assert.ok(!screen.includes("s3cret"), "the token is never shown");
    } finally {
      await client.kill();
      await server.close();
    }
  });
});

Deno.test("backdoor client: a refused token ends with status 3", async () => {
  await withHome(async (home) => {
    const server = startRemoteConsole({
      port: 0,
      token: "s3cret",
      log: () => {},
    });
    const client = await startClient(
      ["127.0.0.1", String(server.addr.port)],
      home,
      { SYNCLESS_CONSOLE_TOKEN: "wrong" },
    );
    try {
      const screen = await client.waitFor(
        (s) => s.includes("[exited 3]"),
        "exit status 3",
        60_000,
      );
      assert.match(screen, /error: wrong token, closing/);
    } finally {
      await client.kill();
      await server.close();
    }
  });
});

Deno.test("backdoor client: raw passthrough with a server that is not ours", async () => {
  await withHome(async (home) => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const serving = (async () => {
      const conn = await listener.accept();
      const encoder = new TextEncoder();
      await conn.write(encoder.encode("plain server here\n"));
      const buffer = new Uint8Array(1024);
      let text = "";
      while (!text.includes("\n")) {
        const n = await conn.read(buffer);
        if (n === null) break;
        text += new TextDecoder().decode(buffer.subarray(0, n));
      }
      await conn.write(
        encoder.encode(`you said ${text.trim().toUpperCase()}\n`),
      );
      conn.close();
    })();
    const client = await startClient(
      ["127.0.0.1", String(listener.addr.port)],
      home,
    );
    try {
      await client.waitFor(
        (s) => s.includes("plain server here"),
        "the server's greeting",
        60_000,
      );
      await client.line("hello");
      const screen = await client.waitFor(
        (s) => s.includes("[exited 0]"),
        "the end of the session",
      );
      assert.match(screen, /you said HELLO/);
      assert.ok(!screen.includes("line editing enabled"));
    } finally {
      await client.kill();
      await serving;
      listener.close();
    }
  });
});

Deno.test("backdoor client: pid:<pid> starts a process's console with SIGUSR1", async () => {
  await withHome(async (home) => {
    const child = new Deno.Command(DENO, {
      args: ["run", "-A", FIXTURE],
      stdin: "piped",
      stdout: "piped",
      stderr: "null", // Deno's own SIGUSR1 inspector banner
    }).spawn();
    const reader = child.stdout.getReader();
    await reader.read(); // "ready ..."
    const client = await startClient([`pid:${child.pid}`], home);
    try {
      await client.waitForLastLine("> ", 60_000);
      assert.deepEqual(await evaluate(client, "marker"), ['"fixture"']);
      assert.deepEqual(await evaluate(client, "Deno.pid"), [
        String(child.pid),
      ]);
      await client.line("exit()");
      await client.waitFor((s) => s.includes("[exited 0]"), "exit status 0");
    } finally {
      await client.kill();
      await child.stdin.close();
      await child.status;
      await reader.cancel();
    }
  });
});

Deno.test("backdoor client: cannot connect → status 2", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const { code, stderr } = await new Deno.Command(DENO, {
    args: ["run", "-A", CLIENT, "127.0.0.1", String(port)],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 2);
  assert.match(
    new TextDecoder().decode(stderr),
    /info: cannot connect to backdoor: /,
  );
  const usage = await new Deno.Command(DENO, {
    args: ["run", "-A", CLIENT, "a", "b", "c"],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(usage.code, 1);
  assert.match(new TextDecoder().decode(usage.stderr), /^usage: /);
});
