import { SignalHandler } from "../coio/signal.ts";
import { spawn } from "../coio/spawn.ts";
import {
  closeInspectorOpenedBySignal,
  inspectorOpen,
} from "./_inspector_guard.ts";
import {
  type RemoteConsoleOptions,
  type RemoteConsoleServer,
  startRemoteConsole,
} from "./remote_console.ts";
import { remoteConsolePortFile } from "./remote_console_port_file.ts";

/** Options for {@linkcode enableRemoteConsoleOnSignal}. */
export interface RemoteConsoleOnSignalOptions
  extends Pick<RemoteConsoleOptions, "scope" | "token" | "log"> {
  /** The signal that starts the console. @default {"SIGUSR1"} */
  signal?: Deno.Signal;
}

/** A remote console that a signal starts: see {@linkcode enableRemoteConsoleOnSignal}. */
export interface RemoteConsoleOnSignal extends AsyncDisposable {
  /** The file the port is written to once the console runs. */
  readonly portFile: string;
  /** The running console, once the signal has arrived. */
  readonly server: RemoteConsoleServer | undefined;
  /** Stops listening for the signal, closes the console and removes the port file. */
  disable(): Promise<void>;
}

/**
 * Lets a running process open a remote console on demand (Syncless's
 * `SIGUSR1` backdoor): when the signal arrives the first time, a remote
 * console starts on a random loopback port, admitting only processes of the
 * same user, and the port is written to {@linkcode remoteConsolePortFile}
 * (created with mode 0600, so only that user can read it). Later signals
 * change nothing. `deno run -A console/backdoor_client.ts pid:<pid>` sends
 * the signal, waits for the file and connects. Listening for the signal does
 * not keep the process alive.
 *
 * Deno (2.9.2 and later) answers `SIGUSR1` by also opening its V8 inspector
 * on 127.0.0.1:9229, which runs code for any local user; unless an
 * inspector was already open when this was called, the console closes it as
 * soon as it appears (a few milliseconds). To leave no such window, pick
 * another `signal` (e.g. `"SIGUSR2"`, which Deno leaves alone).
 *
 * @example Enable, then disable
 * ```ts
 * import { enableRemoteConsoleOnSignal } from "@syncless/syncless/console";
 *
 * await using backdoor = enableRemoteConsoleOnSignal();
 * console.log(backdoor.server); // undefined until SIGUSR1 arrives
 * ```
 * @throws {TypeError} when the signal cannot be listened to (e.g. on Windows).
 */
export function enableRemoteConsoleOnSignal(
  options: RemoteConsoleOnSignalOptions = {},
): RemoteConsoleOnSignal {
  const { signal = "SIGUSR1", scope, token, log } = options;
  const portFile = remoteConsolePortFile(Deno.pid);
  let server: RemoteConsoleServer | undefined;
  let starting: Promise<void> | undefined;
  let disabled = false;

  const start = async () => {
    server = startRemoteConsole({
      hostname: "127.0.0.1",
      port: 0,
      sameUserOnly: true,
      scope,
      token,
      log,
    });
    await Deno.remove(portFile).catch(() => {});
    // createNew: never write through a file or link someone else put there.
    const file = await Deno.open(portFile, {
      write: true,
      createNew: true,
      mode: 0o600,
    });
    try {
      await Deno.chmod(portFile, 0o600); // exactly 0600, whatever the umask
      await file.write(new TextEncoder().encode(`${server.addr.port}\n`));
    } finally {
      file.close();
    }
    (log ?? console.error)(
      `remote console listening on 127.0.0.1:${server.addr.port} (port in ${portFile})`,
    );
  };

  // Deno answers SIGUSR1 by opening its V8 inspector too; close it again
  // unless it was open before (a deliberate --inspect).
  const inspectorWasOpen = signal === "SIGUSR1"
    ? inspectorOpen()
    : Promise.resolve(true);
  const handler = new SignalHandler(signal, async () => {
    if (disabled) return;
    if (!(await inspectorWasOpen) && !(await inspectorOpen())) {
      spawn({ name: "close signal-opened inspector" }, async () => {
        if (await closeInspectorOpenedBySignal()) {
          (log ?? console.error)(
            `closed the V8 inspector that ${signal} opened`,
          );
        }
      });
    }
    if (starting !== undefined) return;
    starting = start().catch(async (error) => {
      // Let a later signal try again.
      await server?.close();
      server = starting = undefined;
      throw error;
    });
    await starting;
  });

  return {
    portFile,
    get server() {
      return server;
    },
    async disable() {
      if (disabled) return;
      disabled = true;
      handler.delete();
      await starting?.catch(() => {});
      await server?.close();
      await Deno.remove(portFile).catch(() => {});
    },
    [Symbol.asyncDispose]() {
      return this.disable();
    },
  };
}
