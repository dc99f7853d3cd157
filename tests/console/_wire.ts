// A raw TCP client for remote console tests: collects everything the server
// sends and lets a test wait (with a deadline) until the text satisfies a
// condition.

export const MARKER = "\0\r\0\r\r";

/** Counts occurrences of `needle` in `text`. */
export function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

export class WireClient {
  text = "";
  /** Set once the server closed the connection. */
  eof = false;
  #conn: Deno.TcpConn;
  #reading: Promise<void>;
  #changed: (() => void)[] = [];
  #encoder = new TextEncoder();

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.#reading = this.#read();
  }

  static async connect(
    port: number,
    hostname = "127.0.0.1",
  ): Promise<WireClient> {
    return new WireClient(await Deno.connect({ hostname, port }));
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(65536);
    try {
      for (let n; (n = await this.#conn.read(buffer)) !== null;) {
        this.text += decoder.decode(buffer.subarray(0, n), { stream: true });
        this.#notify();
      }
    } catch {
      // reset by the server: same as EOF for these tests
    }
    this.eof = true;
    this.#notify();
  }

  #notify(): void {
    for (const wake of this.#changed.splice(0)) wake();
  }

  async send(text: string | Uint8Array): Promise<void> {
    const bytes = typeof text === "string" ? this.#encoder.encode(text) : text;
    for (let off = 0; off < bytes.length;) {
      off += await this.#conn.write(bytes.subarray(off));
    }
  }

  /** Half-closes: the server reads EOF. */
  async closeWrite(): Promise<void> {
    await this.#conn.closeWrite();
  }

  /** Resolves once `condition(text)` holds; throws after `ms` with the text so far. */
  async waitFor(
    condition: (text: string) => boolean,
    what: string,
    ms = 10_000,
  ): Promise<void> {
    const deadline = Date.now() + ms;
    while (!condition(this.text)) {
      if (this.eof) {
        throw new Error(`EOF before ${what}; got ${JSON.stringify(this.text)}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${what}; got ${JSON.stringify(this.text)}`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#changed.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Waits for the `n`-th prompt (counting from the connection's start). */
  waitForPrompts(n: number, ms?: number): Promise<void> {
    return this.waitFor((t) => count(t, MARKER) >= n, `${n} prompts`, ms);
  }

  /** Waits until the server closes the connection. */
  async waitForEof(ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.eof) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no EOF; got ${JSON.stringify(this.text)}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#changed.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** The output between the `n`-th prompt and the next one (or the end). */
  replyAfterPrompt(n: number): string {
    const parts = this.text.split(MARKER);
    const afterPrompt = parts[n] ?? "";
    return afterPrompt.slice(afterPrompt.indexOf("\0") + 1);
  }

  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    await this.#reading;
  }
}
