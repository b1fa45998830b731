// Conversations kept server-side, one Durable Object per user: each user's conversations live in their own
// SQLite database, so listing, paging and every write stay inside one object (atomic, no cross-user queries).
//   npx wrangler dev --config demo/worker-store/wrangler.jsonc
//   curl -X POST localhost:8787/conversations -H 'x-user: ann' -d '{"model":"meta-llama/Llama-3.2-11B-Vision-Instruct"}'
//   curl -X POST localhost:8787/conversations/<id>/messages -H 'x-user: ann' -d '{"text":"Hello"}'
//   curl localhost:8787/conversations -H 'x-user: ann'
import { DurableObject } from "cloudflare:workers";
import { ConversationNotFoundError, ValidationError } from "edgechat";
import { ConversationStoreObject, connectDurableObjectStore, type ConversationStoreStub } from "edgechat/durable-object";

/** The whole class: the store, in the object's SQLite storage, served over RPC. */
export class UserConversations extends ConversationStoreObject(DurableObject) {}

interface Env {
  CONVERSATIONS: { idFromName(name: string): unknown; get(id: unknown): ConversationStoreStub };
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    // A stand-in for real authentication (a session, Cloudflare Access): never trust a client-sent user id.
    const user = request.headers.get("x-user");
    if (!user) return Response.json({ error: "who are you? (x-user header)" }, { status: 401 });
    const store = connectDurableObjectStore(env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(user)));

    const url = new URL(request.url);
    const [, root, id, action] = url.pathname.split("/");
    const route = `${request.method} ${[root, id && ":id", action].filter(Boolean).join("/")}`;
    try {
      switch (route) {
        case "GET conversations": {
          const cursor = url.searchParams.get("cursor");
          return Response.json(await store.list(cursor ? { cursor } : {}));
        }
        case "POST conversations": {
          const { model, title } = (await request.json()) as { model: string; title?: string };
          return Response.json(await store.create({ model, ...(title !== undefined && { title }) }), { status: 201 });
        }
        case "POST conversations/:id/messages": {
          const { text } = (await request.json()) as { text: string };
          await store.appendMessage(id!, { id: crypto.randomUUID(), role: "user", content: text, createdAt: Date.now() });
          return new Response(null, { status: 204 });
        }
        case "GET conversations/:id/export":
          return Response.json(await store.export(id!));
        case "DELETE conversations/:id":
          await store.delete(id!);
          return new Response(null, { status: 204 });
      }
      return Response.json({ error: "not found" }, { status: 404 });
    } catch (error) {
      if (error instanceof ConversationNotFoundError) return Response.json({ error: error.message }, { status: 404 });
      if (error instanceof ValidationError) return Response.json({ error: error.message }, { status: 400 });
      throw error;
    }
  },
};
