// The packed package in real workerd, through miniflare from Node, with no nodejs_compat: a Node API
// anywhere in the package fails here. The Worker (worker.js) is bundled with vite's JS API from a copy
// placed inside the consumer project, so `edgechat` resolves to the installed tarball.
import { cpSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Miniflare as MiniflareType } from "miniflare";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BehaviourResult } from "../shared/behaviours.js";
import { serveWeb, type WebServer } from "../shared/node-server.ts";
import { preparePackage, ROOT, resolveExport } from "../shared/pack.mjs";
import { registerBehaviours, remoteError } from "../shared/register.ts";
import { runtimeAvailable } from "../shared/runtime-available.ts";
import { createUpstream } from "../shared/upstream.js";

const miniflare = await import("miniflare").catch(() => undefined);
const HERE = import.meta.dirname;

if (runtimeAvailable("workerd", miniflare ? undefined : "the miniflare package is not installed", "npm ci (miniflare 4.20260426.0 is a devDependency; workerd comes with it as @cloudflare/workerd-linux-64)")) {
  describe("Cloudflare Workers (workerd): the packed package in a Worker", () => {
    let server: WebServer;
    let mf: MiniflareType;
    let bundleDir: string;
    let bundled: string[] = [];
    let packedFile: (path: string) => string;
    let sse: { parseSSE(body: ReadableStream<Uint8Array>): AsyncIterable<{ event: string; data: string }> };

    beforeAll(async () => {
      const pkg = await preparePackage();
      sse = await import(pathToFileURL(resolveExport(pkg.packageDir, "./sse", ["node", "import"])).href);
      // The Worker's sources go inside the consumer project, so bare imports resolve through its node_modules.
      bundleDir = mkdtempSync(join(pkg.consumer, ".worker-"));
      cpSync(join(HERE, "worker.js"), join(bundleDir, "workers", "worker.js"));
      cpSync(join(HERE, "../shared"), join(bundleDir, "shared"), { recursive: true, filter: (src) => !src.endsWith(".ts") });
      const output = await build({
        configFile: false,
        root: bundleDir,
        logLevel: "warn",
        publicDir: false,
        resolve: { conditions: ["workerd", "worker", "browser"] }, // wrangler's conditions
        build: {
          outDir: join(bundleDir, "dist"),
          target: "es2022",
          minify: false,
          lib: { entry: join(bundleDir, "workers", "worker.js"), formats: ["es"], fileName: () => "worker.js" },
        },
      });

      // What went into the bundle, as rolldown resolved it (real paths).
      for (const out of [output].flat()) {
        if ("output" in out) for (const item of out.output) if (item.type === "chunk") bundled.push(...item.moduleIds);
      }
      packedFile = (path) => realpathSync(join(pkg.packageDir, path));

      server = await serveWeb(createUpstream().handle);
      mf = new miniflare!.Miniflare({
        modules: true,
        scriptPath: join(bundleDir, "dist", "worker.js"),
        modulesRoot: join(bundleDir, "dist"),
        // The bundle may have chunks (Conversation.fromJSON loads its validator with a dynamic import): ES modules,
        // as wrangler and the Cloudflare Vite plugin deploy them (miniflare's default reads other .js as CommonJS).
        modulesRules: [{ type: "ESModule", include: ["**/*.js"] }],
        compatibilityDate: "2026-04-01", // not after the workerd build (miniflare 4.20260426.0): no nodejs_compat
        bindings: { UPSTREAM: server.origin },
      });
      await mf.ready;
    });

    afterAll(async () => {
      await mf?.dispose();
      await server?.close();
      if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
    });

    it("bundles the packed files (edgechat, edgechat/sse, edgechat/tools, edgechat/structured), not the sources", () => {
      for (const path of ["dist/index.js", "dist/sse/index.js", "dist/tools/index.js", "dist/structured/index.js"]) expect(bundled).toContain(packedFile(path));
      expect(bundled.filter((id) => id.startsWith(join(ROOT, "src")))).toEqual([]);
      expect(bundled.some((id) => id.includes("/node_modules/valibot/"))).toBe(true);
    });

    it("runs in a plain Worker: no process, Buffer, require or indexedDB", async () => {
      const res = await mf.dispatchFetch("http://worker.test/globals");
      expect(await res.json()).toEqual({ process: "undefined", Buffer: "undefined", require: "undefined", indexedDB: "undefined" });
    });

    registerBehaviours("workers", async (behaviour) => {
      const res = await mf.dispatchFetch(`http://worker.test/run/${encodeURIComponent(behaviour.name)}`);
      const text = await res.text();
      let result: BehaviourResult;
      try {
        result = JSON.parse(text) as BehaviourResult;
      } catch {
        throw new Error(`the Worker answered ${res.status}: ${text}`);
      }
      if (!result.ok) throw remoteError("workerd", result.error);
    });

    const id = () => `relay-${Math.random().toString(36).slice(2, 10)}`;

    it("relays a stream to its client incrementally: the upstream sends event 2 only after the test has seen event 1", async () => {
      const call = id();
      const res = await mf.dispatchFetch(`http://worker.test/relay/lockstep/${call}`);
      expect(res.headers.get("content-type")).toBe("text/event-stream");
      expect(res.headers.get("content-encoding")).toBeNull();
      const seen: string[] = [];
      let done = false;
      for await (const event of sse.parseSSE(res.body as ReadableStream<Uint8Array>)) {
        if (event.data === "[DONE]") {
          done = true;
          continue;
        }
        const text = JSON.parse(event.data).choices[0]?.delta?.content;
        if (!text) continue;
        seen.push(text);
        // Only now may the upstream go on: if the Worker (or workerd) buffered, event 1 would never get here in time.
        if (seen.length === 1) await fetch(`${server.origin}/release/${call}`, { method: "POST" });
      }
      expect(seen).toEqual(["Hel", "lo", " world"]);
      expect(done).toBe(true);
    });

    /** Read the relayed stream until the first text, then go away (breaking out cancels the body). */
    async function leaveAfterFirstText(scenario: string): Promise<boolean> {
      const call = id();
      const res = await mf.dispatchFetch(`http://worker.test/relay/${scenario}/${call}`);
      for await (const event of sse.parseSSE(res.body as ReadableStream<Uint8Array>)) {
        if (JSON.parse(event.data).choices[0]?.delta?.content === "Hel") break;
      }
      return ((await (await fetch(`${server.origin}/closed/${call}`)).json()) as { closed: boolean }).closed;
    }

    it("a client that leaves mid-relay cancels the Worker's upstream request (while tokens flow)", async () => {
      expect(await leaveAfterFirstText("trickle")).toBe(true);
    });

    // workerd never calls cancel() on a response body when the client disconnects: it notices only when it
    // next writes to the client, then tears the request down (closing its subrequests). So toSSEStream()
    // forwards the upstream's keep-alive comments: the write that fails is what closes the upstream request.
    it("a client that leaves mid-relay cancels the Worker's upstream request while the model is silent (keep-alives only)", async () => {
      expect(await leaveAfterFirstText("hold")).toBe(true);
    });
  });
}
