// The package under test, as a user imports it: "edgechat", "edgechat/sse", ... resolved through package.json
// `exports` (Node's self-reference), i.e. the BUILT files in dist/.
//
// BENCH_DIST=<dir> benches another build of the same layout instead (e.g. a candidate fix built elsewhere, to
// compare before/after in one sitting): "./dist/X" in `exports` becomes "<dir>/X".
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const ROOT = resolve(import.meta.dirname, "../../..");
const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

/** The file a subpath export ("." or "./sse") points at, or undefined when the export does not exist. */
export function exportTarget(subpath) {
  const entry = manifest.exports?.[subpath];
  if (entry === undefined) return undefined;
  const target = typeof entry === "string" ? entry : (entry.import ?? entry.default);
  const dist = process.env.BENCH_DIST;
  if (dist && target.startsWith("./dist/")) {
    const base = isAbsolute(dist) ? dist : join(ROOT, dist);
    return join(base, target.slice("./dist/".length));
  }
  return join(ROOT, target);
}

/** Subpath exports that are modules (not package.json). */
export function moduleExports() {
  return Object.keys(manifest.exports ?? {}).filter((k) => !k.endsWith(".json"));
}

/** import("edgechat" + subpath) — or the BENCH_DIST file. */
export async function load(subpath = ".") {
  if (process.env.BENCH_DIST) {
    const file = exportTarget(subpath);
    if (!file) throw new Error(`package.json has no "${subpath}" export`);
    return import(pathToFileURL(file).href);
  }
  return import(subpath === "." ? manifest.name : `${manifest.name}/${subpath.slice(2)}`);
}

/** Like load(), for a module that may not be built or exported yet: undefined (with the reason) instead of throwing. */
export async function loadOptional(subpath, fallbackFile) {
  const file = exportTarget(subpath) ?? (fallbackFile && join(process.env.BENCH_DIST ? resolve(ROOT, process.env.BENCH_DIST) : join(ROOT, "dist"), fallbackFile));
  if (!file || !existsSync(file)) return { module: undefined, reason: `not built (${file ? file.slice(ROOT.length + 1) : `no "${subpath}" export`})` };
  return { module: await import(pathToFileURL(file).href), file };
}

export const packageName = manifest.name;
