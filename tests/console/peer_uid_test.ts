import assert from "node:assert/strict";
import {
  addressBytes,
  findSocketUid,
  peerUid,
  procAddress,
} from "../../console/_peer_uid.ts";

Deno.test("addresses are written as /proc/net/tcp writes them", () => {
  assert.equal(
    procAddress({ hostname: "127.0.0.1", port: 5454 }),
    "0100007F:154E",
  );
  assert.equal(
    procAddress({ hostname: "::1", port: 80 }),
    "00000000000000000000000001000000:0050",
  );
  assert.equal(
    procAddress({ hostname: "::ffff:127.0.0.1", port: 1 }),
    "0000000000000000FFFF00000100007F:0001",
  );
  assert.deepEqual(
    addressBytes("2001:db8::1"),
    new Uint8Array([0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
  );
  for (
    const bad of ["1.2.3", "256.0.0.1", "1::2::3", "x", "1:2:3:4:5:6:7:8:9"]
  ) {
    assert.equal(addressBytes(bad), undefined, bad);
  }
});

Deno.test("the uid is that of the socket whose ends match, in either table", () => {
  const header =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
  const table = header +
    "   0: 0100007F:154E 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0\n" +
    "   1: 0100007F:9C40 0100007F:154E 01 00000000:00000000 00:00000000 00000000  1000        0 2 1 0\n" +
    "   2: 0100007F:154E 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0\n";
  const peer = { hostname: "127.0.0.1", port: 0x9c40 };
  const local = { hostname: "127.0.0.1", port: 5454 };
  assert.equal(findSocketUid(table, peer, local), 1000);
  assert.equal(findSocketUid(table, { ...peer, port: 1 }, local), undefined);
  const table6 = header +
    "   0: 0000000000000000FFFF00000100007F:9C40 0000000000000000FFFF00000100007F:154E 01 00000000:00000000 00:00000000 00000000  1001        0 2 1 0\n";
  assert.equal(findSocketUid(table6, peer, local), 1001);
});

Deno.test("peerUid finds this process's own loopback connection", async (t) => {
  try {
    await Deno.stat("/proc/net/tcp");
  } catch {
    console.log("SKIP: no /proc/net/tcp on this system");
    return;
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  const server = await listener.accept();
  try {
    await t.step("the client end belongs to us", async () => {
      assert.equal(
        await peerUid(
          server.remoteAddr as Deno.NetAddr,
          server.localAddr as Deno.NetAddr,
        ),
        Deno.uid(),
      );
    });
  } finally {
    client.close();
    server.close();
    listener.close();
  }
});
