// A DeepInfra-shaped streaming endpoint on 127.0.0.1 for the client benchmark, run in a worker thread so the
// server's work does not share the client's event loop.
//
//   POST http://127.0.0.1:<port>/net16k/<events>/chat/completions: the stream written as 16 KiB writes, as a network
//   delivers a reply that is generated faster than it is read. <events>: content deltas in the reply
//   (replyPayloads(events)); the client knows the expected text.
//   POST .../tail/<events>/chat/completions: the same reply in one write, but the end of the body (the last chunk
//   of the chunked encoding) follows 5 ms after `data: [DONE]`, as when a proxy or the server flushes it separately.
//   A client that cancels the body at [DONE] instead of reading to its end loses the kept-alive connection.
//   GET /stats: { connections } accepted so far (to see whether a client reuses its connection).
//
// startServer() → { origin, close() }.
//
// startPacedServer() → { origin, close() }: in THIS thread, POST /paced/<events>/chat/completions writes one event
// per turn of the event loop (setImmediate between writes). A worker's writes coalesce (the client's body stream
// hands over whatever has arrived), so this is how a client sees one event per body chunk, as with a model that
// generates slower than the network: the client reads event i before the server writes event i + 1. The server's
// share of the work lands in the client's thread, the same for every client measured.
import { createServer } from "node:http";
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import { encodeEvents, eventChunks, fixedChunks, replyPayloads, sseEvents } from "./events.mjs";

export function startServer() {
  const worker = new Worker(new URL(import.meta.url));
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", (port) =>
      resolve({
        origin: `http://127.0.0.1:${port}`,
        close: async () => {
          worker.postMessage("close");
          await new Promise((done) => worker.once("exit", done));
        },
      }),
    );
  });
}

export function startPacedServer() {
  const cache = new Map();
  const server = createServer(async (req, res) => {
    const match = /^\/paced\/(\d+)\/chat\/completions$/.exec(req.url ?? "");
    for await (const _ of req);
    if (req.method !== "POST" || !match) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"not found"}}');
      return;
    }
    const events = Number(match[1]);
    let chunks = cache.get(events);
    if (!chunks) {
      const { bytes, bounds } = encodeEvents(sseEvents(replyPayloads(events, 1).payloads));
      chunks = eventChunks(bytes, bounds).map((c) => Buffer.from(c));
      cache.set(events, chunks);
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    for (const chunk of chunks) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
      await new Promise((resolve) => setImmediate(resolve));
    }
    res.end();
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        origin: `http://127.0.0.1:${server.address().port}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    ),
  );
}

if (!isMainThread) {
  const cache = new Map();
  const bodyFor = (events) => {
    let chunks = cache.get(events);
    if (!chunks) {
      const { bytes } = encodeEvents(sseEvents(replyPayloads(events, 1).payloads));
      chunks = fixedChunks(bytes, 16 * 1024).map((c) => Buffer.from(c));
      cache.set(events, chunks);
    }
    return chunks;
  };

  let connections = 0;
  const server = createServer(async (req, res) => {
    if (req.url === "/stats") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ connections }));
      return;
    }
    const match = /^\/(net16k|tail)\/(\d+)\/chat\/completions$/.exec(req.url ?? "");
    for await (const _ of req); // read the request body (the clients' JSON)
    if (req.method !== "POST" || !match) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"not found"}}');
      return;
    }
    const chunks = bodyFor(Number(match[2]));
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    for (const chunk of chunks) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
    }
    if (match[1] === "tail") setTimeout(() => res.end(), 5);
    else res.end();
  });
  server.on("connection", () => connections++);
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => parentPort.postMessage(server.address().port));
  parentPort.on("message", (message) => {
    if (message === "close") {
      server.closeAllConnections();
      server.close(() => process.exit(0));
    }
  });
}
