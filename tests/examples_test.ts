// Smoke tests of examples/: each example runs as a child process (deno run
// -A examples/NAME.ts) on a free port (PORT=0) with a short lifetime or a
// Ctrl-C (SIGINT), and we check what it prints or talk to it. Every child is
// killed and waited for in `finally`.
import assert from "node:assert/strict";
import { startPostgres } from "./patch/_postgres.ts";
import { closeQuietly, Example, readUntil } from "./_examples.ts";

const encoder = new TextEncoder();

async function hasProgram(name: string): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("sh", {
      args: ["-c", `command -v ${name}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/** Runs an example that ends by itself; returns its stdout (exit 0 asserted). */
async function runToEnd(
  name: string,
  env: Record<string, string> = {},
): Promise<string> {
  const example = Example.start(name, { env });
  try {
    const result = await example.finish();
    assert.equal(result.code, 0, `${name}: ${result.stderr}`);
    return result.stdout;
  } finally {
    await example.close();
  }
}

/** Sends SIGINT and checks the example stops cleanly with status 0. */
async function interrupt(example: Example): Promise<string> {
  example.kill("SIGINT");
  const result = await example.finish();
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /stopping \(SIGINT\)/);
  return result.stdout;
}

async function get(
  port: number,
  path: string,
  init?: RequestInit,
): Promise<[number, string]> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, init);
  return [response.status, await response.text()];
}

Deno.test("echo_server echoes lines and stops at the end of its lifetime", async () => {
  const example = Example.start("echo_server", {
    env: { PORT: "0", LIFETIME_MS: "4000" },
  });
  try {
    const port = await example.port();
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await readUntil(conn, /Say something\.\n/);
      await conn.write(encoder.encode("hello\nworld\n"));
      assert.equal(await readUntil(conn, /world\n/), "hello\nworld\n");
    } finally {
      closeQuietly(conn);
    }
    const result = await example.finish();
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /stopping \(lifetime\)/);
    assert.match(result.stdout, /\+ 127\.0\.0\.1:\d+/);
  } finally {
    await example.close();
  }
});

Deno.test("examples refuse a bad port with a clear error", async () => {
  const example = Example.start("echo_server", { env: { PORT: "http" } });
  try {
    const result = await example.finish();
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /RangeError: port must be an integer 0-65535/);
  } finally {
    await example.close();
  }
});

Deno.test("chat broadcasts each line to the other users", async () => {
  const example = Example.start("chat", { env: { PORT: "0" } });
  const conns: Deno.Conn[] = [];
  try {
    const port = await example.port();
    const join = async (name: string) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(conn);
      await readUntil(conn, /Your name\? $/);
      await conn.write(encoder.encode(`${name}\n`));
      await readUntil(conn, new RegExp(`Hello ${name}`));
      return conn;
    };
    const alice = await join("alice");
    const bob = await join("bob");
    await readUntil(alice, /\* bob joined\n/);
    await alice.write(encoder.encode("hi bob\n"));
    assert.match(await readUntil(bob, /<alice> hi bob\n/), /<alice> hi bob\n/);
    await bob.write(encoder.encode("hi alice\n"));
    assert.match(await readUntil(alice, /<bob> hi alice\n/), /<bob> hi alice/);
    closeQuietly(bob);
    await readUntil(alice, /\* bob left\n/);
    const stdout = await interrupt(example);
    assert.match(stdout, /<alice> hi bob/);
  } finally {
    for (const conn of conns) closeQuietly(conn);
    await example.close();
  }
});

Deno.test("heartbeat echoes lines between heartbeats", async () => {
  const example = Example.start("heartbeat", {
    env: { PORT: "0", HEARTBEAT_MS: "100" },
  });
  try {
    const port = await example.port();
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await readUntil(conn, /heartbeat 1\n/);
      await conn.write(encoder.encode("ping\n"));
      const text = await readUntil(conn, /ping\n[^]*heartbeat \d+\n/);
      // Whole lines only: the writer tasklet never interleaves them.
      for (const line of text.trimEnd().split("\n")) {
        assert.match(line, /^(heartbeat \d+|ping)$/);
      }
    } finally {
      closeQuietly(conn);
    }
    await interrupt(example);
  } finally {
    await example.close();
  }
});

Deno.test("tcp_client resolves localhost and reads the banner", async () => {
  const stdout = await runToEnd("tcp_client", { PORT: "0" });
  assert.match(stdout, /IPv4 addresses: 127\.0\.0\.1/);
  assert.match(stdout, /connected to 127\.0\.0\.1:\d+/);
  assert.match(stdout, /banner: 220 localhost ESMTP syncless-example ready/);
});

Deno.test("http_client downloads in tasklets; the slow one times out", async () => {
  const stdout = await runToEnd("http_client", { PORT: "0" });
  assert.match(stdout, /^\/3: done, 3072 bytes$/m);
  assert.match(stdout, /^\/8: done, 8192 bytes$/m);
  assert.match(stdout, /^\/40: timed out after 1500 ms$/m);
  assert.match(stdout, /^progress: .*\/40 \d+ B/m);
});

Deno.test("multi_read_timeout: three styles time out and no line is lost", async () => {
  const stdout = await runToEnd("multi_read_timeout");
  const numbers: number[] = [];
  for (const style of ["runWithTimeout", "receiveWithTimeout", "moveOnAfter"]) {
    const match = new RegExp(
      `^${style}: (\\d+) lines \\[(.*)\\], then timed out$`,
      "m",
    )
      .exec(stdout);
    assert.ok(match, `${style} in\n${stdout}`);
    assert.ok(Number(match[1]) >= 1, `${style} read nothing`);
    for (const line of match[2].split(", ")) {
      numbers.push(Number(line.slice(5)));
    }
  }
  assert.deepEqual(numbers, numbers.map((_, i) => i + 1));
});

Deno.test("select takes from whichever channel is ready, then polls", async () => {
  const stdout = await runToEnd("select");
  const logged = [...stdout.matchAll(/logged: (.*)/g)].map((m) => m[1]);
  const unlogged = Number(/(\d+) results were never logged/.exec(stdout)![1]);
  assert.equal(logged.length + unlogged, 9);
  const ticks = logged.filter((l) => l.startsWith("tick"));
  assert.deepEqual(ticks, ticks.map((_, i) => `tick ${i + 1}`));
  const news = logged.filter((l) => l.startsWith("news"));
  assert.deepEqual(
    news,
    ["news: rain", "news: sun", "news: snow"].slice(0, news.length),
  );
  assert.match(stdout, /quit: no more news/);
  assert.match(stdout, /poll after the end: index -1/);
});

Deno.test("popen reads, writes and reports exit codes", async () => {
  const stdout = await runToEnd("popen");
  assert.match(
    stdout,
    /child says: step 1\nchild says: step 2\nchild says: step 3\nexit code 0/,
  );
  assert.match(stdout, /tr answered: HELLO FROM A TASKLET\nexit code 0/);
  assert.match(stdout, /output: about to fail\nexit code 10/);
  assert.match(
    stdout,
    /sleeper 1 \(exit 0\)\nsleeper 2 \(exit 0\)\nsleeper 3 \(exit 0\)/,
  );
});

Deno.test("thread_pool: blocking sleeps in threads, results and errors come back", async () => {
  const stdout = await runToEnd("thread_pool", { SLEEP_MS: "300" });
  const took = (threads: number) => {
    const match = new RegExp(
      `4 x sleep\\(300\\) on ${threads} threads: (\\d+) ms .* ticked (\\d+) times`,
    ).exec(stdout);
    assert.ok(match, stdout);
    return [Number(match[1]), Number(match[2])];
  };
  const [four] = took(4);
  const [two, ticks] = took(2);
  assert.ok(four >= 300, `${four} ms`);
  // Two threads cannot run four 300 ms sleeps in less than two rounds.
  assert.ok(two >= 600, `${two} ms`);
  // The main thread was not blocked meanwhile.
  assert.ok(ticks > 0);
  assert.match(stdout, /fib\(25\) \+ fib\(26\) = 196418/);
  assert.match(stdout, /divide\(1, 4\) = 0\.25/);
  assert.match(stdout, /divide\(1, 0\) threw RangeError: division by zero/);
});

Deno.test("tls: a TLS line exchange and an HTTPS request", async () => {
  if (!await hasProgram("openssl")) {
    console.log("SKIP: openssl is not installed");
    return;
  }
  const stdout = await runToEnd("tls", { PORT: "0" });
  assert.match(stdout, /server: hello over TLS, what is your name\?/);
  assert.match(stdout, /server: nice to meet you, tasklet/);
  assert.match(stdout, /HTTPS 200: secure hello, scheme https/);
});

Deno.test("wsgi_app: normal and error paths, and the server goes on", async () => {
  const example = Example.start("wsgi_app", { env: { PORT: "0" } });
  try {
    const port = await example.port();
    const [, index] = await get(port, "/");
    assert.match(index, /<a href="\/midway">/);
    assert.deepEqual(await get(port, "/hello"), [200, "Hello, World!\n"]);
    assert.deepEqual(await get(port, "/hello?Ann"), [200, "Hello, Ann!\n"]);
    assert.deepEqual(await get(port, "/generator"), [
      200,
      "item 1\nitem 2\nitem 3\n",
    ]);
    assert.deepEqual(await get(port, "/write"), [200, "written by write()\n"]);
    assert.deepEqual(
      await get(port, "/post", { method: "POST", body: "abcdef" }),
      [200, "read 6 bytes\n"],
    );
    assert.equal((await get(port, "/replace"))[0], 404);
    assert.equal((await get(port, "/forbidden"))[0], 403);
    for (
      const path of ["/exception", "/bad-status", "/bad-header", "/bad-length"]
    ) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      await response.body?.cancel();
      assert.equal(response.status, 500, path);
      assert.equal(response.headers.get("X-B"), null);
    }
    // An error after the head: the body breaks off.
    const midway = await fetch(`http://127.0.0.1:${port}/midway`);
    assert.equal(midway.status, 200);
    await assert.rejects(midway.text());
    // An endless body: the client goes away, the generator's finally runs.
    const infinite = await fetch(`http://127.0.0.1:${port}/infinite`);
    const reader = infinite.body!.getReader();
    for (let got = ""; !got.includes("chunk 3");) {
      got += new TextDecoder().decode((await reader.read()).value);
    }
    await reader.cancel();
    await example.waitFor(/\/infinite: client went away after \d+ chunks/);
    assert.deepEqual(await get(port, "/hello"), [200, "Hello, World!\n"]);
    const stdout = await interrupt(example);
    assert.match(stdout, /app error on \/exception: Error: boom/);
    assert.match(stdout, /app error on \/bad-status: TypeError/);
    assert.match(stdout, /app error on \/bad-header: TypeError/);
    assert.match(stdout, /app error on \/midway: Error: failed midway/);
  } finally {
    await example.close();
  }
});

