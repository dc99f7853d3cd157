// The WebSocket frame fuzz: generated and mutated client frame streams
// against a reference reading of RFC 6455, in memory and over real upgraded
// connections (`deno task stress` runs 100x more).

import assert from "node:assert/strict";
import { runWsFuzzInMemory, runWsFuzzOverSockets } from "./_ws_fuzz.ts";

const SEED = Number(Deno.env.get("SYNCLESS_FUZZ_SEED") ?? 20240611);
const CASES = Number(Deno.env.get("SYNCLESS_WS_FUZZ_CASES") ?? 2_000);
const SOCKET_CASES = Number(Deno.env.get("SYNCLESS_WS_SOCKET_CASES") ?? 300);

Deno.test(`WebSocket frames: ${CASES} generated streams in memory match the RFC 6455 reference`, async () => {
  const stats = await runWsFuzzInMemory(SEED, CASES);
  assert.equal(stats.cases, CASES);
  for (const kind of ["closes", "failures", "eofs"] as const) {
    assert.ok(stats[kind] > CASES / 20, `${kind}: ${JSON.stringify(stats)}`);
  }
});

Deno.test(`WebSocket frames: ${SOCKET_CASES} streams over real upgraded connections`, async () => {
  const stats = await runWsFuzzOverSockets(SEED, SOCKET_CASES);
  assert.equal(stats.cases, SOCKET_CASES);
  assert.ok(stats.messages > 0 && stats.failures > 0 && stats.closes > 0);
});
