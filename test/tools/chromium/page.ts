// Runs in Chromium, bundled by approval.test.ts with vite from src/: a Conversation on the IndexedDB store with a tool
// that needs approval and one that never ends, driven through `window.tools`. The tool's runs are counted in localStorage, which every tab of
// the origin shares and a reload keeps: the test can tell how many times it really ran, across pages.
import * as v from "valibot";
import { createClient } from "../../../src/client/client.ts";
import { Conversation } from "../../../src/conversation/conversation.ts";
import type { AssistantMessage } from "../../../src/messages/types.ts";
import { createIndexedDBStore } from "../../../src/store/idb/index.ts";
import { tool, toolset } from "../../../src/tools/index.ts";
import { go, whenGo } from "../../helpers/page-go.ts";

const MODEL = "meta-llama/Llama-3.2-90B-Vision-Instruct";
const store = createIndexedDBStore({ name: "tools" });
const client = () => createClient({ baseURL: `${location.origin}/v1/openai`, maxRetries: 0 });

const sendMail = tool({
  description: "Send an e-mail",
  parameters: v.object({ to: v.string(), body: v.string() }),
  needsApproval: true,
  execute: ({ to }) => {
    const runs = Number(localStorage.getItem(`runs:${to}`) ?? 0) + 1;
    localStorage.setItem(`runs:${to}`, String(runs));
    return `sent to ${to}`;
  },
});
/** Runs until its page goes away (counted when it starts). */
const hang = tool({
  description: "Wait for ever",
  parameters: v.object({ name: v.string() }),
  execute: ({ name }) => {
    localStorage.setItem(`runs:${name}`, String(Number(localStorage.getItem(`runs:${name}`) ?? 0) + 1));
    return new Promise<never>(() => {});
  },
});
const tools = toolset({ sendMail, hang });

let chat: Conversation | undefined;
let armed: Promise<string> | undefined;

const calls = () => (chat!.messages.filter((m) => m.role === "assistant") as AssistantMessage[]).flatMap((m) => m.toolCalls ?? []);
const outcome = (done: Promise<AssistantMessage>) =>
  done.then(
    (m) => `${m.status}: ${m.content}`,
    (e: Error) => `${e.name}: ${e.message}`,
  );

const api = {
  async create(id: string) {
    chat = await Conversation.create(store, { client: client(), model: MODEL, id, tools });
  },
  async open(id: string) {
    chat = await Conversation.open(store, id, { client: client(), tools });
  },
  send: (text: string) => outcome(chat!.send(text).done),
  /** Send, and return at once (the turn goes on in the page). */
  start(text: string) {
    void chat!.send(text).done.catch(() => {});
  },
  continue: () => outcome(chat!.continue().done),
  approve: (callId: string, approved: boolean) => outcome(chat!.approve(callId, approved).done),
  /** Approve when the next `go()` comes: two tabs armed, then released together. */
  arm(callId: string) {
    armed = whenGo().then(() => outcome(chat!.approve(callId).done));
  },
  settle: () => armed!,
  go,
  calls: () => calls().map(({ id, state, result }) => ({ id, state, result })),
  /** The last message's status and text, once the conversation has caught up with another tab. */
  last: () => {
    const m = chat!.messages.at(-1);
    return m?.role === "assistant" ? `${m.status}: ${m.content}` : m?.role;
  },
  runs: (to: string) => Number(localStorage.getItem(`runs:${to}`) ?? 0),
};

export type ToolsApi = typeof api;
(window as unknown as { tools: ToolsApi }).tools = api;
(window as unknown as { __ready: boolean }).__ready = true;
