/**
 * A broadcast chat for telnet/nc (Syncless's demo_chat): every line a user
 * types goes to everyone else. One tasklet reads each connection; a second
 * one per user writes to it from a buffered channel, so a slow reader never
 * holds up the others (lines for it are dropped while its queue is full).
 *
 *     deno run -A examples/chat.ts [port]    # default 8002, env PORT
 *     nc 127.0.0.1 8002                      # in two or more terminals
 *
 * @module
 */
import {
  Channel,
  current,
  listen,
  type NbSocket,
  spawn,
  type Tasklet,
} from "@syncless/syncless";
import { portArg, stopRequested } from "./_cli.ts";

interface Member {
  name: string;
  outbox: Channel<string>;
}

const members = new Set<Member>();
const sessions = new Set<Tasklet>();
const decoder = new TextDecoder();

/** Queues `text` for every member but `from`, without ever waiting. */
function broadcast(text: string, from?: Member): void {
  console.log(text.trimEnd());
  for (const member of members) {
    if (member !== from) member.outbox.trySend(text);
  }
}

async function session(socket: NbSocket): Promise<void> {
  const file = socket.makefile();
  let member: Member | undefined;
  let writer: Tasklet<void> | undefined;
  try {
    await file.write("Welcome to the chat. Your name? ");
    await file.flush();
    const answer = await file.readlineStripend(40);
    if (answer === null) return;
    const name = decoder.decode(answer).trim() || `guest${sessions.size}`;
    member = { name, outbox: new Channel<string>({ capacity: 100 }) };
    const { outbox } = member;
    // A failed write (the user hung up) needs no report: the read loop
    // below sees the same hang-up and ends the session.
    writer = spawn({ onError: () => {} }, async () => {
      for await (const text of outbox) {
        await file.write(text);
        await file.flush();
      }
    });
    await file.write(`Hello ${name}, ${members.size} others here.\n`);
    await file.flush();
    members.add(member);
    broadcast(`* ${name} joined\n`, member);
    for (;;) {
      const line = await file.readlineStripend();
      if (line === null) break; // the user hung up
      if (line.length > 0) {
        broadcast(`<${name}> ${decoder.decode(line)}\n`, member);
      }
    }
  } finally {
    if (member !== undefined) {
      members.delete(member);
      member.outbox.close();
      broadcast(`* ${member.name} left\n`);
    }
    writer?.kill();
    socket.close();
    sessions.delete(current());
  }
}

const listener = listen({ hostname: "127.0.0.1", port: portArg(8002) });
console.log(`chat listening on 127.0.0.1:${listener.addr.port}`);
console.log(`try: nc 127.0.0.1 ${listener.addr.port} (in two terminals)`);
const acceptor = spawn(async () => {
  for await (const socket of listener) {
    sessions.add(spawn({ onError: (e) => console.error(e) }, session, socket));
  }
});

console.log(`stopping (${await stopRequested()})`);
acceptor.kill();
listener.close();
for (const tasklet of sessions) tasklet.kill();
