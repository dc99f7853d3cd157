import process from "node:process";
import * as readline from "node:readline";
import { History } from "./_history.ts";
import { remoteConsolePortFile } from "./remote_console_port_file.ts";

// The wire markers (see remote_console.ts); repeated here so that the client
// does not load the server and the whole API.
const GREETING = "\0\0\r";
const PROMPT_MARKER = "\0\r\0\r\r";

/** Options for {@linkcode runBackdoorClient}. */
export interface BackdoorClientOptions {
  /** The server's address. @default {"127.0.0.1"} */
  hostname?: string;
  /** The server's port. @default {5454} */
  port?: number;
  /** Sent when the server asks for a token. @default {$SYNCLESS_CONSOLE_TOKEN} */
  token?: string;
  /**
   * The file that keeps the line history (mode 0600); `null` keeps none.
   * @default {$SYNCLESS_BACKDOOR_HISTORY, else ~/.syncless_backdoor_history}
   */
  historyFile?: string | null;
}

function info(message: string): void {
  console.error(`info: ${message}`);
}

function defaultHistoryFile(): string | null {
  const fromEnv = Deno.env.get("SYNCLESS_BACKDOOR_HISTORY");
  if (fromEnv) return fromEnv;
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  return home ? `${home}/.syncless_backdoor_history` : null;
}

/**
 * Finds the port of the remote console of process `pid` (see
 * `enableRemoteConsoleOnSignal`): reads its port file, and if there is none,
 * sends the process `SIGUSR1` once and waits up to 3 seconds for the file.
 * The file must belong to the current user and be private to them.
 *
 * @example
 * ```ts ignore
 * import { findRemoteConsolePort } from "@syncless/syncless/console";
 *
 * const port = await findRemoteConsolePort(12345);
 * ```
 * @throws {Error} when the process does not exist, cannot be signalled, or
 * does not answer in time, or when the file is not private.
 */
