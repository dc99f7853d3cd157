import assert from "node:assert/strict";
import { openFile, popen, SocketError } from "../../coio/mod.ts";
import { text } from "./_io_fixtures.ts";

Deno.test("popen: read a command's output; close() returns the exit code", async () => {
  const file = await popen(["sh", "-c", "printf 'one\\ntwo\\n'; exit 3"]);
  assert.equal(text(await file.readline()), "one\n");
  assert.equal(text(await file.read()), "two\n");
  assert.equal(await file.close(), 3);
  assert.equal(await file.close(), 3);
});

Deno.test("popen: a shell string; exit codes 0 and 10", async () => {
  const ok = await popen("echo hi");
  assert.equal(text(await ok.read()), "hi\n");
  assert.equal(await ok.close(), 0);
  const ten = await popen("exit 10");
  assert.equal((await ten.read()).length, 0);
  assert.equal(await ten.close(), 10);
});

Deno.test("popen: mode w writes the child's stdin; r+ talks both ways", async () => {
  const path = await Deno.makeTempFile();
  try {
    const sink = await popen(["sh", "-c", `cat > '${path}'`], { mode: "w" });
    await sink.write("to the child\n");
    assert.equal(await sink.close(), 0);
    assert.equal(await Deno.readTextFile(path), "to the child\n");
    await assert.rejects(sink.read(1), SocketError);

    const cat = await popen(["cat"], { mode: "r+", writeBufferLimit: 0 });
    await cat.write("ping\n");
    assert.equal(text(await cat.readline()), "ping\n");
    assert.equal(await cat.close(), 0);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("popen: a missing program is ENOENT; bad arguments are TypeErrors", async () => {
  await assert.rejects(popen(["/no/such/program"]), (e: unknown) => {
    assert.ok(e instanceof SocketError);
    assert.equal(e.code, "ENOENT");
    return true;
  });
  await assert.rejects(popen([]), TypeError);
  await assert.rejects(popen("true", { mode: "x" as "r" }), TypeError);
});

Deno.test("popen: closing early does not wait for output nobody reads", async () => {
  const file = await popen(["sh", "-c", "yes | head -c 1000000; exit 0"]);
  assert.equal((await file.read(5)).length, 5);
  const code = await file.close();
  assert.equal(typeof code, "number");
});

Deno.test("openFile: write, append, read back; errors have codes", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/f.txt`;
  try {
    const out = await openFile(path, "w");
    await out.write("first\n");
    await out.close();
    const more = await openFile(path, "ab");
    await more.write("second\n");
    await more.close();
    const back = await openFile(path);
    assert.equal(text(await back.readline()), "first\n");
    assert.equal(text(await back.readlineStripend()), "second");
    assert.equal(await back.readlineStripend(), null);
    await assert.rejects(back.write("x"), SocketError);
    await back.close();
    await assert.rejects(openFile(`${dir}/missing`), (e: unknown) => {
      assert.ok(e instanceof SocketError);
      assert.equal(e.code, "ENOENT");
      return true;
    });
    await assert.rejects(openFile(path, "x"), (e: unknown) => {
      assert.ok(e instanceof SocketError);
      assert.equal(e.code, "EEXIST");
      return true;
    });
    await assert.rejects(openFile(path, "q"), TypeError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
