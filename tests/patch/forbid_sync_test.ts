import assert from "node:assert/strict";
import { BlockingCallError } from "../../coio/errors.ts";
import { spawn } from "../../coio/spawn.ts";
import { allowSync, forbidSync } from "../../patch/forbid_sync.ts";

function captureWarnings(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void lines.push(args.join(" "));
  return { lines, restore: () => (console.warn = warn) };
}

Deno.test("forbidSync: warns on Deno.readFileSync inside a tasklet, not outside", async () => {
  const warnings = captureWarnings();
  const stop = forbidSync({ mode: "warn" });
  try {
    const outside = Deno.readFileSync("deno.json");
    assert.ok(outside.length > 0);
    assert.equal(warnings.lines.length, 0);
    const inside = await spawn(
      { name: "reader" },
      () => Deno.readFileSync("deno.json"),
    ).join();
    assert.deepEqual(inside, outside); // the call still ran
    assert.equal(warnings.lines.length, 1);
    assert.match(warnings.lines[0], /Deno\.readFileSync\(\)/);
    assert.match(warnings.lines[0], /"reader"/);
  } finally {
    stop();
    warnings.restore();
  }
});

Deno.test("forbidSync: throw mode throws BlockingCallError inside tasklets only", async () => {
  const stop = forbidSync({ mode: "throw" });
  try {
    assert.ok(Deno.readTextFileSync("deno.json").length > 0);
    const error = await spawn(
      { name: "stat-er" },
      () => Deno.statSync("deno.json"),
    ).join().catch((e) => e);
    assert.ok(error instanceof BlockingCallError, String(error));
    assert.equal(error.name, "BlockingCallError");
    assert.equal(error.call, "Deno.statSync");
    assert.equal(error.tasklet, "stat-er");
    // Methods of Deno.FsFile are covered too.
    using file = Deno.openSync("deno.json");
    await assert.rejects(
      spawn(() => file.readSync(new Uint8Array(4))).join(),
      (e) =>
        e instanceof BlockingCallError && e.call === "Deno.FsFile#readSync",
    );
  } finally {
    stop();
  }
});

Deno.test("forbidSync: calling again changes the mode; allowSync restores the originals", async () => {
  const readFileSync = Deno.readFileSync;
  const readSync = Deno.FsFile.prototype.readSync;
  const outputSync = Deno.Command.prototype.outputSync;
  forbidSync({ mode: "throw" });
  const wrapped = Deno.readFileSync;
  assert.notEqual(wrapped, readFileSync);
  assert.notEqual(Deno.FsFile.prototype.readSync, readSync);
  assert.notEqual(Deno.Command.prototype.outputSync, outputSync);
  const warnings = captureWarnings();
  try {
    forbidSync({ mode: "warn" });
    assert.equal(Deno.readFileSync, wrapped); // not wrapped twice
    await spawn(() => Deno.readFileSync("deno.json")).join(); // warns now
    assert.equal(warnings.lines.length, 1);
  } finally {
    warnings.restore();
    allowSync();
  }
  assert.equal(Deno.readFileSync, readFileSync);
  assert.equal(Deno.FsFile.prototype.readSync, readSync);
  assert.equal(Deno.Command.prototype.outputSync, outputSync);
  allowSync(); // a no-op
  assert.equal(Deno.readFileSync, readFileSync);
});

Deno.test("forbidSync: a bad mode is a TypeError", () => {
  assert.throws(
    () => forbidSync({ mode: "loud" as unknown as "warn" }),
    TypeError,
  );
  assert.equal(typeof Deno.readFileSync, "function");
});
