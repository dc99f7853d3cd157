// The package-internal background flush: the HTTP server writes a batch of
// responses out this way while its connection goes idle, with no tasklet
// waiting for it. It must keep flush()'s guarantees: order, whole output,
// other writers queued behind it, failures reported.

import assert from "node:assert/strict";
import { SocketError, socketpair } from "../../coio/mod.ts";
import { flushInBackground } from "../../coio/nb_file.ts";

function outcome(): {
  done: Promise<"done" | unknown>;
  onDone: () => void;
  onFailed: (error: unknown) => void;
} {
  let onDone!: () => void;
  let onFailed!: (error: unknown) => void;
  const done = new Promise<"done" | unknown>((resolve) => {
    onDone = () => resolve("done");
    onFailed = (error) => resolve(error);
  });
  return { done, onDone, onFailed };
}

Deno.test("flushInBackground: everything goes out in order; writes made meanwhile queue behind", async () => {
  const [a, b] = await socketpair();
  try {
    const file = a.makefile({ writeBufferLimit: 1 << 20 });
    const big = "x".repeat(300_000); // more than one write op's worth
    await file.write("first;");
    await file.write(big);
    const result = outcome();
    assert.equal(flushInBackground(file, result.onDone, result.onFailed), true);
    // A second one while this one runs is refused: flush() is the way then.
    assert.equal(
      flushInBackground(file, result.onDone, result.onFailed),
      false,
    );
    const reading = b.makefile().read();
    await file.write(";second");
    await file.flush();
    assert.equal(await result.done, "done");
    a.close();
    const received = new TextDecoder().decode(await reading);
    assert.equal(received, "first;" + big + ";second");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("flushInBackground: a failed write reaches onFailed as a SocketError, and the bytes stay buffered", async () => {
  const [a, b] = await socketpair();
  try {
    const file = a.makefile({ writeBufferLimit: 1 << 20 });
    await file.write("lost");
    a.close(); // the socket under the file is gone: its write op fails
    const result = outcome();
    assert.equal(flushInBackground(file, result.onDone, result.onFailed), true);
    const error = await result.done;
    assert.ok(error instanceof SocketError, `got ${error}`);
    assert.equal(file.writeBufferLength, 4);
  } finally {
    a.close();
    b.close();
  }
});
