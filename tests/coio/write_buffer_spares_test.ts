// Idle files give their write buffers back (the HTTP server's idle
// connections hold no output memory); the next file reuses them. Nothing of
// one file's output may ever reach another's peer.

import assert from "node:assert/strict";
import { socketpair } from "../../coio/mod.ts";
import { NbFile, releaseWriteBuffer } from "../../coio/nb_file.ts";

Deno.test("a given-back write buffer carries nothing over to the file that reuses it", async () => {
  const [a, b] = await socketpair();
  const [c, d] = await socketpair();
  try {
    const first = a.makefile({ writeBufferLimit: 65536 });
    await first.write("secret-".repeat(100));
    await first.flush();
    releaseWriteBuffer(first);
    const second = c.makefile({ writeBufferLimit: 65536 });
    await second.write("x");
    await second.flush();
    c.close();
    assert.equal(new TextDecoder().decode(await d.makefile().read()), "x");
    // The first file goes on writing after giving its buffer back.
    await first.write("more");
    await first.flush();
    a.close();
    const received = new TextDecoder().decode(await b.makefile().read());
    assert.equal(received, "secret-".repeat(100) + "more");
  } finally {
    a.close();
    b.close();
    c.close();
    d.close();
  }
});

Deno.test("a write buffer with bytes in it is not given back", async () => {
  const [a, b] = await socketpair();
  try {
    const file = a.makefile({ writeBufferLimit: 65536 });
    await file.write("kept");
    releaseWriteBuffer(file); // nothing happens: "kept" is still buffered
    const [c, d] = await socketpair();
    try {
      const other = c.makefile({ writeBufferLimit: 65536 });
      await other.write("zz");
      await other.flush();
      c.close();
      assert.equal(new TextDecoder().decode(await d.makefile().read()), "zz");
    } finally {
      c.close();
      d.close();
    }
    assert.equal(file.writeBufferLength, 4);
    await file.flush();
    a.close();
    assert.equal(new TextDecoder().decode(await b.makefile().read()), "kept");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("writes of one size from one buffer each carry their own bytes, also after the buffer went back", async () => {
  const written: string[] = [];
  const sink = {
    write(p: Uint8Array): Promise<number> {
      written.push(new TextDecoder().decode(p));
      return Promise.resolve(p.length);
    },
  };
  const file = new NbFile(undefined, sink, { writeBufferLimit: 65536 });
  const other = new NbFile(undefined, sink, { writeBufferLimit: 65536 });
  for (const text of ["abc", "xyz"]) {
    await file.write(text);
    await file.flush();
  }
  // The buffer goes to the spares, another file takes it, this one gets a
  // new one: each write still goes out from where its bytes are.
  releaseWriteBuffer(file);
  await other.write("OTH");
  await file.write("123");
  await other.flush();
  await file.flush();
  await file.write("4567");
  await file.flush();
  assert.deepEqual(written, ["abc", "xyz", "OTH", "123", "4567"]);
});
