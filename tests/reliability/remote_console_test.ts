// The remote console under hostile input: wrong tokens in every shape,
// addresses that are not loopback, oversized and binary lines, token
// timeouts and resets. Each is refused and logged, and no code runs.

import assert from "node:assert/strict";
import { startRemoteConsole } from "../../console/mod.ts";
import { count, MARKER, WireClient } from "../console/_wire.ts";
import { pool } from "./_net.ts";
import { Prng } from "./_prng.ts";

const TOKEN = "c0rrect-h0rse";
// Every line an intruder sends sets this global if it ever runs.
const RAN = "__syncless_reliability_ran";
const PAYLOAD = `globalThis.${RAN} = true\n`;

function ran(): boolean {
  return RAN in globalThis;
}

/** Wrong token lines: near misses, encodings, control bytes, sizes. */
function wrongTokens(rng: Prng, maxLineSize: number): (string | Uint8Array)[] {
  const near = [
    "",
    TOKEN.slice(0, -1),
    TOKEN + "x",
    " " + TOKEN,
    TOKEN + " ",
    TOKEN.toUpperCase(),
    TOKEN + "\0",
    TOKEN + "\r\r",
    TOKEN.slice(0, 4) + "\r\n" + TOKEN.slice(4),
    "\0".repeat(TOKEN.length),
    "x".repeat(maxLineSize + 10),
    PAYLOAD.trim(),
  ];
  const out: (string | Uint8Array)[] = near.map((t) => t + "\n");
  for (let i = 0; i < 40; i++) {
    const bytes = rng.bytes(rng.range(0, 64));
    out.push(Uint8Array.from([...bytes.filter((b) => b !== 10), 10]));
  }
  return out;
}

Deno.test("wrong tokens in every shape are refused and logged; no line runs", async () => {
  const logs: string[] = [];
  const maxLineSize = 4096;
  const server = startRemoteConsole({
    port: 0,
    token: TOKEN,
    maxLineSize,
    tokenTimeout: 2_000,
    log: (line) => logs.push(line),
  });
  const port = server.addr.port;
  try {
    const attempts = wrongTokens(new Prng(7), maxLineSize);
    await pool(attempts.length, 16, async (i) => {
      const client = await WireClient.connect(port);
      try {
        await client.waitForPrompts(1);
        await client.send(attempts[i]);
        await client.send(PAYLOAD).catch(() => {});
        await client.waitForEof();
        assert.ok(
          client.text.endsWith("error: wrong token, closing\n"),
          `attempt ${i}: ${JSON.stringify(client.text.slice(-80))}`,
        );
        assert.equal(
          count(client.text, MARKER),
          1,
          "no prompt after the token",
        );
      } finally {
        await client.close();
      }
    });
    // A client that sends nothing, one that stops mid-token, one that hangs
    // up mid-token (its partial token is a wrong one).
    const silent = await WireClient.connect(port);
    const partial = await WireClient.connect(port);
    await partial.waitForPrompts(1);
    await partial.send(TOKEN.slice(0, 5));
    const hangUp = await WireClient.connect(port);
    await hangUp.waitForPrompts(1);
    await hangUp.send(TOKEN.slice(0, 3));
    await hangUp.close();
    for (const client of [silent, partial]) {
      await client.waitForEof(6_000);
      assert.ok(client.text.endsWith("error: wrong token, closing\n"));
      await client.close();
    }
    assert.equal(ran(), false, "an intruder's line ran");
    const refusals = logs.filter((l) =>
      /refused 127\.0\.0\.1:\d+: wrong token/.test(l)
    );
    assert.equal(refusals.length, attempts.length + 1, logs.join("\n"));
    assert.equal(
      logs.filter((l) => l.includes("no token in time")).length,
      2,
      logs.join("\n"),
    );
    assert.ok(
      !logs.some((l) => l.includes("session opened")),
      "no session opened",
    );
    // The right token still works afterwards.
    const friend = await WireClient.connect(port);
    try {
      await friend.waitForPrompts(1);
      await friend.send(`${TOKEN}\r\n6 * 7\n`);
      await friend.waitForPrompts(3);
      assert.equal(friend.replyAfterPrompt(2), "42\n");
    } finally {
      await friend.close();
    }
  } finally {
    await server.close();
  }
});

Deno.test("addresses that are not loopback need a token, however they are spelled", () => {
  for (
    const hostname of [
      "0.0.0.0",
      "0",
      "::",
      "[::]",
      "::ffff:127.0.0.1",
      "127.1",
      "localhost.",
      " 127.0.0.1",
      "127.0.0.1\n",
      "10.0.0.1",
    ]
  ) {
    assert.throws(
      () => startRemoteConsole({ hostname, port: 0, log: () => {} }),
      (error: Error) =>
        error instanceof TypeError && /needs a token/.test(error.message),
      JSON.stringify(hostname),
    );
  }
});

Deno.test("oversized, binary and NUL lines: refused or harmless, never a crash", async () => {
  const logs: string[] = [];
  const maxLineSize = 65536;
  const server = startRemoteConsole({
    port: 0,
    maxLineSize,
    log: (line) => logs.push(line),
  });
  const port = server.addr.port;
  try {
    // 20 clients at once, each with a 4 MiB line that would set the flag.
    await pool(20, 20, async () => {
      const client = await WireClient.connect(port);
      try {
        await client.waitForPrompts(1);
        const line = `${PAYLOAD.trim()}; "${"a".repeat(4 << 20)}"\n`;
        await client.send(line).catch(() => {});
        await client.waitForEof();
        assert.ok(
          client.text.endsWith(
            `error: line longer than ${maxLineSize} bytes, closing\n`,
          ),
        );
      } finally {
        await client.close();
      }
    });
    assert.equal(ran(), false, "an oversized line ran");
    assert.equal(
      logs.filter((l) => l.includes(`longer than ${maxLineSize}`)).length,
      20,
    );
    // Binary junk and NULs are evaluated as (bad) source, answered, survived.
    const rng = new Prng(11);
    const client = await WireClient.connect(port);
    try {
      await client.waitForPrompts(1);
      for (let i = 0; i < 30; i++) {
        const junk = rng.bytes(rng.range(1, 200)).filter((b) =>
          b !== 10 && b !== 4
        );
        await client.send(Uint8Array.from([...junk, 10]));
        // Unbalanced brackets wait for more lines: a blank line, then ask.
      }
      await client.send("\n\n\n;'alive:' + (6 * 7)\n");
      await client.waitFor(
        (t) => t.includes("alive:42"),
        "the session to answer",
      );
      assert.ok(!client.text.includes("\0\0\0"), "NULs in output are escaped");
    } finally {
      await client.close();
    }
  } finally {
    await server.close();
  }
});
