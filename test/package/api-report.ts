// The API report (etc/api.md): the declared public surface of every entry in package.json's `exports`, written from
// the `.d.ts` files tsc emits (the same command the build runs), so that any change to what the package exports —
// a name, a parameter, a member — shows in review as a diff of that file.
//
// Why not api-extractor: it analyses with the TypeScript it bundles (5.x) and takes one entry per run, so seven
// entries cost seven compiler start-ups; this repository's tsc is the native TS 7, which has no compiler API to
// build on. The .d.ts that tsc prints is regular (one declaration per statement, 4-space indentation), so a small
// statement splitter and a name resolver over it are enough, and take milliseconds after the emit (~1 s).
//
// For each entry the report lists every exported name with its declaration (doc comments stripped: the report is the
// shape, not the prose), sorted by name; then the types those declarations use that the entry does not export:
// those exported by another entry by name, the rest (which a user meets but cannot name) with their declarations.
// It refuses what the surface must not contain: an `@internal` declaration or member a user can reach, a default
// export, a re-export it cannot resolve.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = join(import.meta.dirname, "../..");

interface Statement {
  /** The statement as tsc printed it, doc comment included. */
  text: string;
  /** Without comments, blank lines dropped. */
  code: string;
}

interface Declaration {
  file: string;
  name: string;
  statements: Statement[];
  /** A class, function, const or enum: something that exists at run time. */
  value: boolean;
}

interface Binding {
  /** Where the name comes from: a file of ours, or a package name. */
  from: string;
  /** The name there ("*" for a namespace import). */
  name: string;
}

interface ModuleInfo {
  file: string;
  /** Declarations by local name, exported or not. */
  declarations: Map<string, Declaration>;
  /** Imported local names. */
  imports: Map<string, Binding>;
  /** Exported name → local name (declared here, or imported) or a re-export, and whether it is type-only. */
  exports: Map<string, { local?: string; binding?: Binding; typeOnly: boolean }>;
  /** `export * from` / `export type * from`. */
  stars: { from: string; typeOnly: boolean }[];
}

/** Split a .d.ts into top-level statements: strings, template literals and comments are skipped when counting. */
function statements(source: string): Statement[] {
  const out: Statement[] = [];
  let start = 0;
  let depth = 0;
  let i = 0;
  const push = (end: number) => {
    const text = source.slice(start, end).trim();
    if (text) out.push({ text, code: stripComments(text) });
    start = end;
  };
  const blockHead = /^(?:export\s+)?(?:declare\s+)?(?:abstract\s+)?(?:interface|class|enum|namespace|module|global)\b/;
  while (i < source.length) {
    const c = source[i]!;
    if (c === "/" && source[i + 1] === "/") i = source.indexOf("\n", i) === -1 ? source.length : source.indexOf("\n", i);
    else if (c === "/" && source[i + 1] === "*") i = source.indexOf("*/", i + 2) + 2;
    else if (c === '"' || c === "'" || c === "`") i = endOfString(source, i);
    else {
      if (c === "{" || c === "(" || c === "[") depth++;
      else if (c === "}" || c === ")" || c === "]") {
        depth--;
        if (depth === 0 && c === "}" && blockHead.test(stripComments(source.slice(start, i)).trim())) {
          i++;
          push(i);
          continue;
        }
      } else if (c === ";" && depth === 0) {
        i++;
        push(i);
        continue;
      }
      i++;
    }
  }
  if (source.slice(start).trim()) throw new Error(`Unterminated statement: ${source.slice(start, start + 200)}`);
  return out;
}

function endOfString(source: string, at: number): number {
  const quote = source[at];
  let i = at + 1;
  while (i < source.length && source[i] !== quote) {
    if (source[i] === "\\") i++;
    else if (quote === "`" && source[i] === "$" && source[i + 1] === "{") {
      // A template's ${…}: skip to its closing brace, strings inside included.
      let depth = 1;
      i += 2;
      while (depth > 0 && i < source.length) {
        if (source[i] === '"' || source[i] === "'" || source[i] === "`") i = endOfString(source, i) - 1;
        else if (source[i] === "{") depth++;
        else if (source[i] === "}") depth--;
        i++;
      }
      continue;
    }
    i++;
  }
  return i + 1;
}

/** Comments out, blank lines dropped; strings kept as they are. */
function stripComments(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      i = end === -1 ? text.length : end;
    } else if (c === "/" && text[i + 1] === "*") i = text.indexOf("*/", i + 2) + 2;
    else if (c === '"' || c === "'" || c === "`") {
      const end = endOfString(text, i);
      out += text.slice(i, end);
      i = end;
    } else out += text[i++];
  }
  return out
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== "")
    .join("\n");
}

