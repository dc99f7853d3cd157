// The console's line history file: one line per entry, oldest first,
// readable only by its owner (typed lines may hold secrets).

/** Loads and saves the history of one console. */
export class History {
  #saving: Promise<void> = Promise.resolve();
  #latest: string[] | undefined;

  constructor(readonly path: string, readonly size: number) {}

  /** The saved lines, newest first (as `node:readline` wants them). */
  load(): string[] {
    let text: string;
    try {
      text = Deno.readTextFileSync(this.path);
    } catch {
      return [];
    }
    return text.split("\n").filter((line) => line !== "").reverse().slice(
      0,
      this.size,
    );
  }

  /** Saves `lines` (newest first) in the background; saves coalesce. */
  save(lines: string[]): void {
    const pending = this.#latest !== undefined;
    this.#latest = lines.slice(0, this.size);
    if (pending) return;
    this.#saving = this.#saving.then(() => this.#write());
  }

  /** Waits until the last saved lines are on disk. */
  async flush(): Promise<void> {
    await this.#saving;
  }

  async #write(): Promise<void> {
    const lines = this.#latest!;
    this.#latest = undefined;
    const text = lines.toReversed().join("\n") + "\n";
    try {
      await Deno.writeTextFile(this.path, text, { mode: 0o600 });
    } catch (error) {
      console.error(
        `console: cannot save history to ${this.path}: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
  }
}
