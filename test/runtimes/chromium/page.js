// Runs inside Chromium. The page's import map (built by chromium.test.ts from the packed package.json
// `exports` and `dependencies`) points `edgechat`, its subpaths, `edgechat-copy`, `valibot` and the other
// dependencies at the installed files: plain ES modules, no bundler, no Node shims.
import * as sdk from "edgechat";
import * as sdkCopy from "edgechat-copy";
import * as sse from "edgechat/sse";
import * as structured from "edgechat/structured";
import * as tools from "edgechat/tools";
import { createIndexedDBStore } from "edgechat/idb";
import * as v from "valibot";
import { assert } from "/shared/assert.js";
import { behaviours, runBehaviour } from "/shared/behaviours.js";

const t = { sdk, sse, tools, structured, v, sdkCopy, base: location.origin, runtime: "chromium", assert };

window.edgechat = {
  names: behaviours.map((b) => b.name),
  run: (name) => runBehaviour(name, t),
  globals: { process: typeof process, Buffer: typeof Buffer, require: typeof require, global: typeof global },
  resolved: {
    edgechat: import.meta.resolve("edgechat"),
    sse: import.meta.resolve("edgechat/sse"),
    tools: import.meta.resolve("edgechat/tools"),
    structured: import.meta.resolve("edgechat/structured"),
    valibot: import.meta.resolve("valibot"),
  },
  // Real IndexedDB through the packed store entry: write a conversation with an image, close, reopen, read back.
  idbRoundTrip: async () => {
    const name = `runtime-${crypto.randomUUID()}`;
    const image = new Uint8Array(4096).map((_, i) => (i * 31) & 255);
    const user = { id: "u1", role: "user", createdAt: 1, content: [{ type: "text", text: "héllo 🦙" }, { type: "image", data: image, mimeType: "image/png" }] };
    const reply = { id: "a1", role: "assistant", createdAt: 2, content: "hi", status: "complete", usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4, estimated_cost: 0.5 } };
    const first = createIndexedDBStore({ name });
    const { id } = await first.create({ model: "m", title: "round trip" });
    await first.appendMessage(id, user);
    await first.appendMessage(id, reply);
    first.close();
    const second = createIndexedDBStore({ name });
    const meta = await second.get(id);
    const { messages } = await second.loadMessages(id);
    const back = messages[0].content[1].data;
    const exported = await second.export(id);
    second.close();
    return {
      native: String(indexedDB.open).includes("[native code]"),
      title: meta.title,
      count: meta.messageCount,
      cost: meta.usage.cost,
      text: messages[0].content[0].text,
      imageEqual: back instanceof Uint8Array && back.length === image.length && back.every((b, i) => b === image[i]),
      reply: messages[1].content,
      exportedImage: exported.messages[0].content[1].data.length > 0,
    };
  },
};
window.__ready = true;
