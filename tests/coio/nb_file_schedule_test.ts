// schedule_test.py's file cases: an idle file must not perturb round-robin,
// and a tasklet blocked on a file leaves the rotation until its data comes.
import assert from "node:assert/strict";
import { schedule, spawn } from "../../coio/mod.ts";
import { VARIANTS } from "./_io_fixtures.ts";

function worker(log: string[], name: string, turns: number) {
  return async () => {
    for (let i = 0; i < turns; i++) {
      log.push(name);
      if (i < turns - 1) await schedule();
    }
  };
}

for (const [kind, make] of VARIANTS) {
  Deno.test(`NbFile (${kind}): an idle open file does not perturb round-robin (testFairSchedulingWithFile)`, async () => {
    const lb = await make();
    try {
      const log: string[] = [];
      const tasklets = [
        spawn(worker(log, "A", 5)),
        spawn(worker(log, "B", 9)),
        spawn(worker(log, "C", 7)),
      ];
      for (let i = 0; i < 10; i++) await schedule();
      for (const t of tasklets) await t.join();
      assert.equal(log.join(""), "ABCABCABCABCABCBCBCBB");
    } finally {
      await lb.close();
    }
  });

  Deno.test(`NbFile (${kind}): a tasklet blocked on a file leaves the rotation (testFairSchedulingBlockedOnFile)`, async () => {
    const lb = await make();
    const { file } = lb;
    try {
      const log: string[] = [];
      let got = "";
      const tasklets = [
        spawn(async () => {
          await worker(log, "A", 3)();
          log.push("R");
          await file.write("S");
          await file.flush();
          log.push("T");
        }),
        spawn(worker(log, "B", 6)),
        spawn(async () => {
          log.push("W");
          got = new TextDecoder().decode(await file.readAtMost(1));
          log.push("w");
        }),
        spawn(worker(log, "C", 9)),
      ];
      for (let i = 0; i < 32; i++) await schedule();
      for (const t of tasklets) await t.join();
      assert.equal(got, "S");
      const all = log.join("");
      // Syncless logs exactly ABWC ABC ARTBC wBC BC BC C C C. In Deno the
      // reader's wake-up comes from Tokio's I/O driver, which a busy run
      // queue polls only every few dozen turns, and A's awaited write lets
      // B and C run before "T"; what holds exactly is that the others keep
      // their round-robin while W waits, and that W wakes after the write.
      assert.equal(
        all.replace(/[RTw]/g, ""),
        "ABWCABCABCBCBCBCCCC",
        all,
      );
      assert.ok(all.indexOf("w") > all.indexOf("R"), all);
      assert.match(all, /^ABWCABCAR/);
    } finally {
      await lb.close();
    }
  });
}
