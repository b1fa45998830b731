// Issue 12's race on a Durable Object store, in workerd: two Worker invocations (two clients) send to one conversation
// at the same moment, 10 rounds, each with its own RPC store and Conversation, against a real HTTP upstream. Each turn
// runs under the object's lock, so the transcript alternates, every reply answers the question before it, and every
// request carries the whole history.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, expect, it } from "vitest";
import { replyEvents, startSSE, startUpstream, type Upstream, wait } from "../helpers/upstream.ts";
import { bundle, json, options } from "./durable-object/workerd.ts";

const ROUNDS = 10;

let dir: string;
let upstream: Upstream;
let mf: Miniflare;

/** Text of a message as the API or the store carries it (a string, or text parts). */
const text = (content: unknown): string =>
  typeof content === "string" ? content : (content as { type: string; text?: string }[]).map((p) => p.text ?? `[${p.type}]`).join("");

beforeAll(async () => {
  upstream = await startUpstream();
  // Answers the last user message, streamed in pieces with pauses, so that the two clients' turns overlap.
  upstream.handle(async (req, res) => {
    const question = text(req.body.messages.at(-1).content);
    startSSE(res);
    for (const event of replyEvents(["answer ", "to ", question])) {
      res.write(event);
      await wait(5);
    }
    res.end();
  });
  dir = mkdtempSync(join(tmpdir(), "edgechat-do-race-"));
  const code = await bundle("test/store/durable-object/two-clients-worker.ts");
  mf = new Miniflare(options(code, dir, { className: "RaceConversations", bindings: { UPSTREAM: upstream.baseURL } }));
  await mf.ready;
});

afterAll(async () => {
  await mf?.dispose();
  await upstream?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("two clients sending at the same moment, 10 rounds: turns alternate, each reply answers its question, each request carries every earlier turn", async () => {
  const { id } = await json(mf, "/create", { method: "POST" });
  const send = (message: string) => json(mf, `/send/${id}`, { method: "POST", body: message });
  for (let round = 0; round < ROUNDS; round++) {
    const replies = await Promise.all([send(`round ${round} from A`), send(`round ${round} from B`)]);
    for (const reply of replies) expect(reply, `round ${round}: ${JSON.stringify(reply)}`).toMatchObject({ role: "assistant", status: "complete" });
  }

  const stored: { role: string; content: unknown; status?: string }[] = await json(mf, `/messages/${id}`);
  const transcript = stored.map((m) => ({ role: m.role, content: text(m.content) }));
  const shown = transcript.map((m) => `${m.role}: ${m.content}`).join("\n");
  expect(transcript.map((m) => m.role[0]).join(""), `the stored transcript:\n${shown}`).toBe("ua".repeat(2 * ROUNDS));
  for (let i = 1; i < transcript.length; i += 2) {
    expect(transcript[i]!.content, `reply ${i}`).toBe(`answer to ${transcript[i - 1]!.content}`);
    expect(stored[i]!.status).toBe("complete");
  }

  expect(upstream.requests).toHaveLength(2 * ROUNDS);
  for (const request of upstream.requests) {
    const sent = (request.body.messages as { role: string; content: unknown }[]).filter((m) => m.role !== "system").map((m) => ({ role: m.role, content: text(m.content) }));
    const asked = sent.at(-1)!;
    const at = transcript.findIndex((m) => m.role === "user" && m.content === asked.content);
    expect(at, `"${asked.content}" is stored`).toBeGreaterThanOrEqual(0);
    expect(sent, `the request for "${asked.content}" carries every earlier turn`).toEqual(transcript.slice(0, at + 1));
  }
}, 60_000);
