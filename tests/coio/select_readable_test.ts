import assert from "node:assert/strict";
import {
  type NbFile,
  schedule,
  selectReadable,
  socketpair,
  spawn,
} from "../../coio/mod.ts";
import { text } from "./_io_fixtures.ts";

Deno.test("selectReadable: returns the files with data, consuming nothing", async () => {
  const pairs = [await socketpair(), await socketpair(), await socketpair()];
  const files = pairs.map(([, b]) => b.makefile());
  try {
    assert.deepEqual(await selectReadable(files, { timeout: 0 }), []);
    assert.deepEqual(await selectReadable(files, { timeout: 5 }), []);
    const waiter = spawn(() => selectReadable(files));
    await schedule();
    await pairs[1][0].sendall("one");
    const ready = await waiter.join();
    assert.deepEqual(ready, [files[1]]);
    assert.equal(text(await files[1].read(3)), "one");
    // Buffered data and EOF both count as readable, in the order given.
    await pairs[2][0].sendall("two");
    await files[2].readUpto(1);
    pairs[0][0].close();
    await files[0].waitForReadable();
    assert.deepEqual(await selectReadable(files), [files[0], files[2]]);
    assert.equal(text(await files[2].read(3)), "two");
    assert.equal((await files[0].read()).length, 0);
  } finally {
    for (const [a, b] of pairs) {
      a.close();
      b.close();
    }
  }
});

Deno.test("selectReadable: a cancelled select leaves every byte to later reads", async () => {
  const [a, b] = await socketpair();
  const [c, d] = await socketpair();
  const files: NbFile[] = [b.makefile(), d.makefile()];
  const reason = new Error("cancelled");
  const controller = new AbortController();
  const select = spawn(() =>
    selectReadable(files, { signal: controller.signal })
  );
  await schedule();
  controller.abort(reason);
  await assert.rejects(select.join(), (e) => e === reason);
  await a.sendall("A");
  await c.sendall("C");
  assert.equal(text(await files[0].read(1)), "A");
  assert.equal(text(await files[1].read(1)), "C");
  await assert.rejects(
    selectReadable("nope" as unknown as NbFile[]),
    TypeError,
  );
  for (const s of [a, b, c, d]) s.close();
});
