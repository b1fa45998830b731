// The Worker of ../durable-object-two-clients.test.ts. Every request is one client: it reaches the conversation's
// object over RPC with its own store, opens the conversation with its own `Conversation`, and sends one message.
//   POST /create        → { id }
//   POST /send/<id>     body: the text → the stored reply, or { error }
//   GET  /messages/<id> → every stored message
import { DurableObject } from "cloudflare:workers";
import { createClient } from "../../../src/client/client.ts";
import { Conversation } from "../../../src/conversation/conversation.ts";
import { connectDurableObjectStore, ConversationStoreObject, type ConversationStoreStub } from "../../../src/store/durable-object/index.ts";

export class RaceConversations extends ConversationStoreObject(DurableObject) {}

interface Env {
  STORE: { idFromName(name: string): unknown; get(id: unknown): ConversationStoreStub };
  UPSTREAM: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const store = connectDurableObjectStore(env.STORE.get(env.STORE.idFromName("race")));
    const client = createClient({ baseURL: env.UPSTREAM, apiKey: "test-key" });
    const [, action, id] = new URL(request.url).pathname.split("/");
    try {
      if (action === "create") return Response.json({ id: (await Conversation.create(store, { client, model: "meta-llama/Llama-3.2-90B-Vision-Instruct" })).id });
      if (action === "send") {
        const chat = await Conversation.open(store, id!, { client });
        return Response.json(await chat.send(await request.text()).done);
      }
      if (action === "messages") return Response.json((await store.loadMessages(id!, { limit: Infinity })).messages);
    } catch (error) {
      return Response.json({ error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    }
    return new Response("not found", { status: 404 });
  },
};
