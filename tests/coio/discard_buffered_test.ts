// The package-internal synchronous discard the HTTP server hands parsed
// bytes back with: it drops buffered bytes at once, or does nothing.

import assert from "node:assert/strict";
import { socketpair } from "../../coio/mod.ts";
import { discardBuffered } from "../../coio/nb_file.ts";

Deno.test("discardBuffered drops buffered bytes at once, and nothing it cannot drop", async () => {
  const [a, b] = await socketpair();
  try {
    const file = b.makefile();
    await a.sendall("HEADbody");
    await file.readMore(8);
    assert.equal(discardBuffered(file, 4), true);
    assert.equal(file.getString(), "body");
    // More than is buffered: nothing is dropped.
    assert.equal(discardBuffered(file, 5), false);
    assert.equal(file.getString(), "body");
    // A reader waits for more (it holds the read lock): hands off.
    const line = file.readline();
    assert.equal(discardBuffered(file, 1), false);
    await a.sendall("\n");
    assert.equal(new TextDecoder().decode(await line), "body\n");
    // A closed file: nothing.
    await a.sendall("x");
    await file.readMore(1);
    file.close();
    assert.equal(discardBuffered(file, 1), false);
  } finally {
    a.close();
    b.close();
  }
});
