import assert from "node:assert/strict";
import { popen, SocketError } from "../../coio/mod.ts";
import { text } from "./_io_fixtures.ts";

Deno.test("stdio: stdin and stdout of a child process, line by line", async () => {
  const script = new URL("../fixtures/stdio_upper.ts", import.meta.url);
  const child = await popen(
    [Deno.execPath(), "run", "--quiet", "--no-lock", script.pathname],
    { mode: "r+", writeBufferLimit: 0 },
  );
  await child.write("hello\n");
  assert.equal(text(await child.readline()), "HELLO\n");
  await child.write("second line\nthird\n");
  assert.equal(text(await child.readline()), "SECOND LINE\n");
  assert.equal(text(await child.readline()), "THIRD\n");
  // The child reads EOF once its stdin is closed, and says goodbye.
  await child.closeWrite();
  await assert.rejects(child.write("late"), SocketError);
  assert.equal(text(await child.read()), "lines: 3\n");
  assert.equal(await child.close(), 0);
});

Deno.test("stdio: a piped stdin read to EOF, block-buffered stdout", async () => {
  const script = new URL("../fixtures/stdio_upper.ts", import.meta.url);
  const child = await popen(
    `printf 'a\nb' | '${Deno.execPath()}' run --quiet --no-lock '${script.pathname}'`,
  );
  assert.equal(text(await child.read()), "A\nBlines: 2\n");
  assert.equal(await child.close(), 0);
});
