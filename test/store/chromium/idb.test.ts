// @vitest-environment node
// The IndexedDB store in real Chromium (Debian's, driven by playwright-core): the store contract against the
// browser's IndexedDB, two tabs appending to one conversation, Web Locks across tabs, and a tab closed in the
// middle of a streamed reply. One node:http server on 127.0.0.1 serves the page, its bundle (vite, from src/)
// and a DeepInfra-style SSE endpoint, all same-origin.
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundlePage, openTestPage, pageCaller, pageHTML } from "../../helpers/chromium-page.ts";
import { ConversationNotFoundError, StorageError } from "../../../src/store/errors.ts";
import { ValidationError } from "../../../src/errors/validation.ts";
import { chunk, sse } from "../../helpers/upstream.ts";
import { storeContract } from "../contract.ts";
import type { Outcome, PageApi } from "./page.ts";

const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// RUNTIMES.md §2: flags that keep Debian's Chromium quiet and offline in a container.
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const playwright = await import("playwright-core").catch(() => undefined);

const problem = !existsSync(executablePath) ? `no browser at ${executablePath}` : playwright === undefined ? "playwright-core is not installed (npm ci)" : undefined;

// The contract's test names, collected here so each becomes one vitest test; the page runs the same code.
const names: string[] = [];
storeContract({ define: (name) => names.push(name), makeStore: () => undefined as never, errors: { ValidationError, StorageError, ConversationNotFoundError } });

/** Call `window.edgechat[name](...args)` in the page (code that lives in the page's bundle, not in evaluate). */
const call = pageCaller<PageApi>("edgechat");

