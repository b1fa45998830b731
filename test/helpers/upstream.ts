// A real HTTP server on 127.0.0.1 that speaks DeepInfra's Chat Completions wire format, scripted per test.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: any;
  /** Resolves when the client closes the connection (abort, cancel) or the response ends. */
  closed: Promise<void>;
  /** Which TCP connection carried it (1, 2, …): equal numbers mean a reused connection. */
  connection: number;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface Upstream {
  /** Base URL, like DeepInfra's `https://api.deepinfra.com/v1/openai`. */
  baseURL: string;
  origin: string;
  requests: RecordedRequest[];
  /** Handlers are used in order, one per request; the last one repeats. */
  handle(...handlers: Handler[]): void;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  let handlers: Handler[] = [];
  const requests: RecordedRequest[] = [];
  const connections = new WeakMap<object, number>();
  let nextConnection = 1;
  const server: Server = createServer(async (req, res) => {
    let connection = connections.get(req.socket);
    if (connection === undefined) connections.set(req.socket, (connection = nextConnection++));
    const raw = await new Promise<string>((resolve) => {
      let text = "";
      req.setEncoding("utf8");
      req.on("data", (c) => (text += c));
      req.on("end", () => resolve(text));
    });
    let body: unknown = raw;
    try {
      body = JSON.parse(raw);
    } catch {}
    const closed = new Promise<void>((resolve) => res.on("close", () => resolve()));
    const recorded: RecordedRequest = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body, closed, connection };
    requests.push(recorded);
    const handler = handlers[Math.min(requests.length - 1, handlers.length - 1)];
    if (!handler) {
      res.writeHead(500).end("no handler");
      return;
    }
    try {
      await handler(recorded, res);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500).end(String(error));
      else res.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    baseURL: `${origin}/v1/openai`,
    origin,
    requests,
    handle(...next) {
      handlers = next;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// --- DeepInfra's wire format ---

export const MODEL = "meta-llama/Llama-3.2-90B-Vision-Instruct";

export function usage(prompt: number, completion: number, cost = (prompt * 0.35 + completion * 0.4) / 1e6) {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, estimated_cost: cost };
}

export function chunk(delta: Record<string, unknown>, extra: { finish_reason?: string | null; usage?: unknown; index?: number } = {}) {
  const out: Record<string, unknown> = {
    id: "chatcmpl-4f1c2d",
    object: "chat.completion.chunk",
    created: 1764028800,
    model: MODEL,
    choices: [{ index: extra.index ?? 0, delta, finish_reason: extra.finish_reason ?? null, logprobs: null }],
  };
  if (extra.usage !== undefined) out.usage = extra.usage;
  return out;
}

export const sse = (data: unknown) => `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;

/** The events of a whole streamed reply, as DeepInfra sends them: role first, usage with finish_reason, then [DONE]. */
export function replyEvents(parts: string[], u = usage(12, parts.length)): string[] {
  return [
    sse(chunk({ role: "assistant", content: "" })),
    ...parts.map((p) => sse(chunk({ content: p }))),
    sse(chunk({ role: "assistant", content: "" }, { finish_reason: "stop", usage: u })),
    sse("[DONE]"),
  ];
}

export function startSSE(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...headers });
  res.flushHeaders();
}

export function streamReply(parts: string[], u?: ReturnType<typeof usage>): Handler {
  return (_req, res) => {
    startSSE(res);
    for (const event of replyEvents(parts, u)) res.write(event);
    res.end();
  };
}

export function completion(text: string, u = usage(12, 3)) {
  return {
    id: "chatcmpl-9a8b7c",
    object: "chat.completion",
    created: 1764028800,
    model: MODEL,
    choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop", logprobs: null }],
    usage: u,
  };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };
}

export const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A promise with its resolver, for lockstep tests: the server waits until the client has seen an event. */
export function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}
