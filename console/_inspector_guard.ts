// Deno (since 2.9.2) also starts its V8 inspector on 127.0.0.1:9229 when a
// process gets SIGUSR1, as Node does. An inspector runs any code for any
// local user, which would defeat the same-user check of the signal-started
// remote console, so the console closes an inspector that the signal opened.

import { sleep } from "../coio/sleep.ts";

type Inspector = { url(): string | undefined; close(): void };

let inspectorModule: Promise<Inspector> | undefined;

function loadInspector(): Promise<Inspector> {
  inspectorModule ??= import("node:inspector").then((m) =>
    (m.default ?? m) as unknown as Inspector
  );
  return inspectorModule;
}

/** Whether the V8 inspector is open now. */
export async function inspectorOpen(): Promise<boolean> {
  try {
    return (await loadInspector()).url() !== undefined;
  } catch {
    return false;
  }
}

/**
 * Waits up to `ms` for an inspector to open (the runtime starts it shortly
 * after the signal), then closes it. Resolves to whether it closed one.
 */
export async function closeInspectorOpenedBySignal(
  ms = 2000,
): Promise<boolean> {
  let inspector: Inspector;
  try {
    inspector = await loadInspector();
  } catch {
    return false;
  }
  for (let waited = 0; waited <= ms; waited += 5) {
    if (inspector.url() !== undefined) {
      inspector.close();
      return true;
    }
    await sleep(5);
  }
  return false;
}
