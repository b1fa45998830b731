// A generation relay on 127.0.0.1 that speaks edgechat's resume protocol over real HTTP, in front of a DeepInfra-style
// upstream (helpers/upstream.ts), with faults to order. In memory and deliberately simple: the real relay (a Durable
// Object) is tested in workerd; this one is what the SDK's own tests talk to.
//
//   POST <base>/chat/completions        → 200 text/event-stream, `Edgechat-Resume: /generations/<id>` (relative),
//                                          every event `id: n` (1, 2, 3…), the upstream's data unchanged, [DONE] last
//   GET /generations/<id>, Last-Event-ID → the events after it, then the live tail; 404 generation_not_found when
//                                          unknown, expired or another client's
//   DELETE /generations/<id>             → 204; the upstream request is aborted and every reader gets a final chunk
//                                          with finish_reason "cancelled", then [DONE]
//
// A reader leaving only detaches: the generation goes on reading the upstream to its end.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What to do to one reader's connection (the POST's, or a resume's), in the order the connections come. */
export interface Fault {
  /** Close the socket once this connection has written this many events (0: before any). */
  dropAfter?: number;
  /** With `dropAfter`: first write this many bytes of the next event (cut in the middle of it). */
  partial?: number;
  /** With `dropAfter`: stop writing but keep the connection open (a half-dead connection: a phone asleep). */
  stall?: boolean;
  /** With `dropAfter`: forget the generation once the connection is cut (it expired meanwhile). */
  expire?: boolean;
  /** Answer a resume with this status instead (e.g. 503), a JSON error body. */
  status?: number;
}

export interface Generation {
  id: string;
  /** The `data:` payloads, in order: event n is `events[n - 1]`. */
  events: string[];
  done: boolean;
  cancelled: boolean;
  /** The client it belongs to: its Authorization header. */
  owner: string;
  /** The content of the request's last message, to tell generations apart. */
  label: string;
  /** Reader connections so far: 1 is the POST's. */
  connections: number;
  /** Resolves when the upstream request is over (ended, or aborted by a cancel). */
  upstreamClosed: Promise<void>;
}

export interface RelayRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
}

