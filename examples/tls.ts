/**
 * TLS server and client (Syncless's demo_ssl_server and demo_ssl_client):
 * `listen({ tls })` accepts TLS connections and `connect({ tls })` opens one;
 * both give the same `NbSocket` as plain TCP, with the same timeouts and
 * cancellation. Then the same certificate serves HTTPS with `serve()`.
 *
 *     deno run -A examples/tls.ts [port]    # default 8006, env PORT
 *
 * It makes a throwaway self-signed certificate for `localhost` with
 * `openssl` (or uses the PEM files named by CERT_FILE and KEY_FILE).
 *
 * @module
 */
import { connect, listen, serve, spawn } from "@syncless/syncless";
import { portArg } from "./_cli.ts";

async function throwawayCertificate(): Promise<{ cert: string; key: string }> {
  const [certFile, keyFile] = [
    Deno.env.get("CERT_FILE"),
    Deno.env.get("KEY_FILE"),
  ];
  if (certFile && keyFile) {
    return {
      cert: await Deno.readTextFile(certFile),
      key: await Deno.readTextFile(keyFile),
    };
  }
  const dir = await Deno.makeTempDir({ prefix: "syncless-tls-" });
  try {
    // One self-signed certificate, usable as a server certificate (not a CA).
    const args = `req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1
      -nodes -days 1 -subj /CN=localhost -keyout ${dir}/key.pem
      -out ${dir}/cert.pem -addext subjectAltName=DNS:localhost,IP:127.0.0.1
      -addext basicConstraints=critical,CA:FALSE`.split(/\s+/);
    const { success, stderr } = await new Deno.Command("openssl", {
      args,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) throw new Error(new TextDecoder().decode(stderr));
    return {
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const tls = await throwawayCertificate();

// A TLS line server: it greets, then answers one line.
const listener = listen({ hostname: "127.0.0.1", port: portArg(8006), tls });
console.log(`TLS server listening on 127.0.0.1:${listener.addr.port}`);
spawn(async () => {
  const socket = await listener.accept();
  const file = socket.makefile();
  await file.write("hello over TLS, what is your name?\n");
  await file.flush();
  const name = new TextDecoder().decode((await file.readlineStripend())!);
  await file.write(`nice to meet you, ${name}\n`);
  await file.flush();
  socket.close();
});

// The client trusts the throwaway certificate and checks the name "localhost".
const socket = await connect({
  hostname: "127.0.0.1",
  port: listener.addr.port,
  timeout: 5000,
  tls: { hostname: "localhost", caCerts: [tls.cert] },
});
const file = socket.makefile();
const decoder = new TextDecoder();
console.log(`server: ${decoder.decode((await file.readlineStripend())!)}`);
await file.write("tasklet\n");
await file.flush();
console.log(`server: ${decoder.decode((await file.readlineStripend())!)}`);
socket.close();
listener.close();

// HTTPS: serve() takes the same certificate; fetch trusts it via an HttpClient.
const server = serve((environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return `secure hello, scheme ${environ["wsgi.url_scheme"]}\n`;
}, { hostname: "127.0.0.1", port: 0, tls });
const client = Deno.createHttpClient({ caCerts: [tls.cert] });
const response = await fetch(`https://localhost:${server.addr.port}/`, {
  client,
});
console.log(`HTTPS ${response.status}: ${(await response.text()).trim()}`);
client.close();
await server.shutdown();
