// A real browser against our server: headless Chromium (Debian's package,
// driven by npm:playwright-core; nothing is downloaded) loads the echo demo
// page from examples/, sends messages through the form and a binary one from
// a script, and the rendered page is checked in the DOM and on a screenshot.

import assert from "node:assert/strict";
import { serve } from "../../wsgi/mod.ts";
import { echoApp } from "../../examples/websocket_echo.ts";

const CHROMIUM = "/usr/bin/chromium";

function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  assert.deepEqual([...png.subarray(0, 8)], signature, "a PNG signature");
  const view = new DataView(png.buffer, png.byteOffset);
  assert.equal(new TextDecoder().decode(png.subarray(12, 16)), "IHDR");
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

Deno.test("headless Chromium: the echo page over our WebSocket, with a screenshot", async () => {
  if (!hasChromium()) {
    console.log(`SKIP: ${CHROMIUM} not found (apt-get install chromium)`);
    return;
  }
  // Only the driver: the browser is Debian's, nothing is downloaded.
  // deno-lint-ignore no-import-prefix
  const { chromium } = await import("npm:playwright-core@1.56.1");
  const ended = Promise.withResolvers<void>();
  let open = 0;
  const server = serve(async (environ, startResponse) => {
    if (environ.PATH_INFO !== "/ws") return echoApp(environ, startResponse);
    open++;
    try {
      return await echoApp(environ, startResponse);
    } finally {
      if (--open === 0) ended.resolve();
    }
  }, { hostname: "127.0.0.1", port: 0 });
  const profile = await Deno.makeTempDir({ prefix: "syncless-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await context.newPage();
    await page.setViewportSize({ width: 800, height: 500 });
    await page.goto(`http://127.0.0.1:${server.addr.port}/`);
    // (Expressions as strings: they run in the page, not in Deno.)
    await page.waitForFunction(
      `document.getElementById("status").textContent === "connected"`,
    );

    // Through the form, as a person would.
    await page.fill("#text", "Hello from Chromium");
    await page.click("button");
    await page.fill("#text", "ünïcödé ✓ 🎉");
    await page.press("#text", "Enter");
    await page.waitForFunction(
      `document.querySelectorAll("#log li.echo").length === 2`,
    );
    const echoes = await page.$$eval(
      "#log li.echo",
      (items) => items.map((item) => item.textContent),
    );
    assert.deepEqual(echoes, [
      "echo: Hello from Chromium",
      "echo: ünïcödé ✓ 🎉",
    ]);

    // A second socket from a script: binary, a large text, the extension
    // Chromium negotiated (permessage-deflate) and a clean close.
    const result = await page.evaluate(async () => {
      const ws = new WebSocket(`ws://${location.host}/ws`);
      ws.binaryType = "arraybuffer";
      await new Promise((resolve) => ws.onopen = resolve);
      const next = () =>
        new Promise<MessageEvent>((resolve) => ws.onmessage = resolve);
      ws.send(new Uint8Array([1, 2, 3, 254, 255]));
      const binary = [...new Uint8Array((await next()).data)];
      const big = "abc".repeat(100_000);
      ws.send(big);
      const bigEcho = (await next()).data === big;
      const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
      ws.close(1000, "page done");
      const event = await closed;
      return {
        binary,
        bigEcho,
        extensions: ws.extensions,
        code: event.code,
        wasClean: event.wasClean,
      };
    });
    assert.deepEqual(result, {
      binary: [1, 2, 3, 254, 255],
      bigEcho: true,
      extensions: "permessage-deflate",
      code: 1000,
      wasClean: true,
    });

    const png = await page.screenshot({ fullPage: true });
    const bytes = new Uint8Array(png.buffer, png.byteOffset, png.length);
    const { width, height } = pngSize(bytes);
    assert.equal(width, 800);
    assert.ok(height >= 300, `height ${height}`);
    // A blank page compresses to a few hundred bytes; text and colours do not.
    assert.ok(bytes.length > 10_000, `PNG of ${bytes.length} bytes`);
    const shots = Deno.env.get("SYNCLESS_SCREENSHOT");
    if (shots) await Deno.writeFile(shots, bytes);
    assert.equal(
      await page.textContent("#status"),
      "connected",
    );
    await page.close();
  } finally {
    await context.close();
    await Deno.remove(profile, { recursive: true });
  }
  // Closing the page closed its socket: the app's loop ended.
  await ended.promise;
  await server.shutdown();
});
