import * as api from "../mod.ts";
import { listen, type NbListener } from "../coio/nb_listener.ts";
import type { NbSocket } from "../coio/nb_socket.ts";
import type { NbFile } from "../coio/nb_file.ts";
import { spawn } from "../coio/spawn.ts";
import type { Tasklet } from "../coio/tasklet.ts";
import { withTimeout } from "../coio/with_timeout.ts";
import { SocketError, TimeoutError } from "../coio/errors.ts";
import { format } from "node:util";
import { ConsoleSession, makeHelp } from "./_session.ts";
import { peerUid } from "./_peer_uid.ts";
import {
  describeTaskletError,
  makeSafeSpawners,
  type TaskletErrorReporter,
} from "./_tasklet_errors.ts";
import { Ticker } from "./ticker.ts";

/** Sent first on every connection: marks a Syncless remote console. */
export const REMOTE_CONSOLE_GREETING = "\0\0\r";
/** Sent before every prompt; the prompt text follows, then a NUL. */
export const REMOTE_CONSOLE_PROMPT_MARKER = "\0\r\0\r\r";

/** Options for {@linkcode startRemoteConsole}. */
export interface RemoteConsoleOptions {
  /**
   * The address to bind. Anything but a loopback address (`127.0.0.0/8`,
   * `::1`, `localhost`) requires a `token`.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The TCP port; `0` picks a free one (see `addr`). @default {5454} */
  port?: number;
  /**
   * A shared secret: when set, the first line of every connection must be
   * this token, or the connection is refused (and the attempt logged).
   */
  token?: string;
  /** Extra names every session can use (shared objects, not copies). @default {{}} */
  scope?: Record<string, unknown>;
  /** The longest input line accepted, in bytes; a longer one ends the session. @default {1048576} */
  maxLineSize?: number;
  /**
   * Admit only connections from processes of the same user (Linux: looked
   * up in `/proc/net/tcp`; elsewhere every connection is refused).
   * @default {false}
   */
  sameUserOnly?: boolean;
  /** Milliseconds a client has to send the token. @default {30000} */
  tokenTimeout?: number;
  /** Receives log lines (connections, refusals). @default {console.error} */
  log?: (message: string) => void;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|\[::1\]|localhost)$/i;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const HELP_TEXT = `Syncless for Deno remote console

This session runs inside the server process: the whole public API is
preloaded (also as the namespace \`syncless\`), with the names the server
shares. Top-level await works and declarations persist in this session only.
console.log() here writes to this connection; tasklets this session spawns
report their errors here.

Examples:
  Deno.pid                        the server's process id
  await sleep(100)                the server's other tasklets go on
  ticker.start() / ticker.stop()  dots from a background tasklet
  spawn(() => { throw new Error("boom") })   printed here, server goes on
  quit()                          end the session (or exit(), or Ctrl-D)
`;

/** Constant-time comparison, so response times do not leak the token. */
function sameToken(given: string, expected: string): boolean {
  const a = encoder.encode(given);
  const b = encoder.encode(expected);
  let difference = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) difference |= (a[i] ?? 0) ^ b[i];
  return difference === 0;
}

function describeAddr(addr: Deno.Addr): string {
  return addr.transport === "tcp" || addr.transport === "udp"
    ? `${addr.hostname}:${addr.port}`
    : addr.transport;
}

/**
 * A running remote console server (Syncless's backdoor): see
 * {@linkcode startRemoteConsole}.
 */
export class RemoteConsoleServer implements AsyncDisposable {
  #listener: NbListener;
  #options: Required<Omit<RemoteConsoleOptions, "token">> & { token?: string };
  #sessions = new Set<Tasklet<void>>();
  #acceptor: Tasklet<void>;
  #closing: Promise<void> | undefined;
  #nextSession = 1;

