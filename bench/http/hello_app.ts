// The WSGI hello-world app of the HTTP benchmarks (13 bytes).
import type { Environ, StartResponse } from "../../wsgi/mod.ts";

export default function app(_environ: Environ, startResponse: StartResponse) {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return "Hello, World!";
}
