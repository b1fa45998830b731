// The relay's tests: the test Worker (worker.ts) in workerd through miniflare, a local upstream on 127.0.0.1 in
// DeepInfra's format, and a client that reads the relay's stream byte by byte and can drop it anywhere.
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { Readable } from "node:stream";
import { Miniflare } from "miniflare";
import { createSSEParser } from "../../src/sse/index.ts";
import { bundle, options } from "../store/durable-object/workerd.ts";
import { MODEL } from "../helpers/upstream.ts";

export const KEY = "di-canary-key-3b9f71c2e8a04d65";

export interface RelayWorker {
  mf: Miniflare;
  url: URL;
  dispose(): Promise<void>;
}

let code: Promise<string> | undefined;

export async function startRelayWorker(persist: string, upstream: string): Promise<RelayWorker> {
  code ??= bundle("test/relay/worker.ts");
  const mf = new Miniflare(options(await code, persist, { className: "TestGenerations", binding: "GENERATIONS", bindings: { UPSTREAM: upstream, API_KEY: KEY } }));
  const url = await mf.unsafeGetDirectURL();
  return { mf, url, dispose: () => mf.dispose() };
}

export const chatBody = (content = "Hi") => ({ model: MODEL, messages: [{ role: "user", content }], stream: true });

export interface Event {
  id: string;
  data: string;
}

/** Parse SSE text into its events (a partial last event is left out, as a client would not dispatch it). */
export function eventsOf(text: string): Event[] {
  const events: Event[] = [];
  const parser = createSSEParser({ onEvent: (e) => events.push({ id: e.id, data: e.data }) });
  parser.feed(text);
  return events;
}

/**
 * A request whose streamed answer is read as text. `until(n)` reads until at least n characters have arrived;
 * `drop()` closes the connection as a client that goes away does; `rest()` reads to the end. Each request has a
 * connection of its own (node:http, no keep-alive), so dropping it closes that socket and nothing else.
 */
export async function open(url: URL | string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const { method = "GET", headers = {}, body } = init;
  const req = httpRequest(url, { method, headers: { ...headers, connection: "close" }, agent: false });
  const res = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
    req.once("response", resolve).once("error", reject);
    req.end(body);
  });
  const out = new Headers();
  for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) out.set(name, Array.isArray(value) ? value.join(", ") : value);
  const stream = Readable.toWeb(res) as ReadableStream<Uint8Array>;
  const response = new Response(res.statusCode === 204 ? null : stream, { status: res.statusCode ?? 0, headers: out });
  return { response, ...reading(response, () => req.destroy()) };
}

function reading(response: Response, abort: () => void) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let ended = false;
  const more = async () => {
    const { value, done } = await reader.read();
    if (done) ended = true;
    else text += value;
  };
  return {
    get text() {
      return text;
    },
    get ended() {
      return ended;
    },
    async until(length: number): Promise<string> {
      while (text.length < length && !ended) await more();
      return text;
    },
    async untilIncludes(needle: string): Promise<string> {
      while (!text.includes(needle) && !ended) await more();
      return text;
    },
    async rest(): Promise<string> {
      while (!ended) await more();
      return text;
    },
    drop: () => {
      abort();
      reader.cancel().catch(() => undefined);
    },
  };
}