Deno.test("fetch_app: Request/Response handlers with streams and a deadline", async () => {
  const example = Example.start("fetch_app", { env: { PORT: "0" } });
  try {
    const port = await example.port();
    assert.deepEqual(await get(port, "/"), [
      200,
      "Hello from a fetch-style app, 127.0.0.1!\n",
    ]);
    const [, json] = await get(port, "/json");
    assert.equal(JSON.parse(json).method, "GET");
    assert.deepEqual(
      await get(port, "/echo", { method: "POST", body: "round trip" }),
      [200, "round trip"],
    );
    assert.deepEqual(await get(port, "/countdown"), [
      200,
      "3...\n2...\n1...\nliftoff\n",
    ]);
    assert.deepEqual(await get(port, "/slow?ms=10"), [200, "slept 10 ms\n"]);
    assert.deepEqual(await get(port, "/slow?ms=5000"), [
      504,
      "took too long\n",
    ]);
    assert.equal((await get(port, "/nope"))[0], 404);
    await interrupt(example);
  } finally {
    await example.close();
  }
});

Deno.test("hono_app: a Hono app runs unchanged on serve()", async () => {
  const example = Example.start("hono_app", { env: { PORT: "0" } });
  try {
    const port = await example.port();
    assert.deepEqual(await get(port, "/"), [
      200,
      "Hello from Hono on Syncless!\n",
    ]);
    const [status, json] = await get(port, "/users/42");
    assert.equal(status, 200);
    assert.equal(JSON.parse(json).id, "42");
    assert.match(JSON.parse(json).tasklet, /^tasklet-\d+$/);
    assert.deepEqual(
      await get(port, "/echo", { method: "POST", body: "hono" }),
      [200, "hono"],
    );
    assert.deepEqual(await get(port, "/sleep/10"), [200, "slept 10 ms\n"]);
    assert.equal((await get(port, "/sleep/abc"))[0], 400);
    assert.deepEqual(await get(port, "/nope"), [404, "no such page\n"]);
    await interrupt(example);
  } finally {
    await example.close();
  }
});

