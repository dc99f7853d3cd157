// The HTTP fuzz through a real socket: generated, mutated and random requests
// sent to serve() over loopback (`deno task stress` sends 50k).

import assert from "node:assert/strict";
import { fuzzServer, runSocketFuzz } from "./_socket_fuzz.ts";

const SEED = Number(Deno.env.get("SYNCLESS_FUZZ_SEED") ?? 20240611);
const CASES = Number(Deno.env.get("SYNCLESS_SOCKET_FUZZ_CASES") ?? 1_000);

Deno.test(`serve(): ${CASES} fuzzed requests over sockets get whole responses or a clean close`, async () => {
  const errors: unknown[] = [];
  const server = fuzzServer(errors);
  try {
    const stats = await runSocketFuzz(server.addr.port!, SEED, CASES);
    assert.equal(stats.cases, CASES);
    assert.ok((stats.byStatus[200] ?? 0) > CASES / 5, JSON.stringify(stats));
    assert.ok((stats.byStatus[400] ?? 0) > CASES / 5, JSON.stringify(stats));
  } finally {
    await server.shutdown();
  }
  assert.deepEqual(errors, [], "the server reported errors of its own");
});
