/**
 * Consoles: the interactive console (`deno task console`), the remote
 * console server (Syncless's backdoor) that runs inside a process, and its
 * line-editing client. Importing this module starts nothing.
 *
 * ```ts
 * import { startRemoteConsole } from "@syncless/syncless/console";
 *
 * const server = startRemoteConsole({ port: 0 }); // nc 127.0.0.1 <port>
 * await server.close();
 * ```
 *
 * @module
 */
export * from "./console.ts";
export * from "./remote_console.ts";
export * from "./remote_console_on_signal.ts";
export * from "./remote_console_port_file.ts";
export * from "./backdoor_client.ts";
export * from "./spawn_safe.ts";
export * from "./ticker.ts";
// Types of coio that the console's signatures use, for readers of this entry point.
export type { SpawnOptions } from "../coio/spawn.ts";
export type { Tasklet } from "../coio/tasklet.ts";
