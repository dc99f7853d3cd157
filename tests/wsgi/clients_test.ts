// Clients we did not write: curl, Python's http.client and Deno's fetch.

import assert from "node:assert/strict";
import type { Environ, StartResponse } from "../../wsgi/mod.ts";
import { withServer } from "./_helpers.ts";

async function app(environ: Environ, startResponse: StartResponse) {
  const body = await environ["wsgi.input"].read();
  if (environ.PATH_INFO === "/stream") {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return (async function* () {
      for (let i = 0; i < 5; i++) yield `part${i};`;
    })();
  }
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return `${environ.REQUEST_METHOD} ${environ.PATH_INFO} ${body.length} ${
    new TextDecoder().decode(body.subarray(0, 8))
  }`;
}

async function run(
  command: string,
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string } | null> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args,
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

Deno.test("curl: keep-alive across requests, chunked upload, 100-continue, streamed download", async () => {
  const probe = await run("curl", ["--version"]);
  if (probe === null) {
    console.log("SKIP: curl is not installed");
    return;
  }
  await withServer(app, {}, async (_server, port) => {
    const base = `http://127.0.0.1:${port}`;
    // Two URLs on one command line: curl reuses the connection.
    let result = await run("curl", [
      "-s",
      "--http1.1",
      "-w",
      "|%{num_connects}\\n",
      `${base}/one`,
      `${base}/two`,
    ]);
    assert.equal(result!.code, 0, result!.stderr);
    assert.deepEqual(result!.stdout.trim().split("\n"), [
      "GET /one 0 |1",
      "GET /two 0 |0",
    ]);

    // Chunked upload from stdin.
    result = await run("curl", [
      "-s",
      "--http1.1",
      "-H",
      "Transfer-Encoding: chunked",
      "--data-binary",
      "@-",
      `${base}/upload`,
    ], "chunky data from curl");
    assert.equal(result!.stdout, "POST /upload 21 chunky d");

    // A large upload makes curl send Expect: 100-continue and wait for it.
    const big = "y".repeat(2 * 1024 * 1024);
    result = await run("curl", [
      "-s",
      "--http1.1",
      "-H",
      "Expect: 100-continue",
      "--expect100-timeout",
      "30",
      "--data-binary",
      "@-",
      "-w",
      "|%{http_code}",
      `${base}/big`,
    ], big);
    assert.equal(result!.stdout, `POST /big ${big.length} yyyyyyyy|200`);

    result = await run("curl", ["-s", "--http1.1", "-i", `${base}/stream`]);
    assert.match(result!.stdout, /Transfer-Encoding: chunked/i);
    assert.ok(result!.stdout.endsWith("part0;part1;part2;part3;part4;"));

    result = await run("curl", ["-s", "--http1.1", "-I", `${base}/head`]);
    assert.match(result!.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(result!.stdout, /Content-Length: 13\r\n/i);
  });
});

const PYTHON_CLIENT = `
import http.client, json, sys
port = int(sys.argv[1])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
out = []
conn.request("GET", "/py?x=1")
r = conn.getresponse(); out.append([r.status, r.getheader("Connection"), r.read().decode()])
conn.request("POST", "/post", body=b"python body", headers={"Content-Type": "text/plain"})
r = conn.getresponse(); out.append([r.status, r.getheader("Connection"), r.read().decode()])
def gen():
    yield b"chunk-one;"
    yield b"chunk-two"
conn.request("PUT", "/chunked", body=gen(), encode_chunked=True)
r = conn.getresponse(); out.append([r.status, r.getheader("Transfer-Encoding"), r.read().decode()])
conn.request("GET", "/stream")
r = conn.getresponse(); out.append([r.status, r.getheader("Transfer-Encoding"), r.read().decode()])
conn.request("HEAD", "/head")
r = conn.getresponse(); out.append([r.status, r.getheader("Content-Length"), r.read().decode()])
conn.close()
print(json.dumps(out))
`;

Deno.test("Python http.client: keep-alive, bodies, chunked both ways, HEAD", async () => {
  const probe = await run("python3", ["--version"]);
  if (probe === null) {
    console.log("SKIP: python3 is not installed");
    return;
  }
  await withServer(app, {}, async (_server, port) => {
    const result = await run("python3", ["-c", PYTHON_CLIENT, String(port)]);
    assert.equal(result!.code, 0, result!.stderr);
    assert.deepEqual(JSON.parse(result!.stdout), [
      [200, "keep-alive", "GET /py 0 "],
      [200, "keep-alive", "POST /post 11 python b"],
      [200, null, "PUT /chunked 19 chunk-on"],
      [200, "chunked", "part0;part1;part2;part3;part4;"],
      [200, "13", ""],
    ]);
  });
});

Deno.test("Deno fetch: many requests over a pooled connection, concurrent ones too", async () => {
  await withServer(app, {}, async (_server, port) => {
    const base = `http://127.0.0.1:${port}`;
    const bodies = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const response = await fetch(`${base}/n${i}`, {
          method: "POST",
          body: `body-${i}`,
        });
        return await response.text();
      }),
    );
    for (let i = 0; i < 20; i++) {
      assert.equal(
        bodies[i],
        `POST /n${i} ${`body-${i}`.length} body-${i}`.slice(
          0,
          20 + String(i).length * 2,
        ),
      );
    }
    const stream = await fetch(`${base}/stream`);
    assert.equal(await stream.text(), "part0;part1;part2;part3;part4;");
  });
});
