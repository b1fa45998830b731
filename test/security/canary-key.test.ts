// The API key must never reach an error (message, properties, toString, stack, JSON), a stored record,
// an exported document, or a log line. A canary key is driven through every failure path, including a
// server that echoes the Authorization header back, and every surface is searched for it.
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { Conversation } from "../../src/conversation/conversation.ts";
import { createClient } from "../../src/index.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { type Fault, WEIGHTS } from "../chaos/faults.ts";
import { respond } from "../chaos/faults.ts";
import { rng } from "../helpers/chunking.ts";
import { sse, startSSE, startUpstream, type Upstream } from "../helpers/upstream.ts";

const CANARY = "di-CANARY-5f0c9e2a7b1d4c3e8f60a9b2";
let upstream: Upstream;
beforeAll(async () => void (upstream = await startUpstream()));
afterAll(() => upstream.close());

/** Everything reachable from a value, as text: own properties (enumerable or not), causes, stacks. */
function surfaces(value: unknown, seen = new Set<unknown>()): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value !== "object") return [String(value)];
  if (seen.has(value)) return [];
  seen.add(value);
  const out: string[] = [];
  if (value instanceof Error) out.push(String(value), value.stack ?? "");
  if (value instanceof Headers) value.forEach((v, k) => out.push(`${k}: ${v}`));
  try {
    out.push(JSON.stringify(value) ?? "");
  } catch {}
  for (const key of Reflect.ownKeys(value)) out.push(...surfaces((value as Record<PropertyKey, unknown>)[key], seen));
  return out;
}

it("never leaks the key, whatever goes wrong", async () => {
  const echoes = (req: { headers: Record<string, unknown> }) => `You sent ${String(req.headers.authorization)}`;
  const faults = Object.keys(WEIGHTS) as Fault[];
  let i = 0;
  upstream.handle(async (req, res) => {
    const mode = i++ % (faults.length + 3);
    if (mode === faults.length) {
      // An error body that echoes the key.
      res.writeHead(401, { "content-type": "application/json", "x-echo": "none" });
      res.end(JSON.stringify({ detail: echoes(req), headers: req.headers }));
    } else if (mode === faults.length + 1) {
      startSSE(res);
      res.end(sse({ error: { message: echoes(req), code: 500 } }));
    } else if (mode === faults.length + 2) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(`not json ${echoes(req)}`);
    } else {
      await respond({ fault: faults[mode]!, text: "" }, res, rng(mode), req.closed, 800);
    }
  });

  const logged: string[] = [];
  const spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map((a) => surfaces(a).join(" ")).join(" "))),
  );
  const store = createMemoryStore();
  const client = createClient({ apiKey: CANARY, baseURL: upstream.baseURL, maxRetries: 0, idleTimeout: 300, timeout: 1000 });
  const conversation = await Conversation.create(store, { client, model: "meta-llama/Llama-3.2-90B-Vision-Instruct" });
  const errors: unknown[] = [];
  try {
    for (let n = 0; n < (faults.length + 3) * 2; n++) {
      await conversation.send(`message ${n}`).done.catch((e: unknown) => errors.push(e));
      await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => errors.push(e));
    }
    await conversation.flush();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }

  expect(errors.length).toBeGreaterThan(20);
  // The key was really sent (so a leak was possible)...
  expect(upstream.requests.every((r) => r.headers.authorization === `Bearer ${CANARY}`)).toBe(true);
  // ...and reached none of these.
  const exported = JSON.stringify(await store.export(conversation.id));
  const texts = [
    ...errors.flatMap((e) => surfaces(e)),
    ...logged,
    exported,
    JSON.stringify(conversation),
    ...surfaces(conversation.messages),
    ...surfaces(await store.list()),
    ...surfaces(client),
  ];
  const leaks = texts.filter((t) => t.includes(CANARY));
  expect(leaks.map((t) => t.slice(0, 200))).toEqual([]);
  // The echoed key was replaced, not dropped silently.
  expect(errors.some((e) => String((e as Error).message).includes("[redacted]"))).toBe(true);
});
