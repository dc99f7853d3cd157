// The package-internal hook that lets an idle HTTP connection wait without
// a tasklet: a read runs with no reader, and a callback says when it ended.

import assert from "node:assert/strict";
import { socketpair } from "../../coio/mod.ts";
import { watchReadable } from "../../coio/nb_file.ts";

function readySignal(): { promise: Promise<void>; onReady: () => void } {
  let onReady!: () => void;
  const promise = new Promise<void>((resolve) => (onReady = resolve));
  return { promise, onReady };
}

Deno.test("watchReadable: the callback comes once the bytes are buffered, none lost", async () => {
  const [a, b] = await socketpair();
  try {
    const file = b.makefile();
    const ready = readySignal();
    assert.equal(watchReadable(file, ready.onReady), true);
    await a.sendall("GET / HTTP/1.1\r\n\r\n");
    await ready.promise;
    // The bytes wait in the buffer: no second read, nothing missing.
    assert.equal(file.getString(), "GET / HTTP/1.1\r\n\r\n");
    // Something can be read now: no watch is set up.
    assert.equal(watchReadable(file, () => assert.fail("called")), false);
    assert.equal(
      new TextDecoder().decode(await file.readline()),
      "GET / HTTP/1.1\r\n",
    );
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("watchReadable: EOF is reported to the next reader after the callback", async () => {
  const [a, b] = await socketpair();
  try {
    const file = b.makefile();
    const ready = readySignal();
    assert.equal(watchReadable(file, ready.onReady), true);
    a.close();
    await ready.promise;
    assert.equal(watchReadable(file, () => assert.fail("called")), false);
    assert.equal((await file.read()).length, 0);
  } finally {
    b.close();
  }
});

Deno.test("watchReadable: closing drops the callback; a reader that comes first takes the read over", async () => {
  const [a, b] = await socketpair();
  try {
    const file = b.makefile();
    assert.equal(
      watchReadable(file, () => assert.fail("called after close")),
      true,
    );
    b.close();
    assert.equal(watchReadable(file, () => assert.fail("called")), false);

    const [c, d] = await socketpair();
    try {
      const other = d.makefile();
      assert.equal(watchReadable(other, () => assert.fail("called")), true);
      const reading = other.read(5);
      await c.sendall("hello");
      assert.equal(new TextDecoder().decode(await reading), "hello");
    } finally {
      c.close();
      d.close();
    }
  } finally {
    a.close();
    b.close();
  }
});
