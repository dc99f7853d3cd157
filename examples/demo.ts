/**
 * The Syncless for Deno demo (`deno task demo`): one process, all tasklets.
 *
 * - http://127.0.0.1:8080/ (our `serve()`): a chat over WebSocket and a panel
 *   of live runtime figures pushed every second;
 * - `nc 127.0.0.1 8081` (or telnet): a line chat in the same room, bridged
 *   through channels;
 * - a remote console on 127.0.0.1:5454 into this very process (the token to
 *   type first is printed at start);
 * - Ctrl-C: a graceful shutdown, exit status 0.
 *
 * Ports: DEMO_HTTP_PORT, DEMO_CHAT_PORT, DEMO_CONSOLE_PORT (0 picks a free
 * one); DEMO_LIFETIME_MS stops it by itself after that long.
 *
 * Design: one "room" tasklet owns the members and is the only one that
 * changes them; everyone else talks to it through its `inbox` channel. Each
 * member has an `outbox` channel and a writer tasklet, so a slow client never
 * holds up the room.
 *
 * @module
 */
import {
  Channel,
  type Environ,
  listen,
  type NbSocket,
  serve,
  signal,
  sleep,
  spawn,
  startRemoteConsole,
  type StartResponse,
  Tasklet,
  upgradeWebSocket,
  type WebSocketConnection,
  withTimeout,
} from "@syncless/syncless";
import { DEMO_PAGE } from "./_demo_page.ts";

function portFromEnv(name: string, fallback: number): number {
  const text = Deno.env.get(name);
  const port = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `${name} must be a port number 0-65535, got "${text}"`,
    );
  }
  return port;
}

// ---------------------------------------------------------------- the room

/** What members receive. */
type Message =
  | { type: "chat"; from: string; via: "web" | "nc"; text: string }
  | { type: "system"; text: string }
  | ({ type: "stats" } & Stats);

interface Member {
  /** `""` until a web visitor sends their first line, which names them. */
  name: string;
  via: "web" | "nc";
  outbox: Channel<Message>;
}

type RoomEvent =
  | { kind: "join"; member: Member }
  | { kind: "name"; member: Member; name: string }
  | { kind: "leave"; member: Member }
  | { kind: "say"; member: Member; text: string }
  | { kind: "announce"; text: string }
  | { kind: "stats"; stats: Stats };

const inbox = new Channel<RoomEvent>({ capacity: 256 });
const members = new Set<Member>();
const recent: Message[] = []; // the last chat lines, replayed to newcomers

/** Queues `message` for every member (web members only for stats). */
function deliver(message: Message, except?: Member): void {
  if (message.type !== "stats") {
    recent.push(message);
    if (recent.length > 20) recent.shift();
  }
  for (const member of members) {
    if (member === except) continue;
    if (message.type === "stats" && member.via !== "web") continue;
    member.outbox.trySend(message); // full: that client is too slow, skip
  }
}

const room = spawn({ name: "room" }, async () => {
  for await (const event of inbox) {
    switch (event.kind) {
      case "join": // a web visitor sees the room at once, named or not
        for (const message of recent) event.member.outbox.trySend(message);
        members.add(event.member);
        if (event.member.name !== "") joined(event.member);
        break;
      case "name":
        event.member.name = event.name;
        joined(event.member);
        break;
      case "leave":
        if (members.delete(event.member)) {
          event.member.outbox.close();
          if (event.member.name !== "") {
            deliver({ type: "system", text: `${event.member.name} left` });
          }
        }
        break;
      case "say":
        deliver({
          type: "chat",
          from: event.member.name,
          via: event.member.via,
          text: event.text,
        });
        break;
      case "announce":
        deliver({ type: "system", text: event.text });
        break;
      case "stats":
        deliver({ type: "stats", ...event.stats });
    }
  }
});

function joined(member: Member): void {
  deliver({ type: "system", text: `${member.name} joined (${member.via})` });
}

/**
 * Joins the room until `lines` ends; `send` writes one message to the
 * client. Without a `name`, the first line is the name.
 */
async function participate(
  via: "web" | "nc",
  lines: AsyncIterable<string>,
  send: (message: Message) => Promise<void>,
  name = "",
): Promise<void> {
  const member: Member = { name, via, outbox: new Channel({ capacity: 100 }) };
  const writer = spawn({ name: `writer`, onError: () => {} }, async () => {
    for await (const message of member.outbox) await send(message);
  });
  await inbox.send({ kind: "join", member });
  // The room sets member.name later: this tasklet remembers it asked.
  let named = name !== "";
  try {
    for await (const line of lines) {
      const text = line.trim().slice(0, 500);
      if (text === "") continue;
      if (!named) {
        named = true;
        await inbox.send({ kind: "name", member, name: text.slice(0, 30) });
      } else await inbox.send({ kind: "say", member, text });
    }
  } finally {
    leave(member);
    writer.kill();
  }
}

/** Tells the room that `member` left, without waiting (a killed tasklet cannot). */
function leave(member: Member): void {
  const event: RoomEvent = { kind: "leave", member };
  if (inbox.closed || inbox.trySend(event)) return;
  // The inbox is full: a helper tasklet waits instead (and gives up quietly
  // if the room closes meanwhile).
  spawn({ onError: () => {} }, () => inbox.send(event));
}

// ------------------------------------------------------------ the figures

interface Stats {
  taskletsAlive: number;
  webClients: number;
  ncClients: number;
  consoleSessions: number;
  requestsPerSecond: number;
  requestsTotal: number;
  heapUsed: number;
  uptime: number;
}

const started = Date.now();
let requestsTotal = 0;
let requestsPerSecond = 0;
const webSockets = new Set<WebSocketConnection>();
const ncSessions = new Set<Tasklet>();

