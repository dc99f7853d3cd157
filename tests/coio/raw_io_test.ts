// coio/_raw_io.ts: reads and writes through Deno's core ops on a real
// connection, the public methods on anything else, with one contract.

import assert from "node:assert/strict";
import { rawReader, rawWriter, usesCoreOps } from "../../coio/_raw_io.ts";

async function tcpPair(): Promise<[Deno.TcpConn, Deno.TcpConn, Deno.Listener]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const [a, b] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port }),
    listener.accept(),
  ]);
  return [a, b as Deno.TcpConn, listener];
}

/** A connection of someone else's: every call goes through `conn`. */
function wrapped(conn: Deno.Conn, log: string[]): Deno.Conn {
  return {
    read(buffer: Uint8Array) {
      log.push("read");
      return conn.read(buffer);
    },
    write(data: Uint8Array) {
      log.push("write");
      return conn.write(data);
    },
  } as unknown as Deno.Conn;
}

async function roundTrip(
  a: Deno.Conn,
  b: Deno.Conn,
  closeWrite: () => Promise<void>,
): Promise<void> {
  const write = rawWriter(a);
  const read = rawReader(b);
  assert.equal(await write(new Uint8Array([1, 2, 3, 4, 5])), 5);
  const buffer = new Uint8Array(16);
  let got = 0;
  while (got < 5) got += await read(buffer.subarray(got));
  assert.deepEqual([...buffer.subarray(0, 5)], [1, 2, 3, 4, 5]);
  await closeWrite();
  assert.equal(await read(buffer), 0, "EOF reads as 0");
}

Deno.test("rawReader/rawWriter on Deno's own TCP connections use the core ops: data, then 0 at EOF", async () => {
  const [a, b, listener] = await tcpPair();
  try {
    assert.equal(usesCoreOps(a), true);
    assert.equal(usesCoreOps(b), true);
    await roundTrip(a, b, () => a.closeWrite());
  } finally {
    a.close();
    b.close();
    listener.close();
  }
});

Deno.test("a wrapped or overridden connection goes through its own read and write, with the same contract", async () => {
  const [a, b, listener] = await tcpPair();
  try {
    const log: string[] = [];
    const wa = wrapped(a, log);
    const wb = wrapped(b, log);
    assert.equal(usesCoreOps(wa), false);
    // A real connection whose write is replaced is not bypassed either.
    const writes: number[] = [];
    const write = a.write.bind(a);
    Object.defineProperty(a, "write", {
      value: (data: Uint8Array) => {
        writes.push(data.length);
        return write(data);
      },
    });
    assert.equal(usesCoreOps(a), false);
    assert.equal(await rawWriter(a)(new Uint8Array(3)), 3);
    assert.deepEqual(writes, [3]);
    const readB = rawReader(b);
    let got = 0;
    while (got < 3) got += await readB(new Uint8Array(8));
    assert.equal(got, 3);
    await roundTrip(wa, wb, () => a.closeWrite());
    assert.ok(log.includes("read") && log.includes("write"));
  } finally {
    a.close();
    b.close();
    listener.close();
  }
});

Deno.test("errors are Deno's: a closed connection rejects with BadResource", async () => {
  const [a, b, listener] = await tcpPair();
  const read = rawReader(b);
  const write = rawWriter(b);
  b.close();
  try {
    await assert.rejects(read(new Uint8Array(4)), Deno.errors.BadResource);
    await assert.rejects(write(new Uint8Array(4)), Deno.errors.BadResource);
  } finally {
    a.close();
    listener.close();
  }
});
