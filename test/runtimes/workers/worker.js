// A Cloudflare Worker that uses the packed package (bundled with vite by workers.test.ts; no nodejs_compat).
//   GET /globals                  what a plain Worker has: no process, Buffer, require, indexedDB
//   GET /run/<behaviour name>     run one shared behaviour inside workerd: { ok, error? }
//   GET /relay/<scenario>/<id>    stream a chat completion from the upstream and relay it as SSE
import * as sdk from "edgechat";
import * as sdkCopy from "edgechat-copy";
import * as sse from "edgechat/sse";
import * as structured from "edgechat/structured";
import * as tools from "edgechat/tools";
import * as v from "valibot";
import { assert } from "../shared/assert.js";
import { runBehaviour } from "../shared/behaviours.js";
import { MODEL } from "../shared/upstream.js";

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    const [, route, ...rest] = pathname.split("/").map(decodeURIComponent);

    if (route === "globals") {
      return Response.json({
        process: typeof globalThis.process,
        Buffer: typeof globalThis.Buffer,
        require: typeof globalThis.require,
        indexedDB: typeof globalThis.indexedDB,
      });
    }

    if (route === "run") {
      const t = { sdk, sse, tools, structured, v, sdkCopy, base: env.UPSTREAM, runtime: "workers", assert };
      return Response.json(await runBehaviour(rest.join("/"), t));
    }

    if (route === "relay") {
      const [scenario, id] = rest;
      const client = sdk.createClient({ baseURL: `${env.UPSTREAM}/s/${scenario}/${id}/v1/openai`, maxRetries: 0 });
      const stream = client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Hello" }], stream: true });
      // text/event-stream: workerd does not compress it, so it reaches the client event by event.
      return new Response(sdk.toSSEStream(stream), { headers: { "content-type": "text/event-stream" } });
    }

    return new Response("not found", { status: 404 });
  },
};
