// Routes for "a caller that disappears releases the lock" (../durable-object.test.ts). Each answers at once with a
// stream of lines and keeps working behind it, as a Worker streaming a reply does; the test then drops the
// connection, and workerd cancels that request's work (the callback the object awaits rejects).
//   /vanish/hold    takes the lock, stores a streaming reply, says "holding", then ticks for up to 30 s
//   /vanish/queue   asks for the lock, says "waiting" when told to wait; if ever granted, stores "queued ran"
//   /vanish/peek    (JSON) what interruptStale makes of the held reply, at once
//   /vanish/take    (JSON) waits up to 5 s for the lock; then what interruptStale makes of the held reply
import type { AssistantMessage } from "../../../src/messages/types.ts";
import type { ConversationStore } from "../../../src/store/types.ts";

const ID = "vanish";
const REPLY: AssistantMessage = { id: "held-reply", role: "assistant", content: "half a re", status: "streaming", createdAt: 1_764_000_000_000 };
const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A streamed text response; `work` writes lines to it and runs after the response is returned. */
function streaming(work: (say: (line: string) => void) => Promise<unknown>): Response {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const say = (line: string) => void writer.write(encoder.encode(`${line}\n`)).catch(() => undefined);
  work(say).then(
    () => writer.close(),
    (error: unknown) => say(`error: ${String(error)}`),
  );
  return new Response(readable, { headers: { "content-type": "text/plain; charset=utf-8" } });
}

export async function vanishing(route: string, store: ConversationStore): Promise<Response | undefined> {
  if (!(await store.get(ID))) await store.create({ id: ID, model: "m" });
  const lock = store.lockConversation!.bind(store);
  switch (route) {
    case "hold":
      return streaming((say) =>
        lock(ID, async () => {
          await store.appendMessage(ID, REPLY);
          say("holding");
          for (let i = 0; i < 300; i++) {
            await sleep(100);
            say("tick");
          }
        }),
      );
    case "queue":
      // Ticks while it waits, as a Worker streaming to a browser sends keep-alives: workerd notices a client that
      // went away when it next writes to it, and only then cancels the request.
      return streaming(async (say) => {
        let waiting = true;
        const ran = lock(ID, () => store.appendMessage(ID, { id: "queued-ran", role: "user", content: "queued ran", createdAt: 1 }), { onWait: () => say("waiting") });
        const stop = () => void (waiting = false);
        ran.then(stop, stop);
        while (waiting) {
          await sleep(100);
          say("tick");
        }
        await ran;
      });
    case "peek": {
      const reply = await store.interruptStale!(ID, REPLY.id);
      return Response.json({ status: reply?.role === "assistant" ? reply.status : undefined });
    }
    case "take": {
      let waited = false;
      const started = Date.now();
      const got = await lock(ID, () => "got it", { signal: AbortSignal.timeout(5000), onWait: () => (waited = true) }).catch(String);
      const reply = await store.interruptStale!(ID, REPLY.id);
      const ids = (await store.loadMessages(ID)).messages.map((m) => m.id);
      return Response.json({ got, waited, ms: Date.now() - started, status: reply?.role === "assistant" ? reply.status : undefined, ids });
    }
  }
  return undefined;
}
