import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, resolve } from "node:path";
import { build, type LogLevel, type Plugin } from "vite";
import { defineConfig } from "vitest/config";

/** Public entry points: one per subpath export in package.json. */
export const entries = {
  index: "src/index.ts",
  "sse/index": "src/sse/index.ts",
  "store/idb/index": "src/store/idb/index.ts",
  "store/durable-object/index": "src/store/durable-object/index.ts",
  "store/deno-kv/index": "src/store/deno-kv/index.ts",
  "relay/index": "src/relay/index.ts",
  "tools/index": "src/tools/index.ts",
  "structured/index": "src/structured/index.ts",
  "tokens/llama3": "src/tokens/llama3.ts",
  browser: "src/browser.ts",
};

/** Runtime and peer dependencies, from package.json (a subpath of one too: `@valibot/to-json-schema/…`). */
const manifest = JSON.parse(readFileSync(new URL("package.json", import.meta.url), "utf8")) as Record<string, Record<string, string> | undefined>;
const names = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies });
const dependencies = (id: string) => names.some((name) => id === name || id.startsWith(`${name}/`));

/** The library build's entries: all but the browser file, which inlines its dependencies (browserBuild below). */
const libraryEntries = Object.fromEntries(Object.entries(entries).filter(([name]) => name !== "browser"));

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

/**
 * dist/browser/edgechat.js, for a page with no build step: edgechat and edgechat/idb (src/browser.ts) in one
 * minified ES module, valibot and idb inlined, no chunk (Conversation.fromJSON's lazily loaded validator is in it
 * anyway: the memory store imports it). One file rather than one per entry, measured (issue 16): 83.9 KB, 29.8 KB
 * gzip. Split, the IndexedDB half shares internals with the core (the tree rules, the codec, the validator), so
 * rolldown makes four files: a page without IndexedDB would load 26.7 KB of them, a persistent page 32.0 KB.
 * Written under the library build's outDir, so the size test's temporary builds make it too.
 */
function browserBuild(): Plugin {
  let root = process.cwd();
  let outDir = "dist";
  let logLevel: LogLevel = "info";
  let version = "";
  return {
    name: "edgechat:browser-build",
    apply: "build",
    configResolved(config) {
      root = config.root;
      outDir = resolve(config.root, config.build.outDir);
      logLevel = config.logLevel ?? "info";
      ({ version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string });
    },
    async closeBundle() {
      await build({
        configFile: false,
        envDir: false,
        root,
        logLevel,
        plugins: [forbidNodeBuiltins],
        build: {
          target: "es2022",
          outDir: join(outDir, "browser"),
          emptyOutDir: true,
          copyPublicDir: false,
          minify: true,
          sourcemap: false,
          lib: { entry: resolve(root, entries.browser), formats: ["es"], fileName: () => "edgechat.js" },
          rolldownOptions: {
            output: {
              codeSplitting: false,
              // Whitespace too, and no comments: vite's library mode keeps both for an ES module a bundler reads again.
              minify: true,
              comments: false,
              postBanner: `/*! edgechat ${version} (MIT): edgechat and edgechat/idb for browsers, with valibot (MIT) and idb (ISC) inlined */`,
            },
          },
        },
      });
    },
  };
}

export default defineConfig({
  plugins: [forbidNodeBuiltins, emitDeclarations, browserBuild()],
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    minify: false,
    sourcemap: false,
    lib: { entry: libraryEntries, formats: ["es"], fileName: (_format, name) => `${name}.js` },
    rollupOptions: {
      // What the package depends on is imported, never copied into dist/: npm installs it once, beside the app's own.
      external: dependencies,
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
