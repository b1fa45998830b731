// Package gates on what `npm pack` ships: its file list, exports, publint, arethetypeswrong, consumer
// type-checks (tsc with "bundler" and "nodenext", and Deno), and two of the three no-Node layers
// (the build guard, and a scan of the packed files). The first layer, tsc on src/ without Node types,
// is `tsc -p tsconfig.json` in test/run.mjs.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import { build, loadConfigFromFile, type Plugin } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PackedPackage, preparePackage, ROOT, walk } from "../shared/pack.mjs";
import { consumerSource, internalsSource } from "./consumer-fixture.ts";

const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);
const run = (command: string, args: string[], cwd: string) => {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ? String(result.error) : ""}` };
};

let pkg: PackedPackage;
beforeAll(async () => {
  pkg = await preparePackage();
});

describe("the packed tarball", () => {
  it("ships dist/ (JS and .d.ts), README.md, LICENSE and package.json: no sources, no source maps", () => {
    const stray = pkg.files.filter((f) => !(/^dist\/.+\.(js|d\.ts)$/.test(f) || ["README.md", "LICENSE", "package.json"].includes(f)));
    expect(stray).toEqual([]);
    expect(pkg.files).toContain("dist/index.js");
  });

  it("every subpath in exports resolves to a built ES module with its types, and Node imports it by name", () => {
    const subpaths = Object.entries(pkg.manifest.exports).filter(([key]) => key !== "./package.json");
    expect(subpaths.length).toBeGreaterThan(0);
    for (const [key, target] of subpaths) {
      expect(typeof target, `exports["${key}"] is a conditions object`).toBe("object");
      const conditions = target as Record<string, string>;
      expect(Object.keys(conditions)[0], `exports["${key}"]: types first`).toBe("types");
      expect(conditions.types, `exports["${key}"].types`).toMatch(/^\.\/dist\/.+\.d\.ts$/);
      expect(conditions.default, `exports["${key}"].default`).toMatch(/^\.\/dist\/.+\.js$/);
      expect(existsSync(join(pkg.packageDir, conditions.types!)), `${conditions.types} is packed`).toBe(true);
      expect(existsSync(join(pkg.packageDir, conditions.default!)), `${conditions.default} is packed`).toBe(true);

      const specifier = key === "." ? pkg.name : `${pkg.name}/${key.slice(2)}`;
      const probe = run(
        process.execPath,
        ["--input-type=module", "-e", `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m)))`],
        pkg.consumer,
      );
      expect(probe.status, `node imports ${specifier}:\n${probe.output}`).toBe(0);
      const names = JSON.parse(probe.output) as string[];
      expect(names.length, `${specifier} exports something`).toBeGreaterThan(0);
      expect(names, `${specifier}: named exports only`).not.toContain("default");
    }
  });

  // A dependency is declared and imported (installed once, shared with the app: one valibot, one global state), or
  // inlined and not declared; never both, which ships a copy under dist/node_modules/ and installs the package beside
  // it. dist/browser/ inlines its dependencies on purpose (one file for a page with no build step): not counted.
  it("imports every dependency it declares, none copied into dist/", () => {
    const library = pkg.files.filter((f) => f.endsWith(".js") && !f.startsWith("dist/browser/"));
    expect(library.filter((f) => f.includes("node_modules/")), "dependencies copied into the tarball").toEqual([]);
    const imported = new Set<string>();
    const specifiers = /^(?:import|export)\b[^;]*?\bfrom\s*["']([^"'./][^"']*)["']|\bimport\(\s*["']([^"'./][^"']*)["']\s*\)/gm;
    for (const file of library) {
      for (const m of readFileSync(join(pkg.packageDir, file), "utf8").matchAll(specifiers)) {
        const specifier = (m[1] ?? m[2])!;
        imported.add(specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/"));
      }
    }
    const declared = Object.keys({ ...pkg.manifest.dependencies, ...pkg.manifest.peerDependencies });
    expect(declared.filter((dep) => !imported.has(dep)), "declared but never imported").toEqual([]);
  });

  it("publint finds nothing, suggestions included (strict)", async () => {
    const bytes = readFileSync(pkg.tarball);
    const result = await publint({ pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer }, level: "suggestion", strict: true });
    expect(result.messages.map((m) => `${m.type}: ${formatMessage(m, result.pkg, { color: false })}`)).toEqual([]);
  });

  // ESM only: "exports" has no "require" condition, so two resolution modes cannot apply. node16 from CJS
  // reaches an ES module (CJSResolvesToESM: fine, Node >= 20.19 can require(esm), and `import()` always
  // works), and node10 ignores "exports", so subpaths cannot resolve there (NoResolution). The esm-only
  // profile ignores exactly those two modes; everything else (bundler, node16 from ESM) must be clean.
  it("arethetypeswrong is clean with --profile esm-only, and nothing else is reported", () => {
    const result = run(bin("attw"), [pkg.tarball, "--profile", "esm-only", "--format", "json"], pkg.dir);
    const report = JSON.parse(result.output.slice(result.output.indexOf("{"))) as { problems?: Record<string, { resolutionKind?: string }[]> };
    const problems = Object.values(report.problems ?? {}).flat();
    expect(problems.filter((p) => !["node10", "node16-cjs"].includes(p.resolutionKind ?? "")), result.output).toEqual([]);
    expect(result.status, result.output).toBe(0);
  });
});

describe("consumers type-check against the packed types", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(pkg.consumer, ".types-"));
    writeFileSync(join(dir, "consumer.ts"), consumerSource);
    writeFileSync(join(dir, "internals.ts"), internalsSource);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const strict = { strict: true, noEmit: true, skipLibCheck: false, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, verbatimModuleSyntax: true };
  const setups: [string, Record<string, unknown>][] = [
    ['moduleResolution "bundler" (a bundled app)', { target: "ES2022", module: "ESNext", moduleResolution: "Bundler", lib: ["ES2022", "DOM", "DOM.Iterable"], types: [] }],
    ['moduleResolution "nodenext" (Node ESM, DOM lib)', { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2022", "DOM", "DOM.Iterable"], types: [] }],
  ];
  for (const [name, options] of setups) {
    it(`tsc, ${name}`, () => {
      const config = join(dir, `tsconfig.${name.replace(/\W+/g, "-")}.json`);
      writeFileSync(config, JSON.stringify({ compilerOptions: { ...strict, ...options }, files: ["consumer.ts", "internals.ts"] }));
      const result = run(bin("tsc"), ["-p", config], dir);
      expect(result.output).toBe("");
      expect(result.status).toBe(0);
    });
  }

  // A Node server project often has no DOM lib, only @types/node: the published .d.ts must not name DOM-only
  // types such as `HeadersInit` (TS2304 there, or silently `any` under skipLibCheck).
  it('tsc, moduleResolution "nodenext" with @types/node and no DOM lib', () => {
    const config = join(dir, "tsconfig.node-types-only.json");
    const options = { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2022"], types: ["node"] };
    writeFileSync(config, JSON.stringify({ compilerOptions: { ...strict, ...options }, files: ["consumer.ts", "internals.ts"] }));
    const result = run(bin("tsc"), ["-p", config], dir);
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });

  const deno = process.env.DENO_BIN ?? bin("deno");
  const denoMissing = existsSync(deno) ? undefined : `${deno} does not exist: run npm ci (deno comes from the optional dependency @deno/linux-x64-glibc)`;
  it("deno check, resolving edgechat from node_modules", () => {
    if (denoMissing) throw new Error(`${denoMissing}: a missing runtime is a failure, not a skip`);
    writeFileSync(join(dir, "deno.json"), JSON.stringify({ nodeModulesDir: "manual", lock: false }));
    const result = run(deno, ["check", "--quiet", "--config", join(dir, "deno.json"), "consumer.ts"], dir);
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });
});

describe("no Node APIs in the package", () => {
  it("the library build fails on a Node built-in import (the forbid-node-builtins plugin of vite.config.ts)", async () => {
    const loaded = await loadConfigFromFile({ command: "build", mode: "production" }, join(ROOT, "vite.config.ts"), ROOT, "silent");
    const guard = (loaded?.config.plugins ?? []).flat().find((p): p is Plugin => !!p && typeof p === "object" && "name" in p && p.name === "edgechat:forbid-node-builtins");
    expect(guard, "vite.config.ts has the edgechat:forbid-node-builtins plugin").toBeDefined();

    const dir = mkdtempSync(join(tmpdir(), "edgechat-no-node-"));
    try {
      writeFileSync(join(dir, "uses-node-fs.ts"), `import { readFileSync } from "node:fs";\nexport const read = () => readFileSync("x");\n`);
      writeFileSync(join(dir, "uses-path.ts"), `import { join } from "path";\nexport const joined = join("a", "b");\n`);
      writeFileSync(join(dir, "clean.ts"), `export const get = () => fetch("https://example.com");\n`);
      const attempt = (entry: string, plugins: Plugin[]) =>
        build({
          configFile: false,
          root: dir,
          logLevel: "silent",
          plugins,
          build: { write: false, lib: { entry: join(dir, entry), formats: ["es"], fileName: "out" } },
        });
      await expect(attempt("uses-node-fs.ts", [guard!])).rejects.toThrow(/Node built-in "node:fs"/);
      await expect(attempt("uses-path.ts", [guard!])).rejects.toThrow(/Node built-in "path"/);
      await expect(attempt("clean.ts", [guard!])).resolves.toBeDefined();
      // Without the guard vite only warns and stubs the module ("externalized for browser compatibility").
      await expect(attempt("uses-node-fs.ts", [])).resolves.toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the packed JavaScript mentions no process, Buffer, require( or node: module", () => {
    const forbidden = /from\s*["']node:|import\s*\(\s*["']node:|__vite-browser-external|\brequire\(|\bprocess\.|\bBuffer\b/;
    const hits: string[] = [];
    const files = walk(pkg.packageDir).filter((f) => f.endsWith(".js"));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      readFileSync(join(pkg.packageDir, file), "utf8")
        .split("\n")
        .forEach((line, i) => forbidden.test(line) && hits.push(`${file}:${i + 1}: ${line.trim()}`));
    }
    expect(hits).toEqual([]);
  });
});