function stats(): Stats {
  return {
    taskletsAlive: Tasklet.aliveCount,
    webClients: webSockets.size,
    ncClients: ncSessions.size,
    consoleSessions: remoteConsole.sessionCount,
    requestsPerSecond,
    requestsTotal,
    heapUsed: Deno.memoryUsage().heapUsed,
    uptime: Math.round((Date.now() - started) / 1000),
  };
}

const statsPusher = spawn({ name: "stats" }, async () => {
  for (let last = 0;; last = requestsTotal) {
    await sleep(1000);
    requestsPerSecond = requestsTotal - last;
    await inbox.send({ kind: "stats", stats: stats() });
  }
});

// --------------------------------------------------------- the console

const token = crypto.randomUUID().slice(0, 8);
const remoteConsole = startRemoteConsole({
  hostname: "127.0.0.1",
  port: portFromEnv("DEMO_CONSOLE_PORT", 5454),
  token,
  scope: {
    members,
    stats,
    /** Posts `text` to the room as a notice. */
    announce: (text: string) =>
      inbox.trySend({ kind: "announce", text: String(text) }),
  },
  log: (line) => console.log(`demo: ${line}`),
});

// ------------------------------------------------------ the HTTP server

const chatPort = portFromEnv("DEMO_CHAT_PORT", 8081);
const chatListener = listen({ hostname: "127.0.0.1", port: chatPort });
const page = DEMO_PAGE.replaceAll("CHAT_PORT", String(chatListener.addr.port));

async function app(environ: Environ, startResponse: StartResponse) {
  requestsTotal++;
  switch (environ.PATH_INFO) {
    case "/":
      startResponse("200 OK", [["Content-Type", "text/html; charset=utf-8"]]);
      return page;
    case "/stats":
      startResponse("200 OK", [["Content-Type", "application/json"]]);
      return JSON.stringify(stats());
    case "/ws": {
      const ws = await upgradeWebSocket(environ);
      webSockets.add(ws);
      try {
        const texts = async function* () {
          for await (const m of ws) if (typeof m === "string") yield m;
        };
        await participate("web", texts(), (m) => ws.send(JSON.stringify(m)));
      } finally {
        webSockets.delete(ws);
        await ws.close();
      }
      return;
    }
    default:
      startResponse("404 Not Found", [["Content-Type", "text/plain"]]);
      return "not found\n";
  }
}

const server = serve(app, {
  hostname: "127.0.0.1",
  port: portFromEnv("DEMO_HTTP_PORT", 8080),
  onError: (error) => console.error("demo: app error:", error),
});

// ------------------------------------------------------ the nc/telnet chat

async function ncSession(socket: NbSocket): Promise<void> {
  const file = socket.makefile();
  const decoder = new TextDecoder();
  try {
    await file.write("Welcome to the Syncless demo chat. Your name? ");
    await file.flush();
    const answer = await file.readlineStripend(100);
    if (answer === null) return;
    const name = decoder.decode(answer).trim().slice(0, 30) || "anonymous";
    const lines = async function* () {
      for await (const line of file) yield decoder.decode(line);
    };
    await participate("nc", lines(), async (m) => {
      if (m.type === "chat") await file.write(`<${m.from}> ${m.text}\r\n`);
      else if (m.type === "system") await file.write(`* ${m.text}\r\n`);
      await file.flush();
    }, name);
  } finally {
    socket.close();
  }
}

const chatAcceptor = spawn({ name: "chat acceptor" }, async () => {
  for await (const socket of chatListener) {
    const session: Tasklet<void> = spawn(
      { name: "nc session", onError: (e) => console.error("demo: nc:", e) },
      async () => {
        try {
          await ncSession(socket);
        } finally {
          ncSessions.delete(session);
        }
      },
    );
    ncSessions.add(session);
  }
});

const http = `http://127.0.0.1:${server.addr.port}/`;
const consolePort = remoteConsole.addr.port;
console.log(`Syncless for Deno demo (pid ${Deno.pid})
  open      ${http}   chat + live runtime figures
  chat      nc 127.0.0.1 ${chatListener.addr.port}   (or telnet): the same room
  console   nc 127.0.0.1 ${consolePort}   then type the token ${token}
            or: SYNCLESS_CONSOLE_TOKEN=${token} deno run -A console/backdoor_client.ts ${consolePort}
            try: stats()   members.size   announce("hello from the console")
  stop      Ctrl-C (graceful shutdown)`);

// ------------------------------------------------------------ shutdown

const stop = new Channel<string>({ capacity: 1 });
signal("SIGINT", () => stop.trySend("SIGINT"));
signal("SIGTERM", () => stop.trySend("SIGTERM"));
const lifetime = Number(Deno.env.get("DEMO_LIFETIME_MS") ?? 0);
const timer = lifetime > 0
  ? spawn(() => sleep(lifetime).then(() => stop.trySend("lifetime")))
  : undefined;

const reason = await stop.receive();
console.log(`demo: stopping (${reason})...`);
signal("SIGINT", null); // a second Ctrl-C ends the process at once
signal("SIGTERM", null);
timer?.kill();
try {
  await withTimeout(5000, async () => {
    statsPusher.kill();
    chatAcceptor.kill();
    chatListener.close();
    for (const session of ncSessions) session.kill();
    await Promise.all(
      [...webSockets].map((ws) => ws.close(1001, "server shutting down")),
    );
    await remoteConsole.close();
    await server.shutdown();
    inbox.close();
    await room.join();
  });
  console.log("demo: stopped cleanly");
} catch (error) {
  console.error("demo: shutdown did not finish in 5 s:", error);
}
Deno.exit(0);