  /** Use {@linkcode startRemoteConsole}. */
  constructor(
    listener: NbListener,
    options: Required<Omit<RemoteConsoleOptions, "token">> & {
      token?: string;
    },
  ) {
    this.#listener = listener;
    this.#options = options;
    this.#acceptor = spawn(
      { name: "remote console listener" },
      () => this.#acceptLoop(),
    );
  }

  /** The address the server listens on (`addr.port` is the real port). */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** How many sessions are open now. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /**
   * Stops listening and ends every open session (their connections close).
   * Tasklets the sessions spawned keep running.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#listener.close();
      this.#acceptor.kill();
      for (const session of this.#sessions) session.kill();
      await Promise.allSettled(
        [this.#acceptor, ...this.#sessions].map((t) => t.join()),
      );
    })();
    return this.#closing;
  }

  /** Closes the server (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let socket: NbSocket;
      try {
        socket = await this.#listener.accept();
      } catch (error) {
        if (this.#listener.closed || this.#closing !== undefined) return;
        this.#options.log(
          `remote console: accept failed: ${
            error instanceof Error ? error.message : String(error)
          }`,
        );
        continue;
      }
      const session: Tasklet<void> = spawn(
        {
          name: `remote console session ${this.#nextSession++}`,
          onError: (error) =>
            this.#options.log(`remote console: session failed: ${error}`),
        },
        async () => {
          try {
            await this.#serve(socket);
          } finally {
            socket.close();
            this.#sessions.delete(session);
          }
        },
      );
      this.#sessions.add(session);
    }
  }

  async #serve(socket: NbSocket): Promise<void> {
    const { log, maxLineSize, token, tokenTimeout } = this.#options;
    const peer = describeAddr(socket.remoteAddr);
    if (this.#options.sameUserOnly && !(await this.#sameUser(socket))) {
      log(`remote console: refused ${peer}: not the same user`);
      return;
    }
    // Prompts are small writes that wait for an answer: no Nagle delay.
    (socket.conn as Deno.TcpConn).setNoDelay?.(true);
    const file = socket.makefile({ writeBufferLimit: 0 });
    const connection = new Connection(file);
    try {
      await file.write(REMOTE_CONSOLE_GREETING);
      if (token !== undefined) {
        await file.write(`${REMOTE_CONSOLE_PROMPT_MARKER}token: \0`);
        let line: Uint8Array | undefined;
        try {
          line = await withTimeout(
            tokenTimeout,
            () => file.readline(maxLineSize + 2),
          );
        } catch (error) {
          if (!(error instanceof TimeoutError)) throw error;
        }
        const given = line === undefined
          ? undefined
          : decoder.decode(line).replace(/\r?\n$/, "");
        if (given === undefined || !sameToken(given, token)) {
          log(
            `remote console: refused ${peer}: ${
              given === undefined ? "no token in time" : "wrong token"
            }`,
          );
          await file.write("error: wrong token, closing\n");
          return;
        }
      }
      log(`remote console: session opened from ${peer}`);
      await this.#interact(socket, connection, file, maxLineSize);
      log(`remote console: session from ${peer} ended`);
    } finally {
      await connection.drain();
      await file.close().catch(() => {});
    }
  }

  async #interact(
    socket: NbSocket,
    connection: Connection,
    file: NbFile,
    maxLineSize: number,
  ): Promise<void> {
    let ended = false;
    const end = () => {
      ended = true;
    };
    const report: TaskletErrorReporter = (error, tasklet) => {
      if (connection.closed) {
        this.#options.log(
          describeTaskletError(
            error,
            tasklet,
            "server",
            (e) => Deno.inspect(e),
          ),
        );
        return;
      }
      connection.write(
        describeTaskletError(
          error,
          tasklet,
          "session",
          (e) => session.formatError(e).replace(/^Uncaught /, ""),
        ),
      );
      connection.repeatPrompt();
    };
    const { spawnSafe, wrapTasklet } = makeSafeSpawners(() => report);
    const ticker = new Ticker({ write: (text) => connection.write(text) });
    const sessionConsole = makeSessionConsole(connection);
    const builtins: Record<string, unknown> = {
      help: makeHelp(HELP_TEXT),
      quit: end,
      exit: end,
      ticker,
      console: sessionConsole,
      spawn: spawnSafe,
      spawnSafe,
      wrapTasklet,
      syncless: api,
    };
    const session = new ConsoleSession(
      [builtins, this.#options.scope, api],
      false,
      (error) => {
        connection.write(`\n${session.formatError(error)} (in promise)\n`);
        connection.repeatPrompt();
      },
    );
    connection.write(
      `Syncless for Deno remote console (Deno ${Deno.version.deno}, ` +
        `pid ${Deno.pid}).\nType "help" for examples; quit(), exit() or ` +
        `Ctrl-D ends the session.\n`,
    );
    try {
      while (!ended) {
        connection.prompt(session.prompt);
        await connection.drain();
        let line: Uint8Array;
        try {
          line = await file.readline(maxLineSize + 2);
        } catch (error) {
          if (error instanceof SocketError) return; // reset: same as EOF
          throw error;
        }
        connection.promptShown = false;
        if (line.length === 0) return; // EOF
        let end = line.length;
        if (line[end - 1] === 10) end--;
        if (end > 0 && line[end - 1] === 13) end--;
        if (end > maxLineSize) {
          connection.write(
            `error: line longer than ${maxLineSize} bytes, closing\n`,
          );
          this.#options.log(
            "remote console: closed a session: " +
              `line longer than ${maxLineSize} bytes`,
          );
          await connection.drain();
          await lingerClose(socket, file);
          return;
        }
        const bytes = line.subarray(0, end);
        if (isHangUp(bytes)) return;
        const source = session.push(decoder.decode(bytes));
        if (source === undefined) continue;
        const result = await session.run(source);
        if (!ended || result.failed) connection.write(result.text);
      }
    } finally {
      ticker.stop();
    }
  }

  async #sameUser(socket: NbSocket): Promise<boolean> {
    const remote = socket.remoteAddr as Deno.NetAddr;
    const local = socket.localAddr as Deno.NetAddr;
    const uid = await peerUid(remote, local);
    return uid !== undefined && uid === Deno.uid();
  }
}

/**
 * Half-closes, then reads and drops what the client is still sending for a
 * short while, so that closing with unread input (which resets the
 * connection) does not destroy the error line before the client reads it.
 */
