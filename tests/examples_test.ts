// Smoke tests of examples/: each example runs as a child process on a free
// port (PORT=0) with a short lifetime, and we check what it prints or talk
// to it. Children are killed in `finally`.
import assert from "node:assert/strict";
import { closeQuietly, Example, readUntil } from "./_examples.ts";

Deno.test("echo_server echoes lines and stops at the end of its lifetime", async () => {
  const example = Example.start("echo_server", {
    env: { PORT: "0", LIFETIME_MS: "3000" },
  });
  try {
    const port = await example.port();
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await readUntil(conn, /Say something\.\n/);
      await conn.write(new TextEncoder().encode("hello\nworld\n"));
      assert.match(await readUntil(conn, /world\n/), /^hello\nworld\n$/);
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
