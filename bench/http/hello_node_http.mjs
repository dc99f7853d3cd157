// Hello-world on node:http; runs under Node.js (`node`) or Deno (`deno run -A`).
import http from "node:http";
import process from "node:process";

const port = Number(process.argv.at(-1) ?? 8000);
http.createServer((_request, response) => {
  response.writeHead(200, { "Content-Type": "text/plain" });
  response.end("Hello, World!");
}).listen(port, "127.0.0.1");
