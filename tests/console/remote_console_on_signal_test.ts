import assert from "node:assert/strict";
import {
  enableRemoteConsoleOnSignal,
  findRemoteConsolePort,
  remoteConsolePortFile,
} from "../../console/mod.ts";
import { closeInspectorOpenedBySignal } from "../../console/_inspector_guard.ts";
import { WireClient } from "./_wire.ts";

const FIXTURE = new URL("./_signal_fixture.ts", import.meta.url).pathname;

/** Starts the fixture; resolves once it listens for the signal. */
async function startFixture() {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FIXTURE],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`fixture ended early: ${text}`);
    text += value;
  }
  const portFile = /^ready (.*)$/m.exec(text)![1];
  return { child, reader, portFile };
}

Deno.test("SIGUSR1 starts the remote console and writes its port to a private file", async () => {
  const { child, reader, portFile } = await startFixture();
  try {
    assert.equal(portFile, remoteConsolePortFile(child.pid));
    await assert.rejects(Deno.stat(portFile), Deno.errors.NotFound);
    // Sends SIGUSR1 once, then waits for the file.
    const port = await findRemoteConsolePort(child.pid);
    const stat = await Deno.stat(portFile);
    assert.equal(stat.mode! & 0o777, 0o600);
    assert.equal(stat.uid, Deno.uid());
    assert.equal(await Deno.readTextFile(portFile), `${port}\n`);

    const client = await WireClient.connect(port);
    try {
      await client.waitForPrompts(1);
      await client.send("marker + ':' + Deno.pid\n");
      await client.waitForPrompts(2);
      assert.equal(client.replyAfterPrompt(1), `"fixture:${child.pid}"\n`);
      // Deno may open its V8 inspector on the same signal (not within its
      // first 500 ms); none may stay open past the console's 2 s guard.
      await client.send(
        "await sleep(2500); (await import('node:inspector')).url()\n",
      );
      await client.waitForPrompts(3);
      assert.equal(client.replyAfterPrompt(2), "undefined\n");
    } finally {
      await client.close();
    }
    // A second signal changes nothing.
    Deno.kill(child.pid, "SIGUSR1");
    const again = await WireClient.connect(port);
    try {
      await again.waitForPrompts(1);
      assert.equal(await Deno.readTextFile(portFile), `${port}\n`);
    } finally {
      await again.close();
    }
  } finally {
    await child.stdin.close();
    const status = await child.status;
    await reader.cancel();
    assert.equal(status.code, 0);
  }
  // Disabling removed the port file.
  await assert.rejects(Deno.stat(portFile), Deno.errors.NotFound);
});

Deno.test("findRemoteConsolePort gives up on a process that does not answer", async () => {
  // This process is not listening for SIGUSR1 with a console... but a
  // default SIGUSR1 would kill it, so ask about a process that ignores it:
  // a child that traps the signal and never writes a port file.
  const child = new Deno.Command("sh", {
    args: ["-c", "trap '' USR1; echo ready; sleep 30"],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  await reader.read();
  try {
    const started = Date.now();
    await assert.rejects(
      findRemoteConsolePort(child.pid),
      /did not start a remote console/,
    );
    assert.ok(Date.now() - started < 15_000);
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel();
  }
  await assert.rejects(findRemoteConsolePort(2 ** 22 + 12345), /cannot signal/);
});

Deno.test("a port file that others could read is refused", async () => {
  const child = new Deno.Command("sh", {
    args: ["-c", "trap '' USR1; echo ready; sleep 30"],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  await reader.read();
  const path = remoteConsolePortFile(child.pid);
  try {
    await Deno.writeTextFile(path, "5454\n", { mode: 0o644 });
    await Deno.chmod(path, 0o644);
    await assert.rejects(
      findRemoteConsolePort(child.pid),
      /not private to this user/,
    );
  } finally {
    await Deno.remove(path).catch(() => {});
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel();
  }
});

Deno.test("the inspector guard closes an inspector that opens while it watches", async () => {
  const inspector = await import("node:inspector");
  assert.equal(inspector.url(), undefined);
  const guard = closeInspectorOpenedBySignal(5000);
  inspector.open(0, "127.0.0.1");
  assert.notEqual(inspector.url(), undefined);
  assert.equal(await guard, true);
  assert.equal(inspector.url(), undefined);
  // Nothing opens: it gives up after its time and closes nothing.
  assert.equal(await closeInspectorOpenedBySignal(50), false);
});

Deno.test("enableRemoteConsoleOnSignal in this process: disable before any signal", async () => {
  const backdoor = enableRemoteConsoleOnSignal({ log: () => {} });
  assert.equal(backdoor.server, undefined);
  assert.equal(backdoor.portFile, remoteConsolePortFile(Deno.pid));
  await backdoor.disable();
  await backdoor.disable();
});
