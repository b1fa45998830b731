// Dependencies point one way (issue 13): what each folder of src/ may import, checked from the sources' own import
// statements, so a new import that runs backwards fails here instead of in review.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { expect, it } from "vitest";

const SRC = join(import.meta.dirname, "../../src");

/** Folder → the folders it may import (besides itself). The entry files at the root of src/ may import anything. */
const ALLOWED: Record<string, string[]> = {
  errors: [],
  sse: ["errors"],
  client: ["errors", "sse"],
  models: [],
  messages: ["client", "errors"],
  tokens: [],
  images: ["client", "errors", "messages", "models"],
  store: ["errors", "messages"],
  relay: ["sse"],
  conversation: ["client", "errors", "images", "messages", "models", "store", "tokens"],
  schema: ["errors"],
  // Tools and structured output stand above a Conversation: they plug into it (its `tools` option, `sendObject`).
  tools: ["client", "conversation", "errors", "messages", "schema", "structured"],
  structured: ["client", "conversation", "errors", "messages", "schema"],
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

const folderOf = (path: string) => relative(SRC, path).split("/")[0]!;

it("each folder of src/ imports only the folders below it", () => {
  const wrong: string[] = [];
  for (const file of files(SRC)) {
    const from = folderOf(file);
    if (!(from in ALLOWED)) {
      if (relative(SRC, file).includes("/")) wrong.push(`${relative(SRC, file)}: a new folder, not in ALLOWED`);
      continue;
    }
    for (const [, spec] of readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
      const to = folderOf(normalize(join(dirname(file), spec!)));
      if (to !== from && !ALLOWED[from]!.includes(to)) wrong.push(`${relative(SRC, file)} imports ${spec}`);
    }
  }
  expect(wrong).toEqual([]);
});

it("and store/, the layer every store shares, holds no conversation logic: conversation/ uses only its interface and errors", () => {
  const used = new Set<string>();
  for (const file of files(join(SRC, "conversation"))) {
    for (const [, spec] of readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
      const target = relative(SRC, normalize(join(dirname(file), spec!)));
      if (target.startsWith("store/")) used.add(target);
    }
  }
  expect([...used].sort()).toEqual(["store/errors.js", "store/types.js"]);
});