async function lingerClose(socket: NbSocket, file: NbFile): Promise<void> {
  try {
    await socket.shutdown();
    await withTimeout(2000, async () => {
      for (let chunks = 0; chunks < 1024; chunks++) {
        if (await file.discard(1 << 16) > 0) return; // EOF
      }
    });
  } catch {
    // Timed out or reset: close now.
  }
}

/** Ctrl-D Enter, or telnet's Ctrl-C / Ctrl-\ (IAC IP / IAC BRK ... sequences). */
function isHangUp(bytes: Uint8Array): boolean {
  if (bytes.length === 1 && bytes[0] === 4) return true;
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] === 0xff && (bytes[i + 1] === 0xf4 || bytes[i + 1] === 0xf3)) {
      return true;
    }
  }
  return false;
}

/**
 * The write side of one session: writes go out in order, in the background
 * (so `console.log` in the session can stay synchronous), those of one turn
 * together; NULs in output are escaped so that they cannot pose as protocol
 * markers.
 */
class Connection {
  closed = false;
  /** A prompt was sent and no line has arrived since. */
  promptShown = false;
  #lastPrompt = "> ";
  #writing: Promise<void> = Promise.resolve();
  #pending = "";
  #scheduled = false;

  constructor(readonly file: NbFile) {}

  write(text: string): void {
    this.#send(text.replaceAll("\0", "\\0"));
  }

  prompt(prompt: string): void {
    this.#lastPrompt = prompt;
    this.promptShown = true;
    this.#send(
      `${REMOTE_CONSOLE_PROMPT_MARKER}${prompt.replaceAll("\0", "")}\0`,
    );
  }

  /** After output that arrived while the client waits at a prompt. */
  repeatPrompt(): void {
    if (this.promptShown) this.prompt(this.#lastPrompt);
  }

  /** Waits until everything written so far has been sent (or failed). */
  drain(): Promise<void> {
    return this.#writing;
  }

  #send(text: string): void {
    if (this.closed) return;
    this.#pending += text;
    if (this.#scheduled) return;
    this.#scheduled = true;
    // Runs a microtask later at the earliest: what is written meanwhile (a
    // result and the next prompt) goes out in one segment.
    this.#writing = this.#writing.then(() => {
      this.#scheduled = false;
      const text = this.#pending;
      this.#pending = "";
      return this.file.write(text);
    }).catch(() => {
      this.closed = true;
    });
  }
}

/** A `console` whose output goes to the session's connection. */
function makeSessionConsole(connection: Connection): Console {
  const write = (...args: unknown[]) =>
    connection.write(format(...args) + "\n");
  return Object.assign(Object.create(globalThis.console), {
    log: write,
    info: write,
    debug: write,
    warn: write,
    error: write,
    dir: (value: unknown) => connection.write(Deno.inspect(value) + "\n"),
  });
}

