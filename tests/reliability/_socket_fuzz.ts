// The socket half of the HTTP fuzz: each generated case goes to a real
// serve() over loopback, and what comes back must be whole responses with
// expected statuses, ending in a clean close, agreeing with the pure parser
// about the first head; the server must still serve afterwards.

import assert from "node:assert/strict";
import { type HttpServer, serve, type WsgiApp } from "../../wsgi/mod.ts";
import { findHeadEnd, skipEmptyLines } from "../../wsgi/_request_head.ts";
import { makeCase } from "./_http_cases.ts";
import { FUZZ_LIMITS, FuzzFailure, parseOutcome } from "./_http_check.ts";
import { exchangeRaw, getStatus, pool, responsesOf } from "./_net.ts";

const ALLOWED = new Set([200, 400, 408, 413, 414, 421, 431, 501, 505]);

/** Counters of a socket fuzz run. */
export interface SocketFuzzStats {
  cases: number;
  responses: number;
  quietCloses: number;
  byStatus: Record<number, number>;
}

/** Echoes the body length: reading the body exercises the body framing too. */
const app: WsgiApp = async (environ, startResponse) => {
  const body = await environ["wsgi.input"].read();
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return String(body.length);
};

/** A server with the fuzz limits; `errors` collects what it reports. */
export function fuzzServer(errors: unknown[]): HttpServer {
  return serve(app, {
    port: 0,
    ...FUZZ_LIMITS,
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
    keepAliveTimeout: 5_000,
    onError: (error) => errors.push(error),
  });
}

/**
 * Sends cases `[first, first + count)` of `seed` to `port`, `width` at a
 * time, checking each; resolves to counters.
 */
export async function runSocketFuzz(
  port: number,
  seed: number,
  count: number,
  width = 8,
  first = 0,
): Promise<SocketFuzzStats> {
  const stats: SocketFuzzStats = {
    cases: 0,
    responses: 0,
    quietCloses: 0,
    byStatus: {},
  };
  await pool(count, width, async (k) => {
    const i = first + k;
    const c = makeCase(seed, i);
    try {
      const expected = c.expected === undefined
        ? undefined
        : c.expected.method === "HEAD"
        ? ""
        : String(c.body!.length);
      await checkOne(port, c.bytes, expected, stats);
    } catch (error) {
      throw new FuzzFailure(seed, i, c.bytes, error);
    }
  });
  assert.equal(await getStatus(port), 200, "the server still serves");
  return stats;
}

async function checkOne(
  port: number,
  request: Uint8Array,
  expectedBody: string | undefined,
  stats: SocketFuzzStats,
): Promise<void> {
  const result = await exchangeRaw(port, request, 15_000);
  assert.equal(
    result.timedOut,
    false,
    "the server neither answered nor closed",
  );
  const all = responsesOf(result.data);
  // `100 Continue` (Expect: 100-continue) is interim: a final answer follows.
  const responses = all.filter((r) => r.status !== 100);
  all.forEach((r, k) => {
    if (r.status === 100) assert.notEqual(all[k + 1], undefined, "100 alone");
  });
  stats.cases++;
  stats.responses += responses.length;
  if (responses.length === 0) stats.quietCloses++;
  responses.forEach((response, k) => {
    stats.byStatus[response.status] = (stats.byStatus[response.status] ?? 0) +
      1;
    assert.ok(ALLOWED.has(response.status), `status ${response.status}`);
    if (response.status !== 200) {
      assert.equal(response.headers["connection"], "close", "error closes");
      assert.equal(
        k,
        responses.length - 1,
        "an error response ends the connection",
      );
    }
  });
  // The first head: what the pure parser made of it must be what the server did.
  const start = skipEmptyLines(request, 0, request.length);
  const end = findHeadEnd(request, start, request.length);
  if (end !== -1) {
    const outcome = parseOutcome(request, start, end);
    assert.ok(responses.length > 0, "a complete head got no answer");
    if ("status" in outcome) {
      assert.equal(
        responses[0].status,
        outcome.status,
        "status of the first head",
      );
    } else {
      assert.ok(
        [200, 400, 408, 413].includes(responses[0].status),
        `accepted head answered ${responses[0].status}`,
      );
    }
  } else if (start < request.length) {
    assert.ok(responses.length === 1, "an incomplete head gets one answer");
    assert.ok([400, 414, 431, 505].includes(responses[0].status));
  } else {
    assert.equal(responses.length, 0, "empty lines only: a quiet close");
  }
  if (expectedBody !== undefined) {
    assert.equal(responses[0].status, 200, "a valid request was refused");
    assert.equal(responses[0].body, expectedBody);
    assert.equal(responses.length, 1);
  }
  if (result.reset) {
    // Only after a complete answer: lingering close must protect the last response.
    assert.ok(responses.length > 0, "reset without an answer");
  }
}