export async function findRemoteConsolePort(pid: number): Promise<number> {
  const path = remoteConsolePortFile(pid);
  let signalled = false;
  for (let attempt = 0; attempt <= 30; attempt++) {
    let text: string | undefined;
    try {
      const stat = await Deno.stat(path);
      if (stat.uid !== Deno.uid() || ((stat.mode ?? 0) & 0o077) !== 0) {
        throw new Error(
          `${path} is not private to this user (owner ${stat.uid}, mode ${
            ((stat.mode ?? 0) & 0o777).toString(8)
          }); refusing to use it`,
        );
      }
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (text !== undefined && /^\d+\n$/.test(text)) {
      const port = Number(text.trim());
      if (port > 0 && port < 65536) return port;
    }
    if (!signalled) {
      signalled = true;
      try {
        Deno.kill(pid, "SIGUSR1");
      } catch (error) {
        throw new Error(
          `cannot signal process ${pid}: ${
            error instanceof Error ? error.message : String(error)
          }`,
          { cause: error },
        );
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `process ${pid} did not start a remote console (no port in ${path})`,
  );
}

/**
 * Connects to a remote console and runs the terminal side: with a Syncless
 * remote console (it sends `"\0\0\r"` first) lines are edited locally with
 * `node:readline`, with history; with any other server, bytes are copied
 * both ways as they are. Resolves to the exit status: 0 after a normal end
 * (`quit()`, Ctrl-D), 2 when it cannot connect, 3 when the server closed
 * the connection unexpectedly.
 *
 * `deno run -A console/backdoor_client.ts [host] [port]` or `... pid:<pid>`
 * runs it from the command line.
 *
 * @example
 * ```ts ignore
 * import { runBackdoorClient } from "@syncless/syncless/console";
 *
 * Deno.exit(await runBackdoorClient({ hostname: "127.0.0.1", port: 5454 }));
 * ```
 */
export async function runBackdoorClient(
  options: BackdoorClientOptions = {},
): Promise<number> {
  const {
    hostname = "127.0.0.1",
    port = 5454,
    token = Deno.env.get("SYNCLESS_CONSOLE_TOKEN") || undefined,
    historyFile = defaultHistoryFile(),
  } = options;
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname, port });
  } catch (error) {
    info(
      `cannot connect to backdoor: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
    return 2;
  }
  const reader = new ChunkReader(conn);
  try {
    let head = "";
    while (head.length < GREETING.length) {
      const chunk = await reader.next();
      if (chunk === undefined) break;
      head += chunk;
    }
    if (head.startsWith(GREETING)) {
      info("local line editing enabled for RemoteConsole");
      return await lineEditing(
        conn,
        reader,
        head.slice(GREETING.length),
        token,
        historyFile,
      );
    }
    return await passthrough(conn, reader, head);
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

/** Reads a connection as text chunks (UTF-8, split safely). */
class ChunkReader {
  #conn: Deno.Conn;
  #buffer = new Uint8Array(65536);
  #decoder = new TextDecoder();

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** The next chunk of text, or undefined at EOF (or on a reset). */
  async next(): Promise<string | undefined> {
    for (;;) {
      let n: number | null;
      try {
        n = await this.#conn.read(this.#buffer);
      } catch {
        n = null;
      }
      if (n === null) {
        const rest = this.#decoder.decode();
        return rest === "" ? undefined : rest;
      }
      const text = this.#decoder.decode(this.#buffer.subarray(0, n), {
        stream: true,
      });
      if (text !== "") return text;
    }
  }
}

async function lineEditing(
  conn: Deno.Conn,
  reader: ChunkReader,
  initial: string,
  token: string | undefined,
  historyFile: string | null,
): Promise<number> {
  const encoder = new TextEncoder();
  const terminal = Deno.stdin.isTerminal();
  const history = historyFile === null || !terminal
    ? undefined
    : new History(historyFile, 1000);
  const rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal,
    history: history?.load() ?? [],
    historySize: 1000,
    removeHistoryDuplicates: true,
  });
  if (history !== undefined) {
    rl.on("history", (lines: string[]) => history.save(lines));
  }
  let prompt = "";
  let quitting = false;
  let userEnded = false;
  let finish!: (status: number) => void;
  const finished = new Promise<number>((resolve) => finish = resolve);
  const send = (line: string) => {
    conn.write(encoder.encode(line + "\n")).catch(() => {});
  };

  rl.on("line", (line: string) => {
    if (/^\s*(quit|exit)\(\)\s*;?\s*$/.test(line)) quitting = true;
    send(line);
  });
  rl.on("close", () => {
    if (quitting) return;
    userEnded = true;
    process.stdout.write("\n");
    info("EOF from user, closing connection to RemoteConsole");
    finish(0);
  });
  rl.on("SIGINT", () => {
    const typed = rl.line.length > 0;
    (rl as unknown as { line: string }).line = "";
    if (!typed && prompt.startsWith("...")) {
      send(".break");
      process.stdout.write("\n");
      return;
    }
    process.stdout.write(
      typed ? "\n" : "\n(To exit, press Ctrl-D or type quit())\n",
    );
    rl.prompt();
  });

  // Splits the server's stream into output and prompts.
  const pump = async () => {
    let buffer = initial;
    for (;;) {
      for (;;) {
        const at = buffer.indexOf(PROMPT_MARKER);
        if (at < 0) {
          // Keep a tail that may be the start of a marker.
          let keep = 0;
          for (
            let k = Math.min(PROMPT_MARKER.length - 1, buffer.length);
            k > 0;
            k--
          ) {
            if (PROMPT_MARKER.startsWith(buffer.slice(-k))) {
              keep = k;
              break;
            }
          }
          process.stdout.write(buffer.slice(0, buffer.length - keep));
          buffer = buffer.slice(buffer.length - keep);
          break;
        }
        const end = buffer.indexOf("\0", at + PROMPT_MARKER.length);
        if (end < 0) {
          process.stdout.write(buffer.slice(0, at));
          buffer = buffer.slice(at);
          break;
        }
        process.stdout.write(buffer.slice(0, at));
        prompt = buffer.slice(at + PROMPT_MARKER.length, end);
        buffer = buffer.slice(end + 1);
        if (prompt === "token: " && token !== undefined) {
          send(token);
          token = undefined; // once: a second request means it was refused
          continue;
        }
        rl.setPrompt(prompt);
        rl.prompt(true);
      }
      const chunk = await reader.next();
      if (chunk === undefined) {
        process.stdout.write(buffer);
        if (userEnded) return;
        if (!quitting) info("connection closed by RemoteConsole");
        finish(quitting ? 0 : 3);
        return;
      }
      buffer += chunk;
    }
  };
  const pumping = pump();
  const status = await finished;
  rl.close();
  try {
    conn.close();
  } catch {
    // already closed
  }
  await pumping;
  await history?.flush();
  return status;
}

async function passthrough(
  conn: Deno.Conn,
  reader: ChunkReader,
  initial: string,
): Promise<number> {
  const encoder = new TextEncoder();
  await Deno.stdout.write(encoder.encode(initial));
  // stdin to the server, until either ends (a pending stdin read may stay).
  (async () => {
    const buffer = new Uint8Array(65536);
    for (;;) {
      const n = await Deno.stdin.read(buffer);
      if (n === null) break;
      await conn.write(buffer.subarray(0, n));
    }
    await conn.closeWrite();
  })().catch(() => {});
  for (let chunk; (chunk = await reader.next()) !== undefined;) {
    await Deno.stdout.write(encoder.encode(chunk));
  }
  return 0;
}

function usage(): never {
  console.error(
    "usage: deno run -A console/backdoor_client.ts [[<host>] <port>]\n" +
      "       deno run -A console/backdoor_client.ts pid:<pid>\n" +
      "  defaults: 127.0.0.1 5454; a token, if the server wants one, is read\n" +
      "  from $SYNCLESS_CONSOLE_TOKEN",
  );
  Deno.exit(1);
}

if (import.meta.main) {
  const args = Deno.args;
  if (args.length > 2 || args.some((a) => a === "--help" || a === "-h")) {
    usage();
  }
  let hostname = "127.0.0.1";
  let port = 5454;
  const pid = /^pid:(\d+)$/.exec(args[0] ?? "");
  if (pid !== null) {
    if (args.length !== 1) usage();
    try {
      port = await findRemoteConsolePort(Number(pid[1]));
    } catch (error) {
      console.error(
        `error: ${error instanceof Error ? error.message : String(error)}`,
      );
      Deno.exit(2);
    }
  } else if (args.length > 0) {
    const portText = args.at(-1)!;
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) usage();
    port = Number(portText);
    if (args.length === 2) hostname = args[0];
  }
  Deno.exit(await runBackdoorClient({ hostname, port }));
}
