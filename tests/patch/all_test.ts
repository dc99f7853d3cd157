import assert from "node:assert/strict";
import dns from "node:dns";
import net from "node:net";

function snapshot() {
  return {
    fetch: globalThis.fetch,
    connect: Deno.connect,
    connectTls: Deno.connectTls,
    resolveDns: Deno.resolveDns,
    socketConnect: net.Socket.prototype.connect,
    socketWrite: net.Socket.prototype.write,
    lookup: dns.lookup,
    promisesLookup: dns.promises.lookup,
    readFileSync: Deno.readFileSync,
  };
}

Deno.test("patch/mod.ts: importing patches nothing; patchAll/unpatchAll patch and restore everything", async () => {
  const before = snapshot();
  const { patchAll, unpatchAll } = await import("../../patch/mod.ts");
  assert.deepEqual(snapshot(), before);
  patchAll();
  try {
    const during = snapshot();
    for (const key of Object.keys(before) as (keyof typeof before)[]) {
      if (key === "readFileSync") continue; // forbidSync is not part of it
      assert.notEqual(during[key], before[key], `${key} is patched`);
    }
    assert.equal(during.readFileSync, before.readFileSync);
    patchAll(); // idempotent
    assert.deepEqual(snapshot(), during);
  } finally {
    unpatchAll();
  }
  assert.deepEqual(snapshot(), before);
  unpatchAll(); // a no-op
  assert.deepEqual(snapshot(), before);
});
