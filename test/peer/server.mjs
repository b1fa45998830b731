// Start llama-server on loopback (a free port), wait until /health says the model is loaded, and stop it.
import { spawn } from "node:child_process";
import { createServer } from "node:net";

/** A port nobody listens on now (the kernel's pick; the server binds it a moment later). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts `llama-server` with the model: one slot (so a slot left busy shows), a fixed seed, the model's Jinja
 * chat template, one thread (a 64-dim model gains nothing from more, and on a busy machine two threads that
 * spin at each barrier were 5–20 times slower per token). Resolves once /health answers 200; rejects with the end of its log if it exits or takes
 * longer than `startTimeout` ms. `stop()` ends it (SIGTERM, then SIGKILL after 5 s).
 */
export async function startLlamaServer({ binary, model, contextSize = 2048, seed = 42, threads = 1, startTimeout = 120_000, extraArgs = [] }) {
  const port = await freePort();
  const args = [
    ["--model", model],
    ["--host", "127.0.0.1"],
    ["--port", String(port)],
    ["--ctx-size", String(contextSize)],
    ["--parallel", "1"],
    ["--threads", String(threads)],
    ["--seed", String(seed)],
    ["--jinja"],
    ["--no-webui"],
    ["--no-warmup"],
  ].flat();
  const child = spawn(binary, [...args, ...extraArgs], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const keep = (data) => (log = (log + data.toString()).slice(-64_000));
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));

  const baseURL = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + startTimeout;
  let ready = false;
  let failure;
  void exited.then(({ code, signal }) => (failure ??= `llama-server exited (${code ?? signal}) before it was ready`));
  while (!ready && !failure) {
    if (Date.now() > deadline) failure = `llama-server was not ready within ${startTimeout} ms`;
    else {
      ready = await fetch(`${baseURL}/health`).then((r) => r.status === 200, () => false);
      if (!ready) await new Promise((r) => setTimeout(r, 200));
    }
  }
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  if (!ready) {
    await stop();
    throw new Error(`${failure}: ${binary} ${args.join(" ")}\n--- its log, last lines ---\n${log.split("\n").slice(-40).join("\n")}`);
  }
  return { baseURL, port, args: [binary, ...args, ...extraArgs], stop, log: () => log };
}
