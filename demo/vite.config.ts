// The demo page: `npm run demo` serves it with this config (demo/serve.mjs), `npm run demo:build` builds it.
// The page imports the SDK from source through aliases, exactly the subpaths a user imports from the package.
import { defineConfig } from "vite";

const here = (path: string) => decodeURIComponent(new URL(path, import.meta.url).pathname);
const src = (path: string) => here(`../src/${path}`);

export default defineConfig({
  root: here("."),
  base: "./",
  cacheDir: here("../node_modules/.vite/demo"),
  // Pre-bundled at start, so the dev server never reloads the page on discovering them (tests would see that).
  optimizeDeps: { include: ["idb", "valibot", "@valibot/to-json-schema"] },
  resolve: {
    alias: [
      { find: /^edgechat$/, replacement: src("index.ts") },
      { find: /^edgechat\/idb$/, replacement: src("store/idb/index.ts") },
      { find: /^edgechat\/sse$/, replacement: src("sse/index.ts") },
      { find: /^edgechat\/tools$/, replacement: src("tools/index.ts") },
    ],
  },
  server: {
    // serve.mjs points this at the Worker it started; the page then calls its own origin (no CORS).
    proxy: {},
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    reportCompressedSize: true,
    assetsInlineLimit: 0,
    // edgechat/idb's import and Conversation.fromJSON load JSON validation lazily, so an app that never reads a
    // document stays small; where a chunk of this page needs it up front the lazy import is moot — expected.
    rolldownOptions: { checks: { ineffectiveDynamicImport: false } },
  },
});
