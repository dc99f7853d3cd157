/**
 * A TCP client (Syncless's demo_tcp_client): look a host name up with coio's
 * asynchronous resolver (hosts file first, then DNS; other tasklets run
 * meanwhile), connect, and read the server's banner line.
 *
 *     deno run -A examples/tcp_client.ts                 # a local banner server
 *     deno run -A examples/tcp_client.ts smtp.example.com:25
 *
 * Without an argument it starts its own SMTP-like banner server on
 * 127.0.0.1 (port 8004, env PORT; 0 picks one) and connects to it by the
 * name `localhost`, so it runs without a network.
 *
 * @module
 */
import {
  connect,
  getaddrinfo,
  gethostbynameEx,
  listen,
  type NbListener,
  spawn,
} from "@syncless/syncless";

const target = Deno.args[0];
let server: NbListener | undefined;
let hostname = "localhost";
let port: number;
if (target === undefined) {
  server = listen({
    hostname: "127.0.0.1",
    port: Number(Deno.env.get("PORT") ?? 8004),
  });
  port = server.addr.port;
  console.log(`banner server listening on 127.0.0.1:${port}`);
  const listener = server;
  spawn(async () => {
    const socket = await listener.accept();
    await socket.sendall("220 localhost ESMTP syncless-example ready\r\n");
    socket.close();
  });
} else {
  const match = /^(.+):(\d+)$/.exec(target);
  if (match === null) throw new TypeError(`expected host:port, got ${target}`);
  [hostname, port] = [match[1].replace(/^\[|\]$/g, ""), Number(match[2])];
}

// Name lookups are coio waits: they can be timed out and cancelled.
const [canonical, aliases, addresses] = await gethostbynameEx(hostname);
console.log(`${hostname}: canonical name ${canonical}`);
console.log(`  aliases: ${aliases.join(", ") || "(none)"}`);
console.log(`  IPv4 addresses: ${addresses.join(", ")}`);
const all = await getaddrinfo(hostname, port);
console.log(`  every address: ${all.map((a) => a.address).join(", ")}`);

// connect() tries each address in turn; `timeout` bounds each wait.
const socket = await connect({ hostname, port, timeout: 5000 });
const peer = socket.remoteAddr as Deno.NetAddr;
console.log(`connected to ${peer.hostname}:${peer.port}`);
const file = socket.makefile();
const banner = await file.readlineStripend();
console.log(`banner: ${new TextDecoder().decode(banner ?? new Uint8Array())}`);
socket.close();
server?.close();
