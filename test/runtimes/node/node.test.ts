// The packed package on Node's own fetch and web streams (vitest environment "node", not happy-dom):
// `edgechat` is resolved by Node's ESM resolver from a consumer project where the `npm pack` tarball
// is installed, and imported natively. The upstream is the shared web handler behind node:http.
import { execFileSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assert } from "../shared/assert.js";
import type { BehaviourContext } from "../shared/behaviours.js";
import { serveWeb, type WebServer } from "../shared/node-server.ts";
import { preparePackage, resolveExport } from "../shared/pack.mjs";
import { registerBehaviours } from "../shared/register.ts";
import { createUpstream } from "../shared/upstream.js";

const pkg = await preparePackage();

/** What `import "<specifier>"` in the consumer project resolves to, asked of Node itself. */
const nodeResolve = (specifier: string): string =>
  execFileSync(process.execPath, ["--input-type=module", "-e", `console.log(import.meta.resolve(${JSON.stringify(specifier)}))`], {
    cwd: pkg.consumer,
    encoding: "utf8",
  }).trim();

const urls = {
  sdk: nodeResolve("edgechat"),
  sse: nodeResolve("edgechat/sse"),
  tools: nodeResolve("edgechat/tools"),
  structured: nodeResolve("edgechat/structured"),
  valibot: nodeResolve("valibot"),
  copy: nodeResolve("edgechat-copy"),
};
const sdk = await import(urls.sdk);
const sse = await import(urls.sse);
const tools = await import(urls.tools);
const structured = await import(urls.structured);
// The schemas' library as the consumer gets it: the package's own dependency, not this repository's import.
const v = await import(urls.valibot);
// The tarball installed a second time: a second copy of the package, as nested node_modules give.
const sdkCopy = await import(urls.copy);

let server: WebServer;
let t: BehaviourContext;
beforeAll(async () => {
  server = await serveWeb(createUpstream().handle);
  t = { sdk, sse, tools, structured, v, sdkCopy, base: server.origin, runtime: "node", assert };
});
afterAll(() => server?.close());

describe("Node: the packed package", () => {
  it("is loaded from the installed tarball through its exports, on Node's own fetch", () => {
    const packed = (path: string) => pathToFileURL(realpathSync(join(pkg.packageDir, path))).href;
    expect(urls.sdk).toBe(packed("dist/index.js"));
    expect(urls.sse).toBe(packed("dist/sse/index.js"));
    expect(urls.tools).toBe(packed("dist/tools/index.js"));
    expect(urls.structured).toBe(packed("dist/structured/index.js"));
    const dependency = join(pkg.consumer, "node_modules", "valibot");
    expect(urls.valibot).toBe(pathToFileURL(realpathSync(resolveExport(dependency, ".", ["node", "import"]))).href);
    expect(typeof (globalThis as { window?: unknown }).window).toBe("undefined");
    expect(fetch.name).toBe("fetch"); // happy-dom's is "bound bound fetch"
    expect(sdkCopy.createClient).not.toBe(sdk.createClient);
  });

  registerBehaviours("node", (behaviour) => behaviour.run(t));
});