Deno.test("postgres: explains itself without DATABASE_URL", async () => {
  const example = Example.start("postgres", { env: { DATABASE_URL: "" } });
  try {
    const result = await example.finish();
    assert.equal(result.code, 2);
    assert.match(result.stdout, /needs a PostgreSQL server: set DATABASE_URL/);
  } finally {
    await example.close();
  }
});

Deno.test("postgres: overlapping queries and a query cut off by withTimeout", async () => {
  const server = await startPostgres();
  if (typeof server === "string") {
    console.log(`SKIP: ${server}`);
    return;
  }
  try {
    const url =
      `postgres://${server.user}@${server.hostname}:${server.port}/postgres`;
    const stdout = await runToEnd("postgres", { DATABASE_URL: url });
    assert.match(stdout, /connected: PostgreSQL \d+/);
    assert.match(
      stdout,
      /3 overlapping pg_sleep\(0\.3\) queries \[1,2,3\] took \d+ ms/,
    );
    const took = Number(/queries \[1,2,3\] took (\d+) ms/.exec(stdout)![1]);
    assert.ok(took >= 300, `${took} ms`);
    assert.match(stdout, /pg_sleep\(10\) timed out after 300 ms/);
    assert.match(stdout, /still answers: 1 \+ 1 = 2/);
  } finally {
    await server.stop();
  }
});

