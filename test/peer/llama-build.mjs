// llama.cpp's `llama-server`, built once from the source that the npm package node-llama-cpp ships
// (`llama/gitRelease.bundle`, a git bundle of llama.cpp), CPU only, into a cache outside the repository.
// Nothing is added to package.json: the package is fetched with `npm pack`, its bundle cloned, and both deleted
// once the clone exists. Later runs find the binary and a stamp that names the version and the flags.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, createWriteStream } from "node:fs";
import { availableParallelism, homedir } from "node:os";
import { join } from "node:path";

/** node-llama-cpp 3.22.1 carries llama.cpp de3ff815ea7d559ee917f063901b8986f038abc6 (2026-09-28). */
export const NODE_LLAMA_CPP = "3.22.1";

/** Only the server target, CPU only, portable code, no web UI, nothing fetched at build time. */
export const CMAKE_FLAGS = [
  "-DCMAKE_BUILD_TYPE=Release",
  "-DBUILD_SHARED_LIBS=OFF",
  "-DGGML_NATIVE=OFF",
  "-DGGML_BACKEND_DL=OFF",
  "-DLLAMA_USE_PREBUILT_UI=OFF",
  "-DLLAMA_BUILD_UI=OFF",
  "-DLLAMA_BUILD_TESTS=OFF",
  "-DLLAMA_BUILD_EXAMPLES=OFF",
  "-DLLAMA_BUILD_APP=OFF",
  "-DLLAMA_BUILD_SERVER=ON",
  "-DLLAMA_OPENSSL=OFF",
];

/** `EDGECHAT_PEER_CACHE`, else `$XDG_CACHE_HOME/edgechat-peer`, else `~/.cache/edgechat-peer`. */
export function cacheDir() {
  return process.env.EDGECHAT_PEER_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "edgechat-peer");
}

/** Paths of one pinned version's source, build and binary. */
export function llamaPaths(root = cacheDir()) {
  const dir = join(root, `node-llama-cpp-${NODE_LLAMA_CPP}`);
  return {
    dir,
    source: join(dir, "llama.cpp"),
    build: join(dir, "build"),
    server: join(dir, "build", "bin", "llama-server"),
    vocab: join(dir, "llama.cpp", "models", "ggml-vocab-llama-bpe.gguf"),
    stamp: join(dir, "stamp.json"),
    log: join(dir, "build.log"),
  };
}

const TOOLS = [
  { command: "git", args: ["--version"], debian: "git" },
  { command: "cmake", args: ["--version"], debian: "cmake" },
  { command: "make", args: ["--version"], debian: "make" },
  { command: process.env.CXX || "c++", args: ["--version"], debian: "g++" },
  { command: "tar", args: ["--version"], debian: "tar" },
  { command: "npm", args: ["--version"], debian: "npm (or Node.js from nodejs.org)" },
];

/** Throws one error naming every missing tool and the Debian packages that provide them. */
export function checkTools(tools = TOOLS) {
  const missing = tools.filter((t) => spawnSync(t.command, t.args, { stdio: "ignore" }).status !== 0);
  if (missing.length === 0) return;
  throw new Error(
    `Building llama-server needs ${missing.map((t) => t.command).join(", ")}, not found on PATH.\n` +
      `On Debian or Ubuntu: sudo apt-get install ${[...new Set(missing.map((t) => t.debian))].join(" ")}\n` +
      `(cmake 3.14 or newer and a C++17 compiler; clang works too: set CXX and CC.)`,
  );
}