export interface Relay {
  /** The client's baseURL: the relay in place of DeepInfra's `.../v1/openai`. */
  baseURL: string;
  origin: string;
  /** Every request the relay got, in order. */
  requests: RelayRequest[];
  generations: Map<string, Generation>;
  /** What to do to reader connection `connection` (1: the POST's, 2…: resumes) of a generation. */
  fault: (generation: Generation, connection: number) => Fault | undefined;
  /** Answer without the `Edgechat-Resume` header (ids still on every event): an ordinary server, to the SDK. */
  advertise: boolean;
  /** Forget a generation, as an expiry does: resuming it is a 404. */
  expire(id: string): void;
  /** The generation a URL (absolute or not) names. */
  generation(url: string): Generation | undefined;
  /** The text the events up to `lastEventId` carry (choice 0's content deltas). */
  textUpTo(generation: Generation, lastEventId: string): string;
  /** Resolves once the generation has its final event. */
  finished(generation: Generation): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

const notFound = {
  error: { message: "No such generation: it expired, or it was never yours", type: "invalid_request_error", code: "generation_not_found" },
};

export async function startRelay(upstreamBaseURL: string): Promise<Relay> {
  const generations = new Map<string, Generation>();
  const wake = new Map<string, Set<() => void>>();
  const requests: RelayRequest[] = [];
  let next = 1;

  const notify = (g: Generation) => {
    for (const resolve of wake.get(g.id) ?? []) resolve();
    wake.get(g.id)?.clear();
  };
  const changed = (g: Generation) =>
    new Promise<void>((resolve) => {
      if (!wake.has(g.id)) wake.set(g.id, new Set());
      wake.get(g.id)!.add(resolve);
    });

  function finish(g: Generation, reason?: string) {
    if (g.done) return;
    if (reason) {
      g.cancelled = true;
      const first = g.events.length > 0 ? JSON.parse(g.events[0]!) : {};
      g.events.push(
        JSON.stringify({
          id: first.id ?? "chatcmpl-relay",
          object: "chat.completion.chunk",
          created: first.created ?? 0,
          model: first.model ?? "relay",
          choices: [{ index: 0, delta: {}, finish_reason: "cancelled" }],
          edgechat_reason: reason,
        }),
      );
    }
    if (g.events.at(-1) !== "[DONE]") g.events.push("[DONE]");
    g.done = true;
    notify(g);
  }

  /** Read the upstream's SSE into the generation, whoever reads it. */
  async function pump(g: Generation, response: Response, abort: AbortController, closed: () => void) {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      const reader = response.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split("\n")
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
            .join("\n");
          if (data === "" || g.done) continue;
          g.events.push(data);
          if (data === "[DONE]") g.done = true;
          notify(g);
        }
      }
      finish(g);
    } catch {
      // Aborted by a cancel (already finished), or the upstream dropped: end it as the relay does.
      if (!abort.signal.aborted) finish(g, "upstream_dropped");
    } finally {
      closed();
    }
  }

  /** Write the events after `from` to one reader, then the live tail; faults applied. */
  async function serve(g: Generation, from: number, res: ServerResponse, fault: Fault | undefined, advertise: boolean, req: IncomingMessage) {
    const headers: Record<string, string> = { "content-type": "text/event-stream", "cache-control": "no-cache" };
    if (advertise) headers["edgechat-resume"] = `/generations/${g.id}`;
    res.writeHead(200, headers);
    res.flushHeaders();
    let gone = false;
    const closed = new Promise<void>((resolve) => res.once("close", resolve));
    req.on("close", () => (gone = true));
    res.on("close", () => (gone = true));
    let at = from;
    let written = 0;
    const event = (n: number) => `id: ${n}\ndata: ${g.events[n - 1]}\n\n`;
    // Cut here: the bytes so far (and, with `partial`, the start of the next event) flushed, then the socket
    // destroyed: no clean end of the body.
    const cut = async () => {
      if (fault!.stall) return;
      if (fault!.partial) {
        while (!g.done && at >= g.events.length) await changed(g);
        if (at < g.events.length) res.write(event(at + 1).slice(0, fault!.partial));
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
      res.socket?.destroy();
      if (fault!.expire) generations.delete(g.id);
    };
    if (fault?.dropAfter === 0) return cut();
    for (;;) {
      const wait = changed(g);
      while (!gone && at < g.events.length) {
        at++;
        res.write(event(at));
        if (++written === fault?.dropAfter) return cut();
      }
      if (gone) return;
      if (g.done && at >= g.events.length) return void res.end();
      await Promise.race([wait, closed]);
    }
  }

  const server: Server = createServer(async (req, res) => {
    requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers });
    const body = await new Promise<string>((resolve) => {
      let text = "";
      req.setEncoding("utf8");
      req.on("data", (c) => (text += c));
      req.on("end", () => resolve(text));
    });
    const owner = String(req.headers.authorization ?? "");
    const path = req.url ?? "";
    try {
      if (req.method === "POST" && path.endsWith("/chat/completions")) {
        const abort = new AbortController();
        const upstream = await fetch(`${upstreamBaseURL}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Bearer upstream-key" },
          body,
          signal: abort.signal,
        });
        if (!upstream.ok || !upstream.headers.get("content-type")?.includes("text/event-stream")) {
          res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" });
          return void res.end(await upstream.text());
        }
        let closed!: () => void;
        const g: Generation = {
          id: `g${next++}-${crypto.randomUUID()}`,
          events: [],
          done: false,
          cancelled: false,
          owner,
          label: String(JSON.parse(body).messages?.at(-1)?.content ?? ""),
          connections: 1,
          upstreamClosed: new Promise<void>((resolve) => (closed = resolve)),
        };
        generations.set(g.id, g);
        cancels.set(g.id, () => abort.abort());
        void pump(g, upstream, abort, closed);
        return await serve(g, 0, res, relay.fault(g, 1), relay.advertise, req);
      }
      const match = /^\/generations\/([^/?]+)$/.exec(path);
      const g = match ? generations.get(match[1]!) : undefined;
      if (!g || g.owner !== owner) {
        res.writeHead(404, { "content-type": "application/json" });
        return void res.end(JSON.stringify(notFound));
      }
      if (req.method === "DELETE") {
        cancels.get(g.id)?.();
        finish(g, "cancelled");
        return void res.writeHead(204).end();
      }
      if (req.method === "GET") {
        const fault = relay.fault(g, ++g.connections);
        if (fault?.status) {
          res.writeHead(fault.status, { "content-type": "application/json" });
          return void res.end(JSON.stringify({ error: { message: "unavailable", type: "server_error" } }));
        }
        const last = Number(req.headers["last-event-id"] ?? 0);
        return await serve(g, Number.isInteger(last) && last > 0 ? last : 0, res, fault, relay.advertise, req);
      }
      res.writeHead(405).end();
    } catch (error) {
      if (!res.headersSent) res.writeHead(500).end(String(error));
      else res.destroy();
    }
  });
  const cancels = new Map<string, () => void>();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  const relay: Relay = {
    baseURL: `${origin}/v1/openai`,
    origin,
    requests,
    generations,
    fault: () => undefined,
    advertise: true,
    expire: (id) => void generations.delete(id),
    generation: (url) => generations.get(url.split("/").pop()!),
    textUpTo(g, lastEventId) {
      let text = "";
      for (const data of g.events.slice(0, Number(lastEventId || 0))) {
        if (data !== "[DONE]") text += JSON.parse(data).choices?.[0]?.delta?.content ?? "";
      }
      return text;
    },
    async finished(g) {
      while (!g.done) await changed(g);
    },
    reset() {
      requests.length = 0;
      relay.fault = () => undefined;
      relay.advertise = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const cancel of cancels.values()) cancel();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return relay;
}
