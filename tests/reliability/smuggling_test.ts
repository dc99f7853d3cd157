// The request-smuggling corpus against serve(): each case refused with its
// status and a close, the hidden second request never answered, no case
// waiting for a timeout. Deno.serve and node:http get the same bytes (their
// answers are tabulated in docs/RELIABILITY.md by stress/smuggling_table.ts).

import assert from "node:assert/strict";
import { serve } from "../../wsgi/mod.ts";
import { startDenoServe, startNodeHttp } from "./_peers.ts";
import { type CaseOutcome, runCase, SMUGGLING_CASES } from "./_smuggling.ts";
import { getStatus } from "./_net.ts";

/** serve() answering every request with its path after reading the body. */
function pathServer() {
  return serve(async (environ, startResponse) => {
    await environ["wsgi.input"].read();
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return String(environ.PATH_INFO);
  }, { port: 0, headersTimeout: 10_000 });
}

Deno.test(`smuggling corpus: all ${SMUGGLING_CASES.length} cases refused with a close, none read two ways`, async () => {
  const server = pathServer();
  try {
    const port = server.addr.port!;
    const started = performance.now();
    const outcomes = await Promise.all(
      SMUGGLING_CASES.map((c) => runCase(port, c, 8_000)),
    );
    SMUGGLING_CASES.forEach((c, i) => {
      const o = outcomes[i];
      const what = `${c.name}: ${JSON.stringify(o)}`;
      assert.equal(o.secondAnswered, false, what);
      assert.equal(o.timedOut, false, `left open: ${what}`);
      assert.equal(o.garbled, false, what);
      assert.deepEqual(o.statuses.length, 1, `one response: ${what}`);
      assert.ok(c.ours.includes(o.statuses[0]), what);
    });
    // Refusals come at once, not when headersTimeout (10 s) runs out.
    assert.ok(performance.now() - started < 5_000, "answers took too long");
    assert.equal(await getStatus(port), 200, "still serving");
  } finally {
    await server.shutdown();
  }
});

Deno.test("smuggling corpus: Deno.serve and node:http get the same bytes (compared, not judged)", async () => {
  for (const start of [startDenoServe, startNodeHttp]) {
    const peer = await start();
    let outcomes: CaseOutcome[];
    try {
      outcomes = await Promise.all(
        SMUGGLING_CASES.map((c) => runCase(peer.port, c, 1_500)),
      );
    } finally {
      await peer.close();
    }
    // Every case produced an outcome we can tabulate.
    assert.equal(outcomes.length, SMUGGLING_CASES.length, peer.name);
  }
});
