#!/usr/bin/env node
// Size of edgechat/idb, min+gzip, measured the way an app bundles it: vite (rolldown) bundles a tiny entry with
// every dependency (idb, valibot, shared src modules), then oxc minifies it fully (vite's lib mode leaves
// whitespace in ES output, which is not what an app ships). Run: node test/store/idb/size.mjs
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build, minify } from "vite";

const root = new URL("../../..", import.meta.url).pathname;
const src = (path) => JSON.stringify(join(root, "src", path));
const entries = {
  "edgechat/idb alone (createIndexedDBStore + requestPersistentStorage, with idb, valibot and shared src)": `export { createIndexedDBStore, requestPersistentStorage } from ${src("store/idb/index.ts")};`,
  "idb alone (openDB, as the store uses it)": `export { openDB } from "idb";`,
  "an app using edgechat without a store (createClient, Conversation)": `export { createClient } from ${src("client/client.ts")}; export { Conversation } from ${src("conversation/conversation.ts")};`,
  "the same app with edgechat/idb": `export { createClient } from ${src("client/client.ts")}; export { Conversation } from ${src("conversation/conversation.ts")}; export { createIndexedDBStore } from ${src("store/idb/index.ts")};`,
};

const dir = mkdtempSync(join(tmpdir(), "idb-size-"));
const sizes = {};
try {
  for (const [label, code] of Object.entries(entries)) {
    const entry = join(dir, `${Object.keys(sizes).length}.ts`);
    writeFileSync(entry, code);
    const out = await build({
      configFile: false,
      logLevel: "silent",
      root,
      resolve: { alias: { idb: join(root, "node_modules/idb/build/index.js"), valibot: join(root, "node_modules/valibot/dist/index.mjs") } },
      build: { write: false, minify: false, target: "es2022", lib: { entry, formats: ["es"], fileName: "x" } },
    });
    const bundled = [out].flat()[0].output.filter((o) => o.type === "chunk").map((o) => o.code).join("\n");
    const min = (await minify("x.js", bundled, { compress: true, mangle: true })).code;
    sizes[label] = { min: min.length, gzip: gzipSync(min, { level: 9 }).length };
    console.log(`${String(sizes[label].gzip).padStart(6)} B min+gzip  ${String(min.length).padStart(6)} B min  ${label}`);
  }
  const [, , without, withIdb] = Object.values(sizes);
  console.log(`${String(withIdb.gzip - without.gzip).padStart(6)} B min+gzip  added to an app by edgechat/idb (the difference of the last two)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
