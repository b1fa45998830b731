import { execFileSync } from "node:child_process";
import { builtinModules } from "node:module";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

/** Public entry points: one per subpath export in package.json. */
export const entries = {
  index: "src/index.ts",
  "sse/index": "src/sse/index.ts",
  "store/idb/index": "src/store/idb/index.ts",
  "store/durable-object/index": "src/store/durable-object/index.ts",
  "store/deno-kv/index": "src/store/deno-kv/index.ts",
  "relay/index": "src/relay/index.ts",
  "tokens/llama3": "src/tokens/llama3.ts",
};

/** The library must run where Node does not: fail the build on any Node built-in import. */
const forbidNodeBuiltins: Plugin = {
  name: "edgechat:forbid-node-builtins",
  apply: "build",
  enforce: "pre",
  resolveId(id, importer) {
    if (id.startsWith("node:") || builtinModules.includes(id)) {
      this.error(`Node built-in "${id}" imported by ${importer ?? "an entry"}: src/ must run without Node APIs`);
    }
  },
};

/** Declarations come from tsc (TS 7 has no compiler API for a dts plugin); same tsconfig as type-checking. */
const emitDeclarations: Plugin = {
  name: "edgechat:declarations",
  apply: "build",
  closeBundle() {
    execFileSync(
      "node_modules/.bin/tsc",
      ["-p", "tsconfig.json", "--noEmit", "false", "--declaration", "--emitDeclarationOnly", "--rootDir", "src", "--outDir", "dist"],
      { stdio: "inherit" },
    );
  },
};

export default defineConfig({
  plugins: [forbidNodeBuiltins, emitDeclarations],
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    minify: false,
    sourcemap: false,
    lib: { entry: entries, formats: ["es"], fileName: (_format, name) => `${name}.js` },
    rollupOptions: {
      external: ["valibot", "idb", "llama3-tokenizer-js"],
      // One file per source module, as in src/: an app's bundler then drops what it does not use (e.g. the
      // conversation-import schemas from an app that only streams), which one chunk per entry would not allow.
      output: { preserveModules: true, preserveModulesRoot: "src", entryFileNames: "[name].js" },
    },
  },
  test: {
    testTimeout: 15_000,
    hookTimeout: 60_000,
    projects: [
      {
        // Unit and behaviour tests on Node's own fetch and streams: happy-dom's fetch differs from the
        // platform's and enforces CORS, so files that need a DOM opt in with `@vitest-environment happy-dom`.
        extends: true,
        test: {
          name: "node",
          environment: "node",
          include: ["test/**/*.test.ts"],
          exclude: ["test/runtimes/**", "test/bench/**", "test/**/chromium/**", "test/demo/page*.test.ts"],
        },
      },
      // Real runtimes (see test/runtimes/README.md). Deno runs through `deno test`, outside vitest.
      {
        extends: true,
        test: {
          name: "chromium",
          environment: "node",
          include: ["test/runtimes/chromium/**/*.test.ts", "test/**/chromium/**/*.test.ts", "test/demo/page*.test.ts"],
          fileParallelism: false,
        },
      },
      ...["node-runtime", "workers", "package"].map((name) => ({
        extends: true as const,
        test: { name, environment: "node", include: [`test/runtimes/${name.replace("-runtime", "")}/**/*.test.ts`], fileParallelism: false },
      })),
    ],
  },
});
