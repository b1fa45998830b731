// The chaos run's relay: a Worker for workerd (bundled by test/store/durable-object/workerd.ts, run by miniflare) whose
// generations call a chaos upstream. The client's x-chaos-conversation and x-chaos-turn travel to the upstream as the
// generation's context, so the upstream's log says which reply each request was for; x-chaos-upstream names the
// upstream (its base URL), so one Worker serves runs against differently faulty upstreams.
//   POST /v1/openai/chat/completions   start a generation; owner = x-chaos-conversation
//   GET|DELETE /v1/openai/generations/<id>
import { createRelay, GenerationRelayObject, type RelayNamespaceLike, type UpstreamCall } from "../../src/relay/index.ts";

interface Env {
  GENERATIONS: RelayNamespaceLike;
}

interface Tags {
  /** The chaos upstream's base URL (…/v1/openai). */
  upstream: string;
  conversation: string;
  turn: string;
}

export class ChaosGenerations extends GenerationRelayObject<Env> {
  protected upstream({ body, context, signal }: UpstreamCall): Promise<Response> {
    const { upstream, conversation, turn } = context as Tags;
    return fetch(`${upstream}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", "x-chaos-conversation": conversation, "x-chaos-turn": turn },
      body: JSON.stringify(body),
      signal,
    });
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const conversation = request.headers.get("x-chaos-conversation") ?? "unknown";
    const relay = createRelay(env.GENERATIONS, { path: "/v1/openai/generations/" });
    const routed = await relay.route(request, { owner: conversation });
    if (routed) return routed;
    const upstream = request.headers.get("x-chaos-upstream");
    if (new URL(request.url).pathname === "/v1/openai/chat/completions" && request.method === "POST" && upstream) {
      const context: Tags = { upstream, conversation, turn: request.headers.get("x-chaos-turn") ?? "-1" };
      return relay.start({ body: await request.json(), owner: conversation, context });
    }
    return new Response("not found", { status: 404 });
  },
};
