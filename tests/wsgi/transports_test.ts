// serve() over TLS (a self-signed certificate made with openssl) and over
// Unix sockets.

import assert from "node:assert/strict";
import { type Environ, serve, type StartResponse } from "../../wsgi/mod.ts";
import { exchange, parseAll, parseResponse, text } from "./_helpers.ts";

function app(environ: Environ, startResponse: StartResponse) {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return `${
    environ["wsgi.url_scheme"]
  } ${environ.PATH_INFO} ${environ.REMOTE_ADDR}`;
}

async function hasCommand(name: string): Promise<boolean> {
  try {
    const { code } = await new Deno.Command("sh", {
      args: ["-c", `command -v ${name}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return code === 0;
  } catch {
    return false;
  }
}

/** A self-signed certificate for 127.0.0.1/localhost, made with openssl. */
async function selfSigned(dir: string): Promise<{ cert: string; key: string }> {
  const { code, stderr } = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "extendedKeyUsage=serverAuth",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return {
    cert: await Deno.readTextFile(`${dir}/cert.pem`),
    key: await Deno.readTextFile(`${dir}/key.pem`),
  };
}

Deno.test("TLS: https with a self-signed certificate, keep-alive and scheme", async () => {
  if (!await hasCommand("openssl")) {
    console.log("SKIP: openssl is not installed");
    return;
  }
  const dir = await Deno.makeTempDir();
  try {
    const tls = await selfSigned(dir);
    const server = serve(app, { hostname: "127.0.0.1", port: 0, tls });
    try {
      const conn = await Deno.connectTls({
        hostname: "127.0.0.1",
        port: server.addr.port!,
        caCerts: [tls.cert],
      });
      try {
        const request = "GET /secure HTTP/1.1\r\nHost: localhost\r\n\r\n";
        let data = "";
        const buffer = new Uint8Array(4096);
        for (let round = 0; round < 2; round++) {
          await conn.write(new TextEncoder().encode(request));
          let parsed = parseResponse(data);
          while (parsed === null) {
            const n = await conn.read(buffer);
            assert.ok(n !== null);
            data += text(buffer.subarray(0, n));
            parsed = parseResponse(data);
          }
          data = data.slice(parsed.length);
          assert.equal(parsed.body, "https /secure 127.0.0.1");
          assert.equal(parsed.headers.connection, "keep-alive");
        }
      } finally {
        conn.close();
      }
      // Deno's fetch, trusting our certificate.
      const client = Deno.createHttpClient({ caCerts: [tls.cert] });
      try {
        const response = await fetch(
          `https://localhost:${server.addr.port}/f`,
          { client },
        );
        assert.equal(await response.text(), "https /f 127.0.0.1");
      } finally {
        client.close();
      }
      // An http:// absolute-form target on a TLS connection is misdirected.
      const plain = await Deno.connectTls({
        hostname: "127.0.0.1",
        port: server.addr.port!,
        caCerts: [tls.cert],
      });
      try {
        await plain.write(
          new TextEncoder().encode(
            "GET http://localhost/ HTTP/1.1\r\nHost: localhost\r\n\r\n",
          ),
        );
        let data = "";
        const buffer = new Uint8Array(4096);
        for (let n; (n = await plain.read(buffer)) !== null;) {
          data += text(buffer.subarray(0, n));
        }
        assert.equal(parseAll(data)[0].status, 421);
      } finally {
        plain.close();
      }
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TLS: a plain-text request on the TLS port does not get through", async () => {
  if (!await hasCommand("openssl")) {
    console.log("SKIP: openssl is not installed");
    return;
  }
  const dir = await Deno.makeTempDir();
  const errors: unknown[] = [];
  try {
    const tls = await selfSigned(dir);
    const server = serve(app, {
      hostname: "127.0.0.1",
      port: 0,
      tls,
      onError: (e) => void errors.push(e),
    });
    try {
      const raw = await exchange(
        server.addr.port!,
        "GET / HTTP/1.1\r\nHost: t\r\n\r\n",
      );
      assert.ok(!raw.includes("200 OK"));
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.deepEqual(errors, []); // a failed handshake is the client's problem
});

Deno.test("Unix socket: serve on a path, environ, removed at shutdown", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/http.sock`;
  let environ: Environ | undefined;
  const server = serve((e: Environ, startResponse: StartResponse) => {
    environ = e;
    return app(e, startResponse);
  }, { transport: "unix", path });
  try {
    assert.deepEqual(server.addr, { path });
    const responses = parseAll(
      await exchange(
        path,
        "GET /a HTTP/1.1\r\nHost: localhost\r\n\r\nGET /b HTTP/1.1\r\nHost: localhost\r\n\r\n",
      ),
    );
    assert.equal(responses.length, 2);
    assert.equal(responses[1].body, "http /b ");
    assert.equal(environ!.SERVER_NAME, path);
    assert.equal(environ!.SERVER_PORT, "");
    assert.equal(environ!.REMOTE_PORT, "");
  } finally {
    await server.shutdown();
  }
  await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});