Deno.test("task_group: members end with their group", async () => {
  const stdout = await runToEnd("task_group");
  assert.match(stdout, /first result: a\n\s+all ended/);
  assert.match(stdout, /slow: killed\n\s+the block threw: faulty failed/);
  assert.match(stdout, /x: killed\n\s+y: killed\n\s+timed out after 50 ms/);
  assert.match(stdout, /fast: done after 10 ms/);
  assert.match(stdout, /slower: killed\n\s+slowest: killed\n\s+winner: fast/);
  assert.doesNotMatch(stdout, /(slow|x|y|slower|slowest): done/);
});

/** A WebSocket client (Deno's own) that queues what it receives. */
class ChatSocket {
  messages: { type: string; [key: string]: unknown }[] = [];
  #ws: WebSocket;
  #changed: (() => void)[] = [];
  closed: Promise<void>;

  constructor(url: string) {
    this.#ws = new WebSocket(url);
    this.#ws.onmessage = (event) => {
      this.messages.push(JSON.parse(event.data));
      for (const wake of this.#changed.splice(0)) wake();
    };
    this.closed = new Promise((resolve) => this.#ws.onclose = () => resolve());
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#ws.onopen = () => resolve();
      this.#ws.onerror = () => reject(new Error("WebSocket failed"));
    });
  }

  send(text: string): void {
    this.#ws.send(text);
  }

  /** Waits (10 s at most) for a message that `match` accepts. */
  async next(
    match: (m: { type: string; [key: string]: unknown }) => boolean,
  ): Promise<{ type: string; [key: string]: unknown }> {
    const end = Date.now() + 10_000;
    for (;;) {
      const found = this.messages.find(match);
      if (found !== undefined) return found;
      const left = end - Date.now();
      if (left <= 0) {
        throw new Error(`no such message in ${JSON.stringify(this.messages)}`);
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

  async close(): Promise<void> {
    if (this.#ws.readyState !== WebSocket.CLOSED) this.#ws.close();
    await this.closed;
  }
}

Deno.test("demo: page, WebSocket chat bridged to nc, live figures, console, Ctrl-C", async () => {
  const example = Example.start("demo", {
    env: { DEMO_HTTP_PORT: "0", DEMO_CHAT_PORT: "0", DEMO_CONSOLE_PORT: "0" },
  });
  let ws: ChatSocket | undefined;
  const conns: Deno.Conn[] = [];
  try {
    const httpPort = await example.port(/open +http:\/\/127\.0\.0\.1:(\d+)\//);
    const chatPort = await example.port(/chat +nc 127\.0\.0\.1 (\d+)/);
    const consolePort = await example.port(/console +nc 127\.0\.0\.1 (\d+)/);
    const token = (await example.waitFor(/type the token (\S+)/))[1];

    const [status, page] = await get(httpPort, "/");
    assert.equal(status, 200);
    assert.match(page, /<title>Syncless for Deno demo<\/title>/);
    assert.ok(page.includes(`nc 127.0.0.1 ${chatPort}`));

    // A web user and an nc user in the same room.
    ws = new ChatSocket(`ws://127.0.0.1:${httpPort}/ws`);
    await ws.opened();
    ws.send("webby");
    await ws.next((m) =>
      m.type === "system" && m.text === "webby joined (web)"
    );
    const nc = await Deno.connect({ hostname: "127.0.0.1", port: chatPort });
    conns.push(nc);
    await readUntil(nc, /Your name\? $/);
    await nc.write(encoder.encode("netcat\n"));
    await ws.next((m) =>
      m.type === "system" && m.text === "netcat joined (nc)"
    );
    ws.send("hello from the web");
    await readUntil(nc, /<webby> hello from the web\r\n/);
    await nc.write(encoder.encode("hello from nc\n"));
    await ws.next((m) =>
      m.type === "chat" && m.from === "netcat" && m.via === "nc" &&
      m.text === "hello from nc"
    );

    // The figures pushed every second count us.
    const stats = await ws.next((m) =>
      m.type === "stats" && m.webClients === 1 && m.ncClients === 1
    );
    assert.ok((stats.taskletsAlive as number) >= 4, JSON.stringify(stats));
    assert.ok((stats.requestsTotal as number) >= 2, JSON.stringify(stats));

    // The remote console: the token first, then code run in the process.
    const consoleConn = await Deno.connect({
      hostname: "127.0.0.1",
      port: consolePort,
    });
    conns.push(consoleConn);
    await readUntil(consoleConn, /token: \0/);
    await consoleConn.write(encoder.encode(`${token}\nmembers.size\n`));
    await readUntil(consoleConn, /> \0[2]\n/); // prompt, NUL, then the value
    await consoleConn.write(encoder.encode('announce("from the console")\n'));
    await readUntil(nc, /\* from the console\r\n/);
    await ws.next((m) => m.type === "system" && m.text === "from the console");

    // A visitor who has not typed a name yet sees the recent lines and the
    // figures, and is not announced.
    const viewer = new ChatSocket(`ws://127.0.0.1:${httpPort}/ws`);
    try {
      await viewer.opened();
      await viewer.next((m) => m.type === "chat" && m.text === "hello from nc");
      await viewer.next((m) => m.type === "stats" && m.webClients === 2);
    } finally {
      await viewer.close();
    }

    // Ctrl-C: everything stops, the WebSocket is closed by the server.
    example.kill("SIGINT");
    await ws.closed;
    const result = await example.finish();
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /demo: stopping \(SIGINT\)/);
    assert.match(result.stdout, /demo: stopped cleanly/);
  } finally {
    for (const conn of conns) closeQuietly(conn);
    await ws?.close();
    await example.close();
  }
});
