/**
 * A line echo server: one tasklet per connection, written as plain
 * sequential code (read a line, write it back) with no callbacks.
 *
 *     deno run -A examples/echo_server.ts [port]    # default 8001, env PORT
 *     nc 127.0.0.1 8001                             # then type lines
 *
 * Ctrl-C (or `LIFETIME_MS` in the environment) stops it cleanly: the
 * listener closes and every connection's tasklet is killed, which ends its
 * wait and runs its `finally`.
 *
 * @module
 */
import {
  current,
  listen,
  type NbSocket,
  spawn,
  type Tasklet,
} from "@syncless/syncless";
import { portArg, stopRequested } from "./_cli.ts";

const listener = listen({ hostname: "127.0.0.1", port: portArg(8001) });
const { port } = listener.addr;
console.log(`echo server listening on 127.0.0.1:${port}`);
console.log(`try: nc 127.0.0.1 ${port}`);

const connections = new Set<Tasklet>();

async function echo(socket: NbSocket): Promise<void> {
  const peer = socket.remoteAddr as Deno.NetAddr;
  console.log(`+ ${peer.hostname}:${peer.port}`);
  const file = socket.makefile();
  try {
    await file.write("Welcome to the echo server. Say something.\n");
    await file.flush();
    // Each line is a Uint8Array with its newline; send it straight back.
    for await (const line of file) {
      await file.write(line);
      await file.flush();
    }
  } finally {
    socket.close();
    connections.delete(current());
    console.log(`- ${peer.hostname}:${peer.port}`);
  }
}

const acceptor = spawn(async () => {
  for await (const socket of listener) {
    connections.add(spawn(
      {
        // A connection that fails (reset by the peer, ...) ends alone.
        onError: (error) => console.error("connection failed:", error),
      },
      echo,
      socket,
    ));
  }
});

console.log(`stopping (${await stopRequested()})`);
acceptor.kill();
listener.close();
for (const tasklet of connections) tasklet.kill();
