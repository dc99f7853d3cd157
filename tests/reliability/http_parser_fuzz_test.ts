// Fuzzing the request-head parser and the chunked framing as pure functions:
// generated valid requests, mutations of them, random bytes and edge cases.
// `deno task stress` runs the same checks on 1M cases; set
// SYNCLESS_FUZZ_SEED / SYNCLESS_FUZZ_CASES to reproduce or widen a run.

import assert from "node:assert/strict";
import { parseChunkHeader } from "../../wsgi/_chunked.ts";
import { HttpError } from "../../wsgi/errors.ts";
import { bytes } from "./_http_cases.ts";
import { runChunkFuzz, runHeadFuzz } from "./_http_check.ts";

const SEED = Number(Deno.env.get("SYNCLESS_FUZZ_SEED") ?? 20240611);
const CASES = Number(Deno.env.get("SYNCLESS_FUZZ_CASES") ?? 20_000);

Deno.test(`request-head parser: ${CASES} generated, mutated and random heads agree with a plain re-reading`, () => {
  const stats = runHeadFuzz(SEED, CASES);
  assert.equal(stats.cases, CASES);
  // The mix must exercise both sides of the parser, not just refusals.
  assert.ok(stats.accepted > CASES / 5, `accepted ${stats.accepted}`);
  for (const status of [400, 413, 414, 501]) {
    assert.ok((stats.byStatus[status] ?? 0) > 0, `no case earned ${status}`);
  }
});

Deno.test(`chunked framing: ${CASES} chunk-size lines and trailers follow the RFC 9112 grammar`, () => {
  const stats = runChunkFuzz(SEED, CASES);
  assert.ok(stats.accepted > CASES / 4, `accepted ${stats.accepted}`);
  assert.ok(stats.refused > CASES / 10, `refused ${stats.refused}`);
});

Deno.test("chunk extensions: a quoted-pair may not escape a control byte (bare CR)", () => {
  for (
    const line of ['5;a="x\\\rb"\r\n', '5;a="x\\\x00"\r\n', '5;a="\\\x7f"\r\n']
  ) {
    assert.throws(
      () => parseChunkHeader(bytes(line), 0, line.length),
      (error) => error instanceof HttpError && error.status === 400,
      JSON.stringify(line),
    );
  }
  const ok = '5;a="x\\"y\\\\";b=c\r\n';
  assert.equal(parseChunkHeader(bytes(ok), 0, ok.length)!.size, 5);
});

Deno.test("chunk extensions: whitespace may only surround '=', not end the line", () => {
  for (const line of ["5;a \r\n", "5;a\t\r\n", "5;a=b \r\n", '5;a="b" \r\n']) {
    assert.throws(
      () => parseChunkHeader(bytes(line), 0, line.length),
      (error) => error instanceof HttpError && error.status === 400,
      JSON.stringify(line),
    );
  }
  const ok = "5 ; a = b ;c\r\n";
  assert.equal(parseChunkHeader(bytes(ok), 0, ok.length)!.size, 5);
});
