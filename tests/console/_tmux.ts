// Drives a program under a pseudo-terminal with tmux, as a person would:
// type keys, read the screen, wait (with a deadline) for text to appear.
// Every session gets its own tmux server, on a socket in its own temporary
// directory (-S), so tests never share one and nothing is left behind.

/** The repository root (where `deno task console` runs). */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** Whether tmux is installed; tests print a SKIP line and return when not. */
export async function haveTmux(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("tmux", {
      args: ["-V"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

async function tmux(socket: string, ...args: string[]): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command("tmux", {
    args: ["-S", socket, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(
      `tmux ${args.join(" ")} failed: ${new TextDecoder().decode(stderr)}`,
    );
  }
  return new TextDecoder().decode(stdout);
}

/** Quotes `word` for the shell tmux runs the command with. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export class TmuxSession {
  readonly socket: string;
  #dir: string;
  #serverPid: number;
  #alive = true;

  private constructor(dir: string, socket: string, serverPid: number) {
    this.#dir = dir;
    this.socket = socket;
    this.#serverPid = serverPid;
  }

  /**
   * Starts `command` (argv) in a detached 120x50 terminal, in `cwd`, with
   * `env` added. When the command ends, the pane prints `[exited <status>]`
   * and stays until {@linkcode kill}.
   */
  static async start(
    command: string[],
    options: { env?: Record<string, string>; cwd?: string } = {},
  ): Promise<TmuxSession> {
    const dir = await Deno.makeTempDir({ prefix: "syncless-tmux-" });
    const socket = `${dir}/socket`;
    const env = { NO_COLOR: "1", TERM: "xterm-256color", ...options.env };
    const shell = `cd ${shellQuote(options.cwd ?? ROOT)} && ${
      command.map(shellQuote).join(" ")
    }; echo "[exited $?]"; sleep 600`;
    const args = ["new-session", "-d", "-s", "t", "-x", "120", "-y", "50"];
    for (const [name, value] of Object.entries(env)) {
      args.push("-e", `${name}=${value}`);
    }
    args.push(shell);
    try {
      await tmux(socket, ...args);
      const pid = Number(
        (await tmux(socket, "display-message", "-p", "#{pid}")).trim(),
      );
      return new TmuxSession(dir, socket, pid);
    } catch (error) {
      await tmux(socket, "kill-server").catch(() => {});
      await Deno.remove(dir, { recursive: true });
      throw error;
    }
  }

  /** Presses keys, tmux-style names allowed (`Enter`, `Up`, `C-d`, `C-c`). */
  async keys(...keys: string[]): Promise<void> {
    await tmux(this.socket, "send-keys", "-t", "t", ...keys);
  }

  /** Types `text` literally, then presses Enter. */
  async line(text: string): Promise<void> {
    if (text !== "") {
      await tmux(this.socket, "send-keys", "-t", "t", "-l", text);
    }
    await this.keys("Enter");
  }

  /** The screen and its scrollback, wrapped lines joined, trailing blanks cut. */
  async screen(): Promise<string> {
    const text = await tmux(
      this.socket,
      "capture-pane",
      "-p",
      "-J",
      "-t",
      "t",
      "-S",
      "-2000",
    );
    return text.replace(/\s+$/, "");
  }

  /**
   * Polls the screen until `condition` holds on it; returns that screen.
   * Throws with the screen after `ms`.
   */
  async waitFor(
    condition: (screen: string) => boolean,
    what: string,
    ms = 20_000,
  ): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const screen = await this.screen();
      if (condition(screen)) return screen;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; screen:\n${screen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits until the screen's last line is exactly `text` (e.g. a prompt). */
  waitForLastLine(text: string, ms?: number): Promise<string> {
    return this.waitFor(
      (screen) => screen.split("\n").at(-1) === text.trimEnd(),
      `last line ${JSON.stringify(text)}`,
      ms,
    );
  }

  /** Ends the session and everything running in it. */
  async kill(): Promise<void> {
    if (!this.#alive) return;
    this.#alive = false;
    await tmux(this.socket, "kill-server").catch(() => {});
    // Make sure: the server is the process with our socket on its command line.
    try {
      const cmdline = await Deno.readTextFile(
        `/proc/${this.#serverPid}/cmdline`,
      );
      if (cmdline.includes(this.socket)) Deno.kill(this.#serverPid, "SIGKILL");
    } catch {
      // gone already (or no /proc)
    }
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

/** The output lines between the line ending in `input` (after a prompt) and the next prompt. */
export function replyTo(screen: string, input: string): string[] {
  const lines = screen.split("\n");
  const at = lines.findLastIndex((line) => line === `> ${input}`);
  if (at < 0) return [];
  const reply: string[] = [];
  for (const line of lines.slice(at + 1)) {
    if (line.startsWith("> ") || line === ">" || line.startsWith("... ")) break;
    reply.push(line);
  }
  return reply;
}
