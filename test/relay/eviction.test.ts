// A generation with no reader streams on past workerd's inactivity eviction. This workerd (April 2026) has no
// durable_object_io_tasks_prevent_eviction flag: an object whose only work is a pending waitUntil (a timer, an
// upstream fetch being read) is evicted ~70 s after its last request, as production documents 70–140 s. What keeps a
// generation alive is an event at least every 30 s: the relay's alarm heartbeat, as cloudflare/agents' keepAlive()
// does. (Here the starter's request, cancelled when its reader left, also happens to hold the object: the test
// still passes with the heartbeat off, so it checks that the heartbeat ran, too.)
// Slow on purpose (about 90 s), in a file of its own so it runs beside the others.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { HEARTBEAT_MS } from "../../src/relay/object.ts";
import { startUpstream, type Upstream, wait } from "../helpers/upstream.ts";
import { chatBody, eventsOf, open, type RelayWorker, startRelayWorker } from "./harness.ts";
import { long } from "./upstreams.ts";

const SECONDS = Number(process.env.RELAY_EVICTION_SECONDS ?? 85);

let upstream: Upstream;
let worker: RelayWorker;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "edgechat-relay-evict-"));
  upstream = await startUpstream();
  worker = await startRelayWorker(dir, upstream.baseURL);
});
afterAll(async () => {
  await worker?.dispose();
  await upstream?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it(`a generation left without a reader for ${SECONDS} s streams on to its end, in the same object, from one upstream request`, async () => {
  const reply = long(SECONDS, 8, 1000);
  upstream.handle(reply.handler);
  const headers = { "x-client": "a", "x-limits": JSON.stringify({ maxDetachedMs: (SECONDS + 60) * 1000 }) };
  const s = await open(new URL("/chat", worker.url), { method: "POST", body: JSON.stringify(chatBody()), headers });
  await s.untilIncludes("\n\n");
  s.drop();
  const url = new URL(s.response.headers.get("edgechat-resume")!, worker.url);
  // No request reaches the object meanwhile: only its own alarms.
  await wait((SECONDS + 3) * 1000);
  const again = await open(url, { headers: { "x-client": "a" } });
  const events = eventsOf(await again.rest());
  expect(events.at(-1)?.data).toBe("[DONE]");
  const text = events.filter((e) => e.data.startsWith("{")).map((e) => JSON.parse(e.data).choices[0].delta.content ?? "").join("");
  expect(text).toBe(reply.text);
  expect(upstream.requests).toHaveLength(1);
  const inspected = await (await fetch(new URL(`/inspect/${url.pathname.split("/").pop()}`, worker.url))).json();
  expect(inspected.constructed, "the object was never evicted and rebuilt").toBe(1);
  // The heartbeat: an alarm every 30 s while it streamed with no reader attached. Each is set from the one before it
  // ran, so a loaded machine's late timers add up (1.07 s late seen in CI); eviction comes at ~70 s.
  const fired: number[] = inspected.writes.fired;
  expect(fired.length, `alarms at ${fired.join(", ")}`).toBeGreaterThanOrEqual(Math.floor(SECONDS / 30));
  const started = inspected.state[0].started_at as number;
  const gaps = [fired[0]! - started, ...fired.slice(1).map((t, i) => t - fired[i]!)];
  expect(Math.max(...gaps)).toBeLessThan(HEARTBEAT_MS + 5_000);
}, (SECONDS + 30) * 1000);
