// Another process on the same Deno KV file, spawned by kv_test.ts: `deno run … kv_process.ts <mode> <kv file> <id> …`.
// It prints "ready" once open, then waits for a line on stdin before each round, so that two of them start together.
//   race <rounds> <name>   takes the conversation's lock <rounds> times; each hold appends "<name> enter" and
//                          "<name> leave" with a pause between (two holders at once would interleave them)
//   hold <lease ms>        takes the lock, appends a reply left streaming, prints "held <reply id>", never lets go
//   chat <rounds> <name> <baseURL>   Conversation.open; each round sends "<name> <round>" and prints "done" (or
//                          "done after waiting": the reply waited for the other process's turn)
import { createClient } from "../../../src/client/client.ts";
import { Conversation } from "../../../src/conversation/conversation.ts";
import { createDenoKvStore } from "../../../src/store/deno-kv/index.ts";
import { assistantMessage, userMessage } from "../contract.ts";

const [mode, path, id, ...rest] = Deno.args as [string, string, string, ...string[]];
const kv = await Deno.openKv(path);
const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
let buffered = "";
/** The next line from the test (it says when to start a round). */
async function nextLine(): Promise<string> {
  while (!buffered.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error("stdin closed");
    buffered += value;
  }
  const at = buffered.indexOf("\n");
  const line = buffered.slice(0, at);
  buffered = buffered.slice(at + 1);
  return line;
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

if (mode === "race") {
  const [rounds, name] = [Number(rest[0]), rest[1]!];
  const store = createDenoKvStore(kv);
  let waits = 0;
  console.log("ready");
  await nextLine();
  for (let round = 0; round < rounds; round++) {
    await store.lockConversation!(
      id,
      async () => {
        await store.appendMessage(id, userMessage(`${name} enter`));
        await sleep(2 + Math.random() * 4);
        await store.appendMessage(id, userMessage(`${name} leave`));
      },
      { onWait: () => waits++ },
    );
    await sleep(10 + Math.random() * 20); // room for the other process to take its turn
  }
  console.log(`waited ${waits}`);
} else if (mode === "hold") {
  const store = createDenoKvStore(kv, { lockLease: Number(rest[0]) });
  console.log("ready");
  await store.lockConversation!(id, async () => {
    const reply = assistantMessage("half a rep", { status: "streaming" });
    await store.appendMessage(id, reply);
    console.log(`held ${reply.id}`);
    await new Promise(() => {}); // the lease's renewal timer keeps the process alive until it is killed
  });
} else if (mode === "chat") {
  const [rounds, name, baseURL] = [Number(rest[0]), rest[1]!, rest[2]!];
  const store = createDenoKvStore(kv);
  const chat = await Conversation.open(store, id, { client: createClient({ baseURL, apiKey: "test-key" }) });
  console.log("ready");
  let waited = false;
  chat.onChange((change) => void (change.type === "reply" && change.reply.state === "waiting" && (waited = true)));
  for (let round = 0; round < rounds; round++) {
    await nextLine();
    waited = false;
    await chat.send(`${name} ${round}`).done;
    console.log(waited ? "done after waiting" : "done");
  }
  // reply.done resolves once the turn has released the lock: closing the database now leaves no lease behind.
  chat.close();
}
await lines.cancel();
kv.close();