/** Identifiers a declaration refers to (strings removed; member names are harmless: they resolve to nothing). */
function identifiers(code: string): Set<string> {
  const bare = code.replace(/(["'`])(?:\\.|(?!\1)[^\\])*\1/g, '""');
  return new Set(bare.match(/(?<![.\w$#])[A-Za-z_$][\w$]*/g) ?? []);
}

function parseSpecifiers(list: string): { name: string; as: string; typeOnly: boolean }[] {
  return list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^(type\s+)?([\w$]+)(?:\s+as\s+([\w$]+))?$/.exec(s);
      if (!m) throw new Error(`Unreadable specifier: ${s}`);
      return { typeOnly: Boolean(m[1]), name: m[2]!, as: m[3] ?? m[2]! };
    });
}

function parseModule(file: string, dir: string): ModuleInfo {
  const info: ModuleInfo = { file, declarations: new Map(), imports: new Map(), exports: new Map(), stars: [] };
  const target = (spec: string) => (spec.startsWith(".") ? resolve(dirname(file), spec).replace(/\.js$/, ".d.ts") : spec);
  for (const statement of statements(readFileSync(file, "utf8"))) {
    const code = statement.code.replace(/\s+/g, " ").trim();
    let m: RegExpExecArray | null;
    if ((m = /^import (type )?\{([^}]*)\} from "([^"]+)";$/.exec(code))) {
      for (const s of parseSpecifiers(m[2]!)) info.imports.set(s.as, { from: target(m[3]!), name: s.name });
    } else if ((m = /^import (?:type )?([\w$]+) from "([^"]+)";$/.exec(code))) {
      info.imports.set(m[1]!, { from: target(m[2]!), name: "default" });
    } else if ((m = /^import (?:type )?\* as ([\w$]+) from "([^"]+)";$/.exec(code))) {
      info.imports.set(m[1]!, { from: target(m[2]!), name: "*" });
    } else if ((m = /^export (type )?\{([^}]*)\} from "([^"]+)";$/.exec(code))) {
      for (const s of parseSpecifiers(m[2]!)) info.exports.set(s.as, { binding: { from: target(m[3]!), name: s.name }, typeOnly: Boolean(m[1]) || s.typeOnly });
    } else if ((m = /^export (type )?\{([^}]*)\};$/.exec(code))) {
      for (const s of parseSpecifiers(m[2]!)) info.exports.set(s.as, { local: s.name, typeOnly: Boolean(m[1]) || s.typeOnly });
    } else if ((m = /^export (type )?\* from "([^"]+)";$/.exec(code))) {
      info.stars.push({ from: target(m[2]!), typeOnly: Boolean(m[1]) });
    } else if (/^export (?:default|=)/.test(code)) {
      throw new Error(`${relative(dir, file)}: a default export (the package has named exports only)`);
    } else if ((m = /^(export )?(?:declare )?(?:abstract )?(function|class|interface|type|const|let|var|enum|namespace) ([\w$]+)/.exec(code))) {
      const [, exported, kind, name] = m;
      const existing = info.declarations.get(name!);
      const value = kind !== "interface" && kind !== "type";
      if (existing) {
        existing.statements.push(statement);
        existing.value ||= value;
      } else info.declarations.set(name!, { file, name: name!, statements: [statement], value });
      if (exported) info.exports.set(name!, { local: name!, typeOnly: false });
    } else if (code !== "export {};") throw new Error(`${relative(dir, file)}: a statement the report does not understand: ${code.slice(0, 160)}`);
  }
  return info;
}

interface Resolved {
  declaration?: Declaration;
  /** A name from another package, as `pkg#Name`. */
  external?: string;
  typeOnly: boolean;
}

class Program {
  readonly #modules = new Map<string, ModuleInfo>();
  constructor(readonly dir: string) {}

  module(file: string): ModuleInfo {
    let info = this.#modules.get(file);
    if (!info) this.#modules.set(file, (info = parseModule(file, this.dir)));
    return info;
  }

  /** What `name`, exported by `file`, is. */
  export(file: string, name: string, seen = new Set<string>()): Resolved | undefined {
    if (!file.startsWith("/")) return { external: `${file}#${name}`, typeOnly: false };
    const key = `${file}#${name}`;
    if (seen.has(key)) return undefined;
    seen.add(key);
    const info = this.module(file);
    const entry = info.exports.get(name);
    if (entry) {
      const found = entry.binding ? this.export(entry.binding.from, entry.binding.name, seen) : this.local(info, entry.local!, seen);
      if (!found) throw new Error(`${relative(this.dir, file)}: cannot resolve the export ${name}`);
      return { ...found, typeOnly: found.typeOnly || entry.typeOnly };
    }
    for (const star of info.stars) {
      const found = this.export(star.from, name, seen);
      if (found) return { ...found, typeOnly: found.typeOnly || star.typeOnly };
    }
    return undefined;
  }

