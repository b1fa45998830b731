// Every TypeScript block in the README type-checks against the real API (src/, through the package's own
// names: edgechat, edgechat/sse, edgechat/idb, …), so the README cannot use a property the code does not have.
// Free variables a snippet takes for granted (a token, a file, an element) are declared in a small prelude.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
const DIR = join(ROOT, ".ci-out", `readme-${process.pid}`);
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const PRELUDE = `
declare const DEEPINFRA_TOKEN: string;
declare const model: string;
declare const messages: import("edgechat").ChatMessage[];
declare const client: import("edgechat").Client;
declare const file: File;
declare const output: HTMLElement;
declare const response: Response;
declare const signal: AbortSignal;
declare const onComment: (text: string) => void;
declare const onRetry: (ms: number) => void;
declare const maxBufferSize: number;
declare const userId: string;
declare const env: { CONVERSATIONS: { idFromName(name: string): unknown; get(id: unknown): import("edgechat/durable-object").ConversationStoreStub } };
declare function refreshSidebar(id: string, kind: string): void;
declare const id: string;
declare const note: HTMLElement;
declare function render(message: import("edgechat").Message): void;
declare function show(value: unknown): void;
`;

/** Workers' own module, as @cloudflare/workers-types would declare it (not installed). */
const AMBIENT = `declare module "cloudflare:workers" { export class DurableObject<Env = unknown> { constructor(ctx: unknown, env: Env); } }\n`;

/** The prelude without the names this snippet declares itself. */
function preludeFor(code: string): string {
  return PRELUDE.split("\n")
    .filter((line) => {
      const name = /^declare (?:const|function) (\w+)/.exec(line)?.[1];
      return !name || !new RegExp(`\\b(?:const|let|var|function|class)\\s+${name}\\b|import[^;]*\\b${name}\\b`).test(code);
    })
    .join("\n");
}

function blocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

it("every ts block in README.md type-checks against the package", () => {
  const snippets = blocks(readFileSync(join(ROOT, "README.md"), "utf8"));
  expect(snippets.length).toBeGreaterThan(8);
  mkdirSync(DIR, { recursive: true });
  const files = snippets.map((code, i) => {
    const file = join(DIR, `snippet-${String(i).padStart(2, "0")}.ts`);
    // Each snippet is its own module; its imports stay at the top, the rest may use top-level await.
    writeFileSync(file, `${preludeFor(code)}\nexport {};\n${code}`);
    return file;
  });
  writeFileSync(join(DIR, "ambient.d.ts"), AMBIENT);
  const paths = {
    edgechat: ["../../src/index.ts"],
    "edgechat/sse": ["../../src/sse/index.ts"],
    "edgechat/idb": ["../../src/store/idb/index.ts"],
    "edgechat/durable-object": ["../../src/store/durable-object/index.ts"],
    "edgechat/deno-kv": ["../../src/store/deno-kv/index.ts"],
    "edgechat/relay": ["../../src/relay/index.ts"],
    "edgechat/tools": ["../../src/tools/index.ts"],
    "edgechat/structured": ["../../src/structured/index.ts"],
    "edgechat/tokenizer/llama3": ["../../src/tokens/llama3.ts"],
  };
  writeFileSync(
    join(DIR, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "ESNext",
        moduleResolution: "Bundler",
        lib: ["ES2022", "DOM", "DOM.Iterable"],
        types: [],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        allowImportingTsExtensions: true,
        paths,
      },
      files: ["ambient.d.ts", ...files.map((f) => f.slice(DIR.length + 1))],
    }),
  );
  const result = spawnSync(join(ROOT, "node_modules/.bin/tsc"), ["-p", join(DIR, "tsconfig.json")], { encoding: "utf8" });
  const report = `${result.stdout}${result.stderr}`.replaceAll(DIR, "README snippet");
  expect(report, snippets.map((s, i) => `--- snippet ${i} ---\n${s}`).join("\n")).toBe("");
  expect(result.status).toBe(0);
}, 60_000);