if (problem) {
  // Locally and under CI alike: a missing browser is a failure with the fix, never a silent skip.
  it("Chromium is installed", () => {
    throw new Error(
      `Chromium is not available: ${problem}. Install it with: apt-get install --no-install-recommends chromium ` +
        "(or set CHROMIUM_PATH to a Chromium or Chrome binary). Playwright's own download (npx playwright install) is not needed.",
    );
  });
} else {
  describe("IndexedDB store in Chromium", () => {
    let server: Server;
    let origin: string;
    let browser: Browser;
    let context: BrowserContext;
    let main: Page;
    const pageErrors: string[] = [];
    /** The SSE endpoint: deltas sent so far, per request. */
    const streams: { sent: string[]; closed: boolean }[] = [];

    const html = pageHTML("edgechat idb");

    const openPage = () => openTestPage(context, `${origin}/`, pageErrors);

    beforeAll(async () => {
      const script = await bundlePage(join(import.meta.dirname, "page.ts"));

      server = createServer((req, res) => {
        if (req.url === "/") return void res.writeHead(200, { "content-type": "text/html" }).end(html);
        if (req.url === "/page.js") return void res.writeHead(200, { "content-type": "text/javascript" }).end(script);
        if (req.url === "/v1/openai/chat/completions" && req.method === "POST") {
          // A reply that never ends on its own: one word every 40 ms, until the page goes away.
          const stream = { sent: [] as string[], closed: false };
          streams.push(stream);
          res.on("close", () => (stream.closed = true));
          req.resume();
          res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
          res.write(sse(chunk({ role: "assistant", content: "" })));
          const timer = setInterval(() => {
            if (stream.closed || stream.sent.length >= 1000) return clearInterval(timer);
            const word = `w${stream.sent.length} `;
            stream.sent.push(word);
            res.write(sse(chunk({ content: word })));
          }, 40);
          return;
        }
        res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

      browser = await playwright!.chromium.launch({ executablePath, headless: true, args: ARGS });
      context = await browser.newContext();
      main = await openPage();
    });

    afterAll(async () => {
      await browser?.close();
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    });

    it("runs on the browser's own IndexedDB, with the contract's tests in the page", async () => {
      expect(await call(main, "nativeIndexedDB")).toBe(true);
      expect(await call(main, "names")).toEqual(names);
    });

    describe("the store contract", () => {
      for (const name of names) {
        it(name, async () => {
          const outcome: Outcome = await call(main, "run", name);
          if (!outcome.ok) throw new Error(`in Chromium: ${outcome.error}`);
        });
      }
    });

    it("two tabs appending to one conversation at once: nothing lost, nothing duplicated, each tab hears the other", async () => {
      const db = `tabs-${Date.now()}`;
      const other = await openPage();
      try {
        await call(other, "listen", db);
        await call(main, "create", db, "shared");
        // Both tabs armed, then released by one BroadcastChannel message: two calls through the driver, one after
        // the other, could let one tab finish before the other starts on a loaded machine.
        await call(main, "armAppends", db, "shared", "a", 80);
        await call(other, "armAppends", db, "shared", "b", 80);
        await call(main, "go");
        await Promise.all([call(main, "appended"), call(other, "appended")]);

        const stored = await call(main, "load", db, "shared");
        expect(stored.count).toBe(160);
        expect(stored.ids.length).toBe(160);
        expect(new Set(stored.ids).size).toBe(160);
        expect(stored.ids.filter((id) => id.startsWith("a"))).toEqual(Array.from({ length: 80 }, (_, i) => `a${i}`));
        expect(stored.ids.filter((id) => id.startsWith("b"))).toEqual(Array.from({ length: 80 }, (_, i) => `b${i}`));
        // The interleaving really happened (both tabs wrote while the other did).
        expect(stored.ids.slice(0, 80).some((id) => id.startsWith("b"))).toBe(true);

        // The other tab heard the main tab's create and its 80 appends (and none of its own).
        await other.waitForFunction(
          () => (window as unknown as { edgechat: PageApi }).edgechat.changes().filter((c) => c.kind === "append").length >= 80,
          undefined,
          { timeout: 5000 },
        );
        const heard = await call(other, "changes");
        expect(heard[0]).toEqual({ id: "shared", kind: "create" });
        expect(heard.filter((c) => c.kind === "append").length).toBe(80);
      } finally {
        await other.close();
      }
    });

    it("Web Locks: only one tab holds a conversation at a time", async () => {
      expect(await call(main, "hasLocks")).toBe(true);
      const db = `locks-${Date.now()}`;
      const other = await openPage();
      try {
        const first = call(main, "hold", db, "c", 300);
        await new Promise((r) => setTimeout(r, 50));
        const second = call(other, "hold", db, "c", 10);
        const [a, b] = await Promise.all([first, second]);
        expect(b.start).toBeGreaterThanOrEqual(a.end);
      } finally {
        await other.close();
      }
    });

    it("schema versions across tabs: a blocked upgrade is surfaced, a newer version elsewhere is let through", async () => {
      const blocked = await call(main, "blockedUpgrade", `blocked-${Date.now()}`);
      expect(blocked).toEqual({ blocked: 1, isBlockedError: true, isStorageError: true, after: 0 });
      const newer = await call(main, "newerVersion", `newer-${Date.now()}`);
      expect(newer.blocked).toBe(false);
      expect(newer.isStorageError).toBe(true);
      expect(newer.message).toMatch(/reload the page/);
    });

    it("a database written by schema version 2 (raw IndexedDB, with an image) migrates to trees: records intact, the path, its images, new versions", async () => {
      const seen = await call(main, "migrateV2", `v2-${Date.now()}`);
      const { hash } = seen;
      expect(seen.listed).toEqual(["cats", "trip", "empty"]);
      // On disk: version 3; each conversation a line with its last message active; nothing else changed.
      expect(seen.migrated.version).toBe(3);
      expect(seen.migrated.conversations.map((c) => [c.id, c.activeLeaf ?? null])).toEqual([
        ["cats", "c1"],
        ["empty", null],
        ["trip", "a2"],
      ]);
      expect(seen.migrated.messages.map((r) => [r.conversationId, r.seq, r.message.id, r.message.parentId ?? null, r.images])).toEqual([
        ["cats", 0, "c1", null, [hash]],
        ["trip", 0, "u1", null, [hash]],
        ["trip", 1, "a1", "u1", []],
        ["trip", 3, "u2", "a1", []],
        ["trip", 4, "a2", "u2", []],
      ]);
      expect(seen.migrated.messages[3]!.message).toEqual({ id: "u2", role: "user", createdAt: 103, content: "and this?", pinned: true, parentId: "a1" });
      expect(seen.migrated.images).toEqual([hash]);
      expect(seen.trip).toEqual({
        id: "trip",
        title: "Trip",
        model: "m",
        createdAt: 100,
        updatedAt: 300,
        messageCount: 4,
        usage: { promptTokens: 5, completionTokens: 1, cost: 0.01 },
        calibration: { text: 1.1, image: 0.9, samples: 2 },
        activeLeaf: "a2",
      });

      // Through the store: the path, paged over the seq gap, with the image's bytes (in both conversations).
      expect(seen.path).toEqual([
        ["u1", null],
        ["a1", "u1"],
        ["u2", "a1"],
        ["a2", "u2"],
      ]);
      expect(seen.before).toBeNull();
      expect(seen.bytes).toEqual({ u1: true, c1: true });

      // The tree on migrated data: a new version, a switch back, an edit, a removed branch.
      expect(seen.regenerated).toMatchObject({ messageCount: 5, activeLeaf: "a2b", forks: { u2: ["a2", "a2b"] } });
      expect(seen.newPath.map(([id]) => id)).toEqual(["u1", "a1", "u2", "a2b"]);
      expect(seen.switched).toBe("a2");
      expect(seen.oldPath.map(([id]) => id)).toEqual(["u1", "a1", "u2", "a2"]);
      expect(seen.afterRemoval.meta).toMatchObject({ messageCount: 1, activeLeaf: "u1b" });
      expect(seen.afterRemoval.meta?.forks).toBeUndefined();
      expect(seen.afterRemoval.path).toEqual([["u1b", null]]);
      // u1's image is still used by the other conversation; gone with it.
      expect(seen.afterRemoval.images).toEqual([hash]);
      expect(seen.imagesAtEnd).toEqual([]);
    });

    it("requestPersistentStorage resolves a boolean in a real page", async () => {
      expect(typeof (await call(main, "persist"))).toBe("boolean");
    });

    it("a tab closed mid-stream: reopened, the partial reply is there, marked interrupted", async () => {
      const db = `crash-${Date.now()}`;
      const tab = await openPage();
      const id = await call(tab, "startChat", db);
      // Wait for a few throttled writes of the streaming reply to reach the disk.
      let partial: Awaited<ReturnType<PageApi["stored"]>> = [];
      for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
        partial = await call(main, "stored", db, id);
        if (partial[1] && String(partial[1].content).split(" ").length > 8) break;
      }
      expect(partial[1]?.status).toBe("streaming");
      await tab.close();
      const stream = streams.at(-1)!;
      await expect.poll(() => stream.closed).toBe(true);

      const reopened = await openPage();
      try {
        const { inMemory, onDisk } = await call(reopened, "reopen", db, id);
        expect(inMemory.map((m) => [m.role, m.status])).toEqual([
          ["user", undefined],
          ["assistant", "interrupted"],
        ]);
        expect(inMemory[0]!.content).toBe("Tell me a long story");
        const text = String(inMemory[1]!.content);
        // Some of the reply, in order, and no more than the server sent.
        expect(text.length).toBeGreaterThanOrEqual(String(partial[1]!.content).length);
        expect(stream.sent.join("").startsWith(text)).toBe(true);
        expect(text.length).toBeLessThan(stream.sent.join("").length + 1);
        // The "interrupted" mark is written back, so every tab sees it.
        expect(onDisk).toEqual(inMemory);
      } finally {
        await reopened.close();
      }
    });

    it("logged no page errors", () => {
      expect(pageErrors).toEqual([]);
    });
  });
}
