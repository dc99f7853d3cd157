/**
 * The web page of examples/demo.ts: a chat over a WebSocket and a panel of
 * live runtime figures the server pushes every second. Plain HTML, CSS and
 * browser JavaScript, no build step.
 *
 * @module
 */

/** The page, served at `/`. */
export const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Syncless for Deno demo</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #222; }
  header { background: #1b5e20; color: #fff; padding: 12px 20px; }
  header h1 { margin: 0; font-size: 20px; }
  header p { margin: 4px 0 0; opacity: .85; }
  main { display: grid; grid-template-columns: 1fr 320px; gap: 16px; padding: 16px 20px; max-width: 1100px; }
  section { background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 3px #0002; }
  h2 { font-size: 16px; margin: 0 0 8px; }
  #log { height: 380px; overflow-y: auto; border: 1px solid #ddd; border-radius: 4px; padding: 6px 8px; background: #fafafa; }
  #log div { margin: 2px 0; white-space: pre-wrap; word-break: break-word; }
  .system { color: #777; font-style: italic; }
  .from { font-weight: bold; color: #1565c0; }
  .nc .from { color: #ef6c00; }
  form { display: flex; gap: 8px; margin-top: 8px; }
  input[type=text] { flex: 1; padding: 6px 8px; border: 1px solid #bbb; border-radius: 4px; font: inherit; }
  button { padding: 6px 12px; border: 0; border-radius: 4px; background: #1b5e20; color: #fff; font: inherit; cursor: pointer; }
  dl { display: grid; grid-template-columns: 1fr auto; margin: 0; row-gap: 4px; }
  dt { color: #555; } dd { margin: 0; font-variant-numeric: tabular-nums; font-weight: bold; text-align: right; }
  canvas { width: 100%; height: 80px; margin-top: 10px; background: #fafafa; border: 1px solid #ddd; border-radius: 4px; }
  code { background: #eee; padding: 1px 4px; border-radius: 3px; }
  .hint { font-size: 13px; color: #555; }
  #status { font-size: 13px; }
</style>
</head>
<body>
<header>
  <h1>Syncless for Deno</h1>
  <p>One process: HTTP server, WebSocket chat, a telnet/nc chat in the same room, and a remote console &mdash; all tasklets.</p>
</header>
<main>
  <section>
    <h2>Chat <span id="status">(connecting...)</span></h2>
    <div id="log"></div>
    <form id="send">
      <input id="text" type="text" autocomplete="off" placeholder="Say something (your first line is your name)" maxlength="500">
      <button>Send</button>
    </form>
    <p class="hint">Join from a terminal too: <code>nc 127.0.0.1 CHAT_PORT</code> &mdash; same room, bridged through channels.</p>
  </section>
  <section>
    <h2>Live runtime figures</h2>
    <dl>
      <dt>tasklets alive</dt><dd id="taskletsAlive">-</dd>
      <dt>WebSocket clients</dt><dd id="webClients">-</dd>
      <dt>nc/telnet clients</dt><dd id="ncClients">-</dd>
      <dt>console sessions</dt><dd id="consoleSessions">-</dd>
      <dt>requests/s</dt><dd id="requestsPerSecond">-</dd>
      <dt>requests in all</dt><dd id="requestsTotal">-</dd>
      <dt>heap used</dt><dd id="heap">-</dd>
      <dt>uptime</dt><dd id="uptime">-</dd>
    </dl>
    <canvas id="chart" width="300" height="80" title="requests/s, last 60 seconds"></canvas>
    <form id="load"><button>Send 500 requests</button></form>
    <p class="hint">The button fires 500 <code>fetch("/stats")</code> calls at once: watch requests/s and the tasklets.</p>
  </section>
</main>
<script type="module">
  const $ = (id) => document.getElementById(id);
  const log = $("log");
  function add(className, from, text) {
    const line = document.createElement("div");
    line.className = className;
    if (from) {
      const name = document.createElement("span");
      name.className = "from";
      name.textContent = from + ": ";
      line.append(name);
    }
    line.append(text);
    log.append(line);
    log.scrollTop = log.scrollHeight;
  }
  const history = [];
  function draw() {
    const canvas = $("chart"), g = canvas.getContext("2d");
    g.clearRect(0, 0, canvas.width, canvas.height);
    const max = Math.max(10, ...history);
    g.fillStyle = "#2e7d32";
    const w = canvas.width / 60;
    history.forEach((v, i) => {
      const h = (v / max) * (canvas.height - 4);
      g.fillRect(i * w, canvas.height - h, w - 1, h);
    });
  }
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  let named = false;
  ws.onopen = () => { $("status").textContent = "(connected: type your name first)"; };
  ws.onclose = () => { $("status").textContent = "(disconnected)"; };
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "chat") add(message.via === "nc" ? "nc" : "", message.from, message.text);
    else if (message.type === "system") add("system", "", message.text);
    else if (message.type === "stats") {
      for (const key of ["taskletsAlive", "webClients", "ncClients", "consoleSessions", "requestsPerSecond", "requestsTotal"]) {
        $(key).textContent = message[key].toLocaleString();
      }
      $("heap").textContent = (message.heapUsed / 1048576).toFixed(1) + " MiB";
      $("uptime").textContent = message.uptime + " s";
      history.push(message.requestsPerSecond);
      if (history.length > 60) history.shift();
      draw();
    }
  };
  $("send").onsubmit = (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    if (!text || ws.readyState !== WebSocket.OPEN) return;
    ws.send(text);
    if (!named) {
      named = true;
      $("status").textContent = "(connected as " + text + ")";
      $("text").placeholder = "Say something";
    }
    $("text").value = "";
  };
  $("load").onsubmit = async (event) => {
    event.preventDefault();
    await Promise.all(Array.from({ length: 500 }, () => fetch("/stats").then((r) => r.text())));
  };
</script>
</body>
</html>
`;
