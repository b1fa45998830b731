// The SDK (src/, the client a page uses) against the real relay in workerd: a connection cut mid-stream is resumed
// by the stream itself, Stop cancels the generation upstream, and a generation that has expired is a NotFoundError.
// Between the SDK and the Worker, a TCP proxy that can cut the next connection after so many bytes of its answer.
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, NotFoundError, UserAbortError } from "../../src/index.ts";
import { MODEL, startUpstream, type Upstream, wait } from "../helpers/upstream.ts";
import { type RelayWorker, startRelayWorker } from "./harness.ts";
import { endless, long } from "./upstreams.ts";

let upstream: Upstream;
let worker: RelayWorker;
let dir: string;
let proxy: { url: string; cutNext(afterBytes: number): void; cuts: number; close(): Promise<void> };

/** Forwards every connection to the Worker; `cutNext(n)` destroys the next one once n bytes of its answer passed. */
async function startCuttingProxy(target: URL) {
  let cutAfter: number | undefined;
  const sockets = new Set<Socket>();
  const state = { cuts: 0 };
  const server: Server = createServer((client) => {
    const limit = cutAfter;
    cutAfter = undefined;
    const server = createConnection({ host: target.hostname, port: Number(target.port) });
    sockets.add(client).add(server);
    let passed = 0;
    client.on("data", (data) => server.write(data));
    server.on("data", (data) => {
      if (limit !== undefined && passed + data.length > limit) {
        client.write(data.subarray(0, Math.max(0, limit - passed)));
        state.cuts++;
        client.destroy();
        server.destroy();
        return;
      }
      passed += data.length;
      client.write(data);
    });
    for (const [a, b] of [[client, server], [server, client]] as const) {
      a.on("close", () => b.destroy());
      a.on("error", () => b.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    cutNext: (n: number) => void (cutAfter = n),
    get cuts() {
      return state.cuts;
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "edgechat-relay-sdk-"));
  upstream = await startUpstream();
  worker = await startRelayWorker(dir, upstream.baseURL);
  proxy = await startCuttingProxy(worker.url);
});
afterAll(async () => {
  await proxy?.close();
  await worker?.dispose();
  await upstream?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const client = (headers: Record<string, string> = {}) => createClient({ baseURL: `${proxy.url}/v1`, maxRetries: 2, headers: { "x-client": "sdk", ...headers } });
const messages = [{ role: "user" as const, content: "Hi" }];

describe("the SDK through the relay", () => {
  it("resumes a connection cut in the middle of an event by itself: the exact text, one upstream request, no error", async () => {
    const reply = long(60, 12, 5);
    upstream.handle(reply.handler);
    proxy.cutNext(3000);
    const stream = client().chat.completions.create({ model: MODEL, messages, stream: true });
    let text = "";
    for await (const delta of stream.textStream) text += delta;
    expect(proxy.cuts).toBe(1);
    expect(text).toBe(reply.text);
    expect((await stream.finalChatCompletion()).choices[0]!.finish_reason).toBe("stop");
    expect(upstream.requests).toHaveLength(1);
    expect(stream.resumable?.url).toMatch(/\/generations\/[A-Za-z0-9_-]{22}$/);
  });

  it("Stop (abort) cancels the generation: the upstream sees its connection close", async () => {
    upstream.handle(endless(10));
    const stream = client().chat.completions.create({ model: MODEL, messages, stream: true });
    let deltas = 0;
    const error = await (async () => {
      for await (const _ of stream.textStream) if (++deltas === 5) stream.abort();
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserAbortError);
    await Promise.race([upstream.requests[0]!.closed, wait(5000).then(() => Promise.reject(new Error("the upstream connection stayed open")))]);
    const after = await client().chat.completions.resume(stream.resumable!.url).finalChatCompletion();
    expect(after.choices[0]!.finish_reason).toBe("cancelled");
  });

  it("a generation that has expired (or was never there) is a NotFoundError, generation_not_found: the caller falls back", async () => {
    upstream.handle(long(3, 5, 0).handler);
    const stream = client({ "x-limits": JSON.stringify({ retentionMs: 200 }) }).chat.completions.create({ model: MODEL, messages, stream: true });
    await stream.finalChatCompletion();
    const { url } = stream.resumable!;
    expect((await client().chat.completions.resume(url).finalChatCompletion()).choices[0]!.finish_reason).toBe("stop");
    await wait(1500);
    for (const gone of [url, url.replace(/[A-Za-z0-9_-]{22}$/, "A".repeat(22))]) {
      const error = await client().chat.completions.resume(gone).finalChatCompletion().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ status: 404, code: "generation_not_found" });
    }
  });
});
