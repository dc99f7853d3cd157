// Hello-world on Deno.serve: `deno run -A bench/http/hello_deno_serve.ts PORT`.
const port = Number(Deno.args[0] ?? 8000);
Deno.serve(
  { hostname: "127.0.0.1", port, onListen() {} },
  () =>
    new Response("Hello, World!", {
      headers: { "Content-Type": "text/plain" },
    }),
);