  /** What the name `local` means inside `info`'s file (undefined: a global, or a member name). */
  local(info: ModuleInfo, local: string, seen = new Set<string>()): Resolved | undefined {
    const declaration = info.declarations.get(local);
    if (declaration) return { declaration, typeOnly: false };
    const imported = info.imports.get(local);
    if (imported) return imported.name === "*" ? { external: `${imported.from}#*`, typeOnly: false } : this.export(imported.from, imported.name, seen);
    return undefined;
  }

  /** Every name `file` exports (stars followed), sorted. */
  exportNames(file: string, seen = new Set<string>()): string[] {
    if (seen.has(file)) return [];
    seen.add(file);
    const info = this.module(file);
    const names = new Set(info.exports.keys());
    for (const star of info.stars) for (const n of this.exportNames(star.from, seen)) if (n !== "default") names.add(n);
    return [...names].sort((a, b) => a.localeCompare(b, "en"));
  }
}

const idOf = (d: Declaration) => `${d.file}#${d.name}`;

/** The declaration's text for the report: comments out, inline `import("./x.js").Name` shortened to `Name`. */
function render(d: Declaration): string {
  return d.statements.map((s) => s.code.replace(/import\("\.{1,2}\/[^"]*"\)\./g, "")).join("\n");
}

/** A declaration's source file, as the repository names it. */
const sourceOf = (d: Declaration, dir: string) => `src/${relative(dir, d.file).replace(/\.d\.ts$/, ".ts")}`;

/** Refuse what a user must not be able to reach: a declaration or member marked `@internal`. */
function checkNotInternal(d: Declaration, dir: string, via: string): void {
  for (const s of d.statements) {
    if (/@internal\b/.test(s.text)) throw new Error(`${sourceOf(d, dir)}: ${d.name} (reached from ${via}) is marked @internal`);
  }
}

/** References in `d` to other declarations of ours, inline import types included. */
function references(program: Program, d: Declaration): Declaration[] {
  const info = program.module(d.file);
  const out: Declaration[] = [];
  for (const s of d.statements) {
    for (const name of identifiers(s.code)) {
      if (name === d.name) continue;
      const found = program.local(info, name);
      if (found?.declaration) out.push(found.declaration);
    }
    for (const [, spec, name] of s.code.matchAll(/import\("(\.{1,2}\/[^"]+)"\)\.([\w$]+)/g)) {
      const found = program.export(resolve(dirname(d.file), spec!).replace(/\.js$/, ".d.ts"), name!);
      if (found?.declaration) out.push(found.declaration);
    }
  }
  return out;
}

export interface Entry {
  /** The subpath as users import it: `edgechat`, `edgechat/sse`, … */
  specifier: string;
  /** The emitted .d.ts (relative to the emit directory). */
  dts: string;
}

/** The entries in package.json's `exports`, with the .d.ts each one's `types` names. */
export function packageEntries(): Entry[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; exports: Record<string, string | { types?: string }> };
  return Object.entries(pkg.exports).flatMap(([subpath, target]) => {
    if (typeof target === "string") return [];
    if (!target.types?.startsWith("./dist/")) throw new Error(`exports["${subpath}"] has no types in dist/`);
    return [{ specifier: subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, dts: target.types.slice("./dist/".length) }];
  });
}

/** Emit the declarations as the build does (vite.config.ts `emitDeclarations`), into a temporary directory. */
export function emitDeclarations(): { dir: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), "edgechat-api-"));
  execFileSync(
    join(ROOT, "node_modules/.bin/tsc"),
    ["-p", join(ROOT, "tsconfig.json"), "--noEmit", "false", "--declaration", "--emitDeclarationOnly", "--rootDir", join(ROOT, "src"), "--outDir", dir],
    { stdio: "pipe" },
  );
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The report for the declarations in `dir`. */
export function apiReport(dir: string, entries: Entry[] = packageEntries()): string {
  const program = new Program(dir);
  // Which entry exports each declaration, and under which name: the first entry listed that does.
  const owners = new Map<string, { entry: string; name: string; typeOnly: boolean }>();
  const perEntry = entries.map((entry) => {
    const file = join(dir, entry.dts);
    const exports = program.exportNames(file).map((name) => {
      const found = program.export(file, name);
      if (!found) throw new Error(`${entry.specifier}: cannot resolve ${name}`);
      return { name, ...found };
    });
    for (const e of exports) if (e.declaration && !owners.has(idOf(e.declaration))) owners.set(idOf(e.declaration), { entry: entry.specifier, name: e.name, typeOnly: e.typeOnly });
    return { entry, exports };
  });

  const parts = [
    "# The public API of edgechat",
    "",
    "Generated by `test/package/api.test.ts` from the `.d.ts` that tsc emits; `npm test` fails when the surface",
    "changes and this file was not updated. Review the diff, then accept it with",
    "`UPDATE_API=1 npx vitest run --project node test/package/api.test.ts`.",
    "Each entry: its exports (doc comments stripped), then the types they use that it does not export.",
  ];
  for (const { entry, exports } of perEntry) {
    // An entry that only gathers other entries' exports, by the same names (edgechat/browser: edgechat and
    // edgechat/idb in one file): their names, not their declarations again.
    const from = (e: (typeof exports)[number]) => (e.declaration ? owners.get(idOf(e.declaration)) : undefined);
    const same = (e: (typeof exports)[number]) => {
      const owner = from(e);
      return owner !== undefined && owner.entry !== entry.specifier && owner.name === e.name && owner.typeOnly === e.typeOnly;
    };
    if (exports.length > 0 && exports.every(same)) {
      const gathered = new Map<string, string[]>();
      for (const e of exports) gathered.set(from(e)!.entry, [...(gathered.get(from(e)!.entry) ?? []), e.name]);
      parts.push("", `## ${entry.specifier}`, "", "The same declarations as these entries, under the same names:", "");
      for (const [owner, names] of gathered) parts.push(`- \`${owner}\` (${names.length}): ${names.join(", ")}`);
      continue;
    }
    const mine = new Set(exports.flatMap((e) => (e.declaration ? [idOf(e.declaration)] : [])));
    const blocks: string[] = [];
    const values = exports.filter((e) => e.declaration?.value && !e.typeOnly).map((e) => e.name);
    const types = exports.filter((e) => !(e.declaration?.value && !e.typeOnly)).map((e) => e.name);
    for (const e of exports) {
      if (!e.declaration) {
        blocks.push(`// ${e.name}: re-exported from ${e.external}`);
        continue;
      }
      checkNotInternal(e.declaration, dir, entry.specifier);
      const notes = [
        e.name !== e.declaration.name ? `exported as ${e.name}` : "",
        e.declaration.value && e.typeOnly ? "exported as a type only: no value at run time" : "",
      ].filter(Boolean);
      blocks.push((notes.length ? `// ${e.name}: ${notes.join("; ")}\n` : "") + render(e.declaration));
    }
    // What the exports use: walk the references; stop at what this entry exports, note what another entry does.
    const elsewhere = new Map<string, Set<string>>();
    const hidden: Declaration[] = [];
    const visited = new Set(mine);
    const queue = exports.flatMap((e) => (e.declaration ? [e.declaration] : []));
    while (queue.length > 0) {
      const d = queue.shift()!;
      for (const r of references(program, d)) {
        const id = idOf(r);
        if (visited.has(id)) continue;
        visited.add(id);
        const owner = owners.get(id);
        if (owner) {
          if (!elsewhere.has(owner.entry)) elsewhere.set(owner.entry, new Set());
          elsewhere.get(owner.entry)!.add(owner.name);
          continue;
        }
        checkNotInternal(r, dir, entry.specifier);
        hidden.push(r);
        queue.push(r);
      }
    }
    parts.push("", `## ${entry.specifier}`, "", `Values (${values.length}): ${values.join(", ") || "none"}.`, "", `Types (${types.length}): ${types.join(", ") || "none"}.`, "");
    parts.push("```ts", blocks.join("\n\n"), "```");
    if (elsewhere.size > 0) {
      parts.push("", "Uses, from other entries:", "");
      for (const [from, names] of [...elsewhere].sort()) parts.push(`- \`${from}\`: ${[...names].sort().join(", ")}`);
    }
    if (hidden.length > 0) {
      hidden.sort((a, b) => a.name.localeCompare(b.name, "en") || a.file.localeCompare(b.file));
      parts.push("", "Used but not exported (a user meets these without being able to name them):", "");
      parts.push("```ts", hidden.map((d) => `// ${sourceOf(d, dir)}\n${render(d)}`).join("\n\n"), "```");
    }
  }
  return `${parts.join("\n")}\n`;
}
