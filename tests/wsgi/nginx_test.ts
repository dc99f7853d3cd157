// A real load balancer in front of two serve() instances: nginx from Debian,
// started here on loopback with a generated config (HTTP/1.1 upstream with
// keep-alive). Requests must reach both backends, upstream connections must
// be reused, and chunked bodies must survive the proxy both ways.

import assert from "node:assert/strict";
import { type Environ, serve, type StartResponse } from "../../wsgi/mod.ts";
import { parseAll, RawClient } from "./_helpers.ts";

function backend(id: string, ports: Set<string>) {
  return async (environ: Environ, startResponse: StartResponse) => {
    ports.add(environ.REMOTE_PORT);
    const body = await environ["wsgi.input"].read();
    if (environ.PATH_INFO === "/stream") {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return (async function* () {
        for (let i = 0; i < 3; i++) yield `${id}-part${i};`;
      })();
    }
    startResponse("200 OK", [["Content-Type", "text/plain"], [
      "X-Backend",
      id,
    ]]);
    const text = new TextDecoder().decode(body);
    return `${id} ${environ.REQUEST_METHOD} ${body.length} ${text}`;
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

function findNginx(): string | undefined {
  for (
    const path of ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
  ) {
    try {
      Deno.statSync(path);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

Deno.test("nginx in front of two servers: both reached, keep-alive upstream, chunked both ways", async () => {
  const nginx = findNginx();
  if (nginx === undefined) {
    console.log("SKIP: nginx is not installed (apt-get install nginx)");
    return;
  }
  const portsA = new Set<string>();
  const portsB = new Set<string>();
  const a = serve(backend("A", portsA), { hostname: "127.0.0.1", port: 0 });
  const b = serve(backend("B", portsB), { hostname: "127.0.0.1", port: 0 });
  const dir = await Deno.makeTempDir();
  const port = await freePort();
  await Deno.writeTextFile(
    `${dir}/nginx.conf`,
    `
daemon off;
master_process off;
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream backends {
    server 127.0.0.1:${a.addr.port};
    server 127.0.0.1:${b.addr.port};
    keepalive 8;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
      proxy_buffering off;
    }
  }
}
`,
  );
  const child = new Deno.Command(nginx, {
    args: [
      "-p",
      `${dir}/`,
      "-c",
      `${dir}/nginx.conf`,
      "-e",
      `${dir}/error.log`,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    await waitForPort(port);
    const base = `http://127.0.0.1:${port}`;
    const seen = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`${base}/n${i}`);
      const text = await response.text();
      const id = response.headers.get("x-backend")!;
      assert.equal(text, `${id} GET 0 `);
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    // Round robin reaches both; upstream connections are reused.
    assert.equal(seen.get("A"), 10);
    assert.equal(seen.get("B"), 10);
    assert.ok(
      portsA.size < 10,
      `A saw ${portsA.size} connections for 10 requests`,
    );
    assert.ok(
      portsB.size < 10,
      `B saw ${portsB.size} connections for 10 requests`,
    );

    // A chunked upload arrives whole (nginx may re-frame it).
    const client = await RawClient.connect(port);
    try {
      await client.send(
        "POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
          "6\r\nchunk1\r\n6\r\nchunk2\r\n0\r\n\r\n",
      );
      const response = await client.readResponse();
      assert.match(response.body, /^[AB] POST 12 chunk1chunk2$/);
      // A streamed (chunked) response survives the proxy, on the same connection.
      await client.send(
        "GET /stream HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
      );
      const rest = parseAll(await client.readAll());
      assert.equal(rest.length, 1);
      assert.match(rest[0].body, /^([AB])-part0;\1-part1;\1-part2;$/);
    } finally {
      client.close();
    }
  } finally {
    child.kill("SIGTERM");
    const status = await child.output();
    await a.shutdown();
    await b.shutdown();
    await Deno.remove(dir, { recursive: true });
    assert.ok(status.signal === "SIGTERM" || status.code === 0);
  }
});
