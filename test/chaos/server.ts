// A chaos upstream on 127.0.0.1: every request draws a fault from a generator seeded by (seed, conversation,
// attempt), so a run is reproducible from its seed whatever order concurrent requests arrive in.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { rng } from "../helpers/chunking.ts";
import { type Fault, respond, type Sent, WEIGHTS } from "./faults.ts";

export interface ChaosServer {
  baseURL: string;
  /** What each conversation's requests received, in order. */
  log: Map<string, Sent[]>;
  close(): Promise<void>;
}

/** One of `weights`' keys, drawn with their relative frequencies. */
export function pick<F extends string>(random: () => number, weights: Partial<Record<F, number>>): F {
  const entries = Object.entries(weights) as [F, number][];
  let r = random() * entries.reduce((n, [, w]) => n + w, 0);
  for (const [fault, weight] of entries) if ((r -= weight) < 0) return fault;
  return entries[0]![0];
}

/** FNV-1a, to seed a generator per request from a string. */
export function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** The contents of the messages a request carried, to check that it was sent with the whole history. */
function requestMessages(body: Buffer[]): string[] {
  try {
    const messages = JSON.parse(Buffer.concat(body).toString("utf8")).messages as { content: unknown }[];
    return messages.map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content)));
  } catch {
    return [];
  }
}

export interface ChaosOptions {
  /** The faults to draw from, with their relative frequencies (default: WEIGHTS, every fault). */
  weights?: Partial<Record<Fault, number>>;
  /** A pause before each content delta, in ms (default 0: a reply is written at once). */
  paceMs?: number;
}

export async function startChaosServer(seed: number, stallMs: number, { weights = WEIGHTS, paceMs = 0 }: ChaosOptions = {}): Promise<ChaosServer> {
  const log = new Map<string, Sent[]>();
  const server = createServer((req, res) => {
    // Pages on another origin (the Chromium run) may call it too.
    res.setHeader("access-control-allow-origin", "*");
    res.setHeader("access-control-expose-headers", "retry-after, retry-after-ms, x-request-id");
    if (req.method === "OPTIONS") {
      res.writeHead(204, { "access-control-allow-methods": "POST", "access-control-allow-headers": "content-type, accept, x-chaos-conversation, x-chaos-turn", "access-control-max-age": "600" });
      res.end();
      return;
    }
    const closed = new Promise<void>((resolve) => res.on("close", () => resolve()));
    const body: Buffer[] = [];
    req.on("data", (piece: Buffer) => body.push(piece));
    req.on("end", async () => {
      const conversation = String(req.headers["x-chaos-conversation"] ?? "unknown");
      const entries = log.get(conversation) ?? [];
      log.set(conversation, entries);
      const random = rng(seed ^ hash(`${conversation}#${entries.length}`));
      const fault = pick(random, weights);
      const record: Sent = { fault, text: "", turn: Number(req.headers["x-chaos-turn"] ?? -1), messages: requestMessages(body) };
      entries.push(record); // recorded before responding, so the order of attempts is kept
      await respond(record, res, random, closed, stallMs, paceMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1/openai`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
