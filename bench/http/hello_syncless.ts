// Hello-world on our engine: `deno run -A bench/http/hello_syncless.ts PORT [WORKERS]`.
import { serve } from "../../wsgi/mod.ts";

const port = Number(Deno.args[0] ?? 8000);
const workers = Number(Deno.args[1] ?? 1);
const options = { hostname: "127.0.0.1", port, keepAliveTimeout: 120_000 };
if (workers > 1) {
  serve(new URL("./hello_app.ts", import.meta.url), { ...options, workers });
} else {
  const { default: app } = await import("./hello_app.ts");
  serve(app, options);
}