function readStamp(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

const stampOf = (commit) => ({ nodeLlamaCpp: NODE_LLAMA_CPP, commit, flags: CMAKE_FLAGS });

/** True when the binary exists and was built from this version with these flags. */
export function isBuilt(paths = llamaPaths()) {
  const stamp = readStamp(paths.stamp);
  return existsSync(paths.server) && stamp?.nodeLlamaCpp === NODE_LLAMA_CPP && JSON.stringify(stamp.flags) === JSON.stringify(CMAKE_FLAGS);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status ?? result.signal}):\n${result.stderr ?? ""}${result.stdout ?? ""}`);
  }
  return result.stdout ?? "";
}

/** The llama.cpp source, from the pinned node-llama-cpp's git bundle (a ~36 MB download, once). */
export function fetchSource(paths = llamaPaths(), log = console.log) {
  if (existsSync(join(paths.source, "CMakeLists.txt")) && existsSync(paths.vocab)) return;
  mkdirSync(paths.dir, { recursive: true });
  const pack = join(paths.dir, "pack");
  rmSync(pack, { recursive: true, force: true });
  mkdirSync(pack);
  log(`peer: npm pack node-llama-cpp@${NODE_LLAMA_CPP} (for its llama.cpp git bundle)`);
  const [packed] = JSON.parse(run("npm", ["pack", `node-llama-cpp@${NODE_LLAMA_CPP}`, "--json", "--pack-destination", pack, "--ignore-scripts"]));
  const tarball = join(pack, packed.filename);
  run("tar", ["xzf", tarball, "-C", pack, "package/llama/gitRelease.bundle"]);
  rmSync(paths.source, { recursive: true, force: true });
  run("git", ["-c", "advice.detachedHead=false", "clone", "--quiet", join(pack, "package/llama/gitRelease.bundle"), paths.source]);
  rmSync(pack, { recursive: true, force: true });
  if (!existsSync(paths.vocab)) throw new Error(`the llama.cpp source in ${paths.source} has no models/ggml-vocab-llama-bpe.gguf`);
}

/** Runs a command with its output in the log file, printing cmake's percentage every 10%. */
function runLogged(command, args, logFile, log) {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logFile, { flags: "a" });
    out.write(`\n$ ${command} ${args.join(" ")}\n`);
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let shown = -10;
    let tail = "";
    const onData = (data) => {
      out.write(data);
      const text = data.toString();
      tail = (tail + text).slice(-4000);
      for (const match of text.matchAll(/^\[\s*(\d+)%\]/gm)) {
        const percent = Number(match[1]);
        if (percent >= shown + 10) {
          shown = percent - (percent % 10);
          log(`peer: building llama-server ${percent}%`);
        }
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) => {
      out.end();
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(" ")} failed (exit ${code}); the whole log is ${logFile}. Its end:\n${tail}`));
    });
  });
}

/**
 * The path of a `llama-server` built from the pinned source, building it first when the cache has none
 * (15–20 minutes on two cores). `EDGECHAT_PEER_JOBS` sets the parallel jobs (default: the cores).
 * Resolves with the paths and whether this call built it.
 */
export async function ensureLlamaServer({ log = console.log } = {}) {
  const paths = llamaPaths();
  if (isBuilt(paths)) return { ...paths, built: false };
  checkTools();
  fetchSource(paths, log);
  const commit = run("git", ["-C", paths.source, "rev-parse", "HEAD"]).trim();
  const jobs = String(Number(process.env.EDGECHAT_PEER_JOBS) || availableParallelism());
  writeFileSync(paths.log, "");
  log(`peer: configuring llama.cpp ${commit.slice(0, 10)} (log: ${paths.log})`);
  await runLogged("cmake", ["-S", paths.source, "-B", paths.build, ...CMAKE_FLAGS], paths.log, log);
  log(`peer: building llama-server with ${jobs} jobs (the first build takes 15–20 minutes on two cores)`);
  await runLogged("cmake", ["--build", paths.build, "--target", "llama-server", "-j", jobs], paths.log, log);
  if (!existsSync(paths.server)) throw new Error(`the build finished but ${paths.server} does not exist; see ${paths.log}`);
  writeFileSync(paths.stamp, JSON.stringify(stampOf(commit), null, 2) + "\n");
  return { ...paths, built: true };
}
