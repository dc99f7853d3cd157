// The app module of the workers test: every worker imports its own copy,
// so each answers with a different id.

import type { Environ, StartResponse } from "../../wsgi/mod.ts";

const id = crypto.randomUUID();

export default function app(environ: Environ, startResponse: StartResponse) {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return `${id} ${environ["wsgi.multiprocess"]}`;
}
