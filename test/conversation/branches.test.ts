// Versions through the Conversation, at random: send, edit any user message, regenerate any reply, switch to any
// version. After every step the Conversation's path is the store's, each request carried exactly the path, and
// the versions it reports are the store's forks.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rng } from "../helpers/chunking.ts";
import { Conversation } from "../../src/conversation/conversation.ts";
import { createClient } from "../../src/index.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { MODEL, startUpstream, streamReply, type Upstream } from "../helpers/upstream.ts";

let upstream: Upstream;
beforeAll(async () => void (upstream = await startUpstream()));
afterAll(() => upstream.close());

describe("Conversation versions under random edits, regenerations and switches", () => {
  it("12 sequences of 14 steps: the path in memory is the stored path, and each request carried it", async () => {
    let n = 0;
    upstream.handle((req, res) => streamReply([`r${++n}`])(req, res));
    for (let seed = 1; seed <= 12; seed++) {
      const next = rng(seed);
      const store = createMemoryStore();
      const chat = await Conversation.create(store, { client: createClient({ baseURL: upstream.baseURL, maxRetries: 0 }), model: MODEL });
      for (let step = 0; step < 14; step++) {
        const path = chat.messages;
        const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
        const roll = next();
        let what: string;
        if (roll < 0.3 || path.length === 0) {
          what = "send";
          await chat.send(`q${step}`).done;
        } else if (roll < 0.55) {
          const old = pick(path.filter((m) => m.role === "user"));
          what = `edit ${old.id}`;
          await chat.edit(old.id, `edited ${step}`).done;
        } else if (roll < 0.8) {
          const old = pick(path.filter((m) => m.role === "assistant"));
          what = `regenerate ${old.id}`;
          await chat.regenerate(old.id).done;
        } else {
          const { ids } = chat.versions(pick(path).id);
          what = "switch";
          await chat.switchTo(pick(ids));
        }
        const at = `seed ${seed}, step ${step} (${what})`;
        const stored = (await store.loadMessages(chat.id, { limit: Infinity })).messages;
        expect(chat.messages, at).toEqual(stored);
        chat.messages.forEach((m, i) => expect(m.role, `${at}: role ${i}`).toBe(i % 2 ? "assistant" : "user"));
        if (what !== "switch") {
          const sent = upstream.requests.at(-1)!.body.messages.map((m: { content: string }) => m.content);
          expect(sent, `${at}: the request`).toEqual(chat.messages.slice(0, -1).map((m) => m.content));
        }
        const forks = (await store.get(chat.id))!.forks;
        for (const m of chat.messages) expect(chat.versions(m.id).ids, `${at}: versions`).toEqual(forks?.[m.parentId ?? ""] ?? [m.id]);
      }
      chat.close();
    }
  }, 60_000);
});
