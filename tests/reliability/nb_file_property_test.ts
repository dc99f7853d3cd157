// NbFile's reads against a reference model, over a reader that returns
// random-sized chunks (`deno task stress` runs 20x more trials).

import assert from "node:assert/strict";
import { runNbFileModel } from "./_nb_file_model.ts";

const SEED = Number(Deno.env.get("SYNCLESS_FUZZ_SEED") ?? 20240611);
const TRIALS = Number(Deno.env.get("SYNCLESS_NBFILE_TRIALS") ?? 500);

Deno.test(`NbFile: ${TRIALS} random scripts of readline/find/readUpto/... match the reference model`, async () => {
  const stats = await runNbFileModel(SEED, TRIALS);
  assert.equal(stats.trials, TRIALS);
  assert.ok(stats.operations > TRIALS * 20);
});
