/**
 * Makes APIs that we did not write obey tasklets, and finds code that blocks
 * them all. Importing patches nothing: each function patches when called,
 * and each has its undo.
 *
 * ```ts
 * import { patchAll, unpatchAll } from "@syncless/syncless/patch";
 *
 * patchAll(); // fetch, Deno.connect/connectTls/resolveDns, node:net, node:dns
 * unpatchAll();
 * ```
 *
 * @module
 */
export * from "./fetch.ts";
export * from "./deno.ts";
export * from "./node_net.ts";
export * from "./node_dns.ts";
export * from "./all.ts";
export * from "./detect_blocking.ts";
export * from "./forbid_sync.ts";
