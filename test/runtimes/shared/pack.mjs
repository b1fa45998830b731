// The package as a user gets it: `npm pack` of the built dist/, installed into a throwaway consumer
// directory. Every runtime suite imports `edgechat` from there, never from src/.
//
// Done once per package content: the consumer lives in <tmpdir>/edgechat-runtimes/<hash of what npm pack
// ships>/ and is reused while dist/ is unchanged. dist/ is (re)built first when it is missing or older than
// the sources. A lock directory serialises this across vitest workers and the Deno driver.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");
export const CACHE = join(tmpdir(), "edgechat-runtimes");
const bin = (name) => join(ROOT, "node_modules", ".bin", name);

/** Every file under `dir`, recursively, as paths relative to `dir`, sorted. */
export function walk(dir, base = dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name), base) : [relative(base, join(dir, e.name))]))
    .sort();
}

const newest = (paths) => Math.max(0, ...paths.filter(existsSync).flatMap((p) => (statSync(p).isDirectory() ? walk(p).map((f) => join(p, f)) : [p])).map((p) => statSync(p).mtimeMs));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function withLock(fn) {
  mkdirSync(CACHE, { recursive: true });
  const lock = join(CACHE, "lock");
  for (let waited = 0; ; waited += 100) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      // A holder that crashed leaves the lock behind: a build and pack take seconds, not minutes.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      if (waited > 180_000) throw new Error(`timed out waiting for ${lock}`);
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Build dist/ with the project's own `vite build` unless it is newer than everything it is built from. */
function ensureBuilt() {
  const built = join(ROOT, "dist", "index.js");
  const inputs = ["src", "package.json", "vite.config.ts", "tsconfig.json"].map((p) => join(ROOT, p));
  if (existsSync(built) && statSync(built).mtimeMs >= newest(inputs)) return false;
  console.error(`edgechat runtime suites: dist/ is ${existsSync(built) ? "older than the sources" : "missing"}, running vite build`);
  const result = spawnSync(bin("vite"), ["build", "--logLevel", "warn"], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`vite build failed:\n${result.stdout}\n${result.stderr}`);
  return true;
}

/** A hash of what `npm pack` would ship (dist/ and the files beside it), so an unchanged package is packed once. */
function contentHash() {
  const hash = createHash("sha256");
  hash.update(readFileSync(fileURLToPath(import.meta.url))); // a change to this packing code repacks too
  // The consumer links its dependencies from this checkout's node_modules: another checkout (a CI clone, a machine
  // whose /tmp outlived the checkout that packed) gets its own, never links that lead nowhere.
  hash.update(`${ROOT}\0`);
  const files = [...walk(join(ROOT, "dist")).map((f) => join("dist", f)), "package.json", "README.md", "LICENSE"];
  for (const file of files) {
    const path = join(ROOT, file);
    if (!existsSync(path)) continue;
    hash.update(`${file}\0`);
    hash.update(readFileSync(path));
  }
  return hash.digest("hex").slice(0, 16);
}

/**
 * @returns {Promise<import("./pack.d.mts").PackedPackage>}
 */
export async function preparePackage() {
  return withLock(async () => {
    const rebuilt = ensureBuilt();
    const hash = contentHash();
    const dir = join(CACHE, hash);
    const readyFile = join(dir, "ready.json");
    if (existsSync(readyFile)) {
      const ready = JSON.parse(readFileSync(readyFile, "utf8"));
      // Reused only while every linked dependency is still there (existsSync follows the link).
      const linked = Object.keys({ ...ready.manifest.dependencies, ...ready.manifest.peerDependencies });
      if (linked.every((dep) => existsSync(join(ready.consumer, "node_modules", dep)))) return { ...ready, rebuilt };
    }

    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const packed = JSON.parse(
      execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }),
    )[0];
    const tarball = join(dir, packed.filename);

    // "Install" the tarball without the network: unpack it where npm would, and link the dependencies
    // its package.json declares (and only those) from this repository's node_modules.
    const consumer = join(dir, "consumer");
    const packageDir = join(consumer, "node_modules", packed.name);
    mkdirSync(packageDir, { recursive: true });
    execFileSync("tar", ["xzf", tarball, "-C", packageDir, "--strip-components=1"]);
    // A second install of the same tarball, as two copies end up in one app (nested node_modules, a CDN
    // copy): the behaviours check that instanceof works across them.
    const copyDir = join(consumer, "node_modules", `${packed.name}-copy`);
    mkdirSync(copyDir, { recursive: true });
    execFileSync("tar", ["xzf", tarball, "-C", copyDir, "--strip-components=1"]);
    const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
    const dependencies = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies });
    for (const dep of dependencies) {
      const from = join(ROOT, "node_modules", dep);
      if (!existsSync(from)) throw new Error(`${dep} (a dependency of the packed package) is not installed: run npm ci`);
      mkdirSync(dirname(join(consumer, "node_modules", dep)), { recursive: true });
      symlinkSync(realpathSync(from), join(consumer, "node_modules", dep), "dir");
    }
    // Node's types, for the consumer type-check that has no DOM library (package suite).
    mkdirSync(join(consumer, "node_modules", "@types"), { recursive: true });
    symlinkSync(realpathSync(join(ROOT, "node_modules", "@types", "node")), join(consumer, "node_modules", "@types", "node"), "dir");
    writeFileSync(
      join(consumer, "package.json"),
      `${JSON.stringify({ name: "edgechat-consumer", private: true, type: "module", dependencies: { [packed.name]: `file:../${packed.filename}` } }, null, 2)}\n`,
    );

    const result = {
      hash,
      dir,
      tarball,
      consumer,
      packageDir,
      copyDir,
      name: packed.name,
      version: packed.version,
      files: packed.files.map((f) => f.path).sort(),
      manifest,
    };
    writeFileSync(readyFile, JSON.stringify(result, null, 2));
    pruneOld(hash);
    return { ...result, rebuilt };
  });
}

/** Keep the cache small: drop other packed versions older than an hour. */
function pruneOld(keep) {
  for (const name of readdirSync(CACHE)) {
    const path = join(CACHE, name);
    if (name === keep || name === "lock" || !/^[0-9a-f]{16}$/.test(name)) continue;
    if (Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { recursive: true, force: true });
  }
}

/**
 * The file a package subpath resolves to, following `exports` with the given conditions in order
 * (as a bundler or an import map generator would). Throws when the subpath is not exported.
 */
export function resolveExport(packageDir, subpath, conditions) {
  const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
  const key = subpath === "" || subpath === "." ? "." : `./${subpath.replace(/^\.?\//, "")}`;
  const exportsField = manifest.exports ?? { ".": manifest.module ?? manifest.main ?? "./index.js" };
  const entry = typeof exportsField === "string" || !Object.keys(exportsField).some((k) => k.startsWith(".")) ? { ".": exportsField } : exportsField;
  const pick = (target) => {
    if (typeof target === "string") return target;
    if (Array.isArray(target)) return target.map(pick).find(Boolean);
    if (target && typeof target === "object") {
      for (const [condition, value] of Object.entries(target)) {
        if (condition === "default" || conditions.includes(condition)) {
          const found = pick(value);
          if (found) return found;
        }
      }
    }
    return undefined;
  };
  const target = entry[key] === undefined ? undefined : pick(entry[key]);
  if (!target) throw new Error(`${manifest.name} does not export "${key}" for conditions ${conditions.join(", ")}`);
  return join(packageDir, target);
}
