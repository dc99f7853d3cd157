/**
 * An echo server with a heartbeat (Syncless's demo_heartbeat): per
 * connection, three tasklets share one channel. The reader puts each line it
 * receives into the channel, a heartbeat tasklet puts a `heartbeat N` line
 * there every second, and the writer is the only one that writes to the
 * socket, so lines never interleave mid-way.
 *
 *     deno run -A examples/heartbeat.ts [port]   # default 8003, env PORT
 *     nc 127.0.0.1 8003                          # HEARTBEAT_MS=1000
 *
 * @module
 */
import {
  Channel,
  ChannelClosedError,
  current,
  listen,
  type NbSocket,
  sleep,
  spawn,
  type Tasklet,
} from "@syncless/syncless";
import { portArg, stopRequested } from "./_cli.ts";

const interval = Number(Deno.env.get("HEARTBEAT_MS") ?? 1000);
const sessions = new Set<Tasklet>();

async function session(socket: NbSocket): Promise<void> {
  const file = socket.makefile();
  const outgoing = new Channel<string | Uint8Array>();
  // The writer: the one tasklet that writes, in the order lines arrive. If
  // the peer stops taking bytes it fails; closing the channel then ends the
  // other two (their send() throws ChannelClosedError).
  const writer = spawn({ onError: () => outgoing.close() }, async () => {
    for await (const data of outgoing) {
      await file.write(data);
      await file.flush();
    }
  });
  const heart = spawn({ onError: () => {} }, async () => {
    for (let beat = 1;; beat++) {
      await sleep(interval);
      await outgoing.send(`heartbeat ${beat}\n`);
    }
  });
  try {
    // The reader is this tasklet: echo each line through the writer.
    for await (const line of file) await outgoing.send(line);
  } catch (error) {
    if (!(error instanceof ChannelClosedError)) throw error;
  } finally {
    heart.kill();
    writer.kill();
    socket.close();
    sessions.delete(current());
  }
}

const listener = listen({ hostname: "127.0.0.1", port: portArg(8003) });
console.log(
  `heartbeat echo server listening on 127.0.0.1:${listener.addr.port}`,
);
console.log(`try: nc 127.0.0.1 ${listener.addr.port}`);
const acceptor = spawn(async () => {
  for await (const socket of listener) {
    sessions.add(spawn({ onError: (e) => console.error(e) }, session, socket));
  }
});

console.log(`stopping (${await stopRequested()})`);
acceptor.kill();
listener.close();
for (const tasklet of sessions) tasklet.kill();