/**
 * Starts a remote console server (Syncless's backdoor): every TCP
 * connection gets its own console session running inside this process, with
 * the whole public API and `scope` preloaded, its own declarations, results
 * printed with `Deno.inspect` and errors with their stack traces. The wire
 * protocol is plain lines, with Syncless's markers: `"\0\0\r"` first, and each
 * prompt sent as `"\0\r\0\r\r" + prompt + "\0"`, so `nc`/`telnet` work and
 * `console/backdoor_client.ts` can offer line editing. `quit()`, `exit()`,
 * Ctrl-D (end of input, or a line holding only `\x04`) end a session.
 *
 * It runs arbitrary code for whoever connects: it binds loopback by default,
 * a non-loopback address needs a `token`, and lines over `maxLineSize` end
 * the session.
 *
 * @example Start, connect, close
 * ```ts
 * import { startRemoteConsole } from "@syncless/syncless/console";
 *
 * const server = startRemoteConsole({ port: 0, scope: { answer: 42 } });
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * await conn.write(new TextEncoder().encode("answer + 1\nquit()\n"));
 * const reply = new Uint8Array(4096);
 * let text = "";
 * for (let n; (n = await conn.read(reply)) !== null;) {
 *   text += new TextDecoder().decode(reply.subarray(0, n));
 * }
 * conn.close();
 * console.log(text.includes("43")); // true
 * await server.close();
 * ```
 * @throws {TypeError} when binding a non-loopback address without a token,
 * or on a bad option.
 * @throws {SocketError} when the address cannot be bound (`EADDRINUSE`...).
 */
export function startRemoteConsole(
  options: RemoteConsoleOptions = {},
): RemoteConsoleServer {
  const {
    hostname = "127.0.0.1",
    port = 5454,
    token,
    scope = {},
    maxLineSize = 1 << 20,
    sameUserOnly = false,
    tokenTimeout = 30_000,
    log = (message: string) => console.error(message),
  } = options;
  if (typeof hostname !== "string" || hostname === "") {
    throw new TypeError(
      "startRemoteConsole: hostname must be a non-empty string",
    );
  }
  if (token !== undefined && (typeof token !== "string" || token === "")) {
    throw new TypeError("startRemoteConsole: token must be a non-empty string");
  }
  if (token === undefined && !LOOPBACK.test(hostname)) {
    throw new TypeError(
      `startRemoteConsole: binding ${hostname}, which is not a loopback ` +
        "address, needs a token (anyone who connects can run code)",
    );
  }
  if (!Number.isInteger(maxLineSize) || maxLineSize < 1) {
    throw new RangeError(
      `startRemoteConsole: maxLineSize must be an integer >= 1, got ${maxLineSize}`,
    );
  }
  if (typeof tokenTimeout !== "number" || !(tokenTimeout > 0)) {
    throw new RangeError(
      `startRemoteConsole: tokenTimeout must be a number > 0, got ${tokenTimeout}`,
    );
  }
  if (scope === null || typeof scope !== "object") {
    throw new TypeError("startRemoteConsole: scope must be an object");
  }
  const listener = listen({
    hostname: hostname.replace(/^\[|\]$/g, ""),
    port,
  });
  return new RemoteConsoleServer(listener, {
    hostname,
    port,
    token,
    scope,
    maxLineSize,
    sameUserOnly,
    tokenTimeout,
    log,
  });
}

function usage(): never {
  console.error(
    "usage: deno run -A console/remote_console.ts [[<bind-address>] <port>]\n" +
      "  defaults: 127.0.0.1 5454; a non-loopback address needs a token in\n" +
      "  $SYNCLESS_CONSOLE_TOKEN (the client's first line must be it)",
  );
  Deno.exit(1);
}

if (import.meta.main) {
  const args = Deno.args;
  if (args.length > 2 || args.some((a) => a === "--help" || a === "-h")) {
    usage();
  }
  const portText = args.at(-1) ?? "5454";
  const hostname = args.length === 2 ? args[0] : "127.0.0.1";
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) usage();
  let server: RemoteConsoleServer;
  try {
    server = startRemoteConsole({
      hostname,
      port: Number(portText),
      token: Deno.env.get("SYNCLESS_CONSOLE_TOKEN") || undefined,
    });
  } catch (error) {
    console.error(
      `error: ${error instanceof Error ? error.message : String(error)}`,
    );
    Deno.exit(1);
  }
  const { hostname: host, port } = server.addr;
  console.error(
    `remote console listening on ${host}:${port}; connect with\n` +
      `  deno run -A ${
        new URL("./backdoor_client.ts", import.meta.url).pathname
      } ${host} ${port}\n  nc ${host} ${port}`,
  );
}
