// The Deno terminal chat (demo/deno/chat.ts) run by the real deno binary against the demo Worker with its
// simulated model: streamed output with its markdown rendered for a terminal (no raw "**"), Ctrl-C (SIGINT)
// stopping a reply without quitting, two Ctrl-C when idle quitting, and the conversation kept in Deno KV across two
// runs. And `npm run demo` prints the command demo/README.md shows.
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_WORKER } from "../../demo/deno/options.ts";
import { DEFAULT_API, denoCommand } from "../../demo/serve.mjs";
import { type RunningWorker, startWorker } from "../../demo/worker/dev.mjs";
import { runtimeAvailable } from "../runtimes/shared/runtime-available.ts";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "node_modules/.bin/deno");
// The binary itself, not a wrapper: SIGINT must reach the process that handles it.
const DENO = existsSync(BIN) ? realpathSync(BIN) : BIN;
const CHAT = join(ROOT, "demo/deno/chat.ts");
const WAIT = 30_000;

const probe = existsSync(DENO) ? spawnSync(DENO, ["--version"], { encoding: "utf8" }) : undefined;
const problem = !probe ? `${BIN} does not exist` : probe.status !== 0 ? `deno --version failed: ${probe.stderr}` : undefined;

interface Cli {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  /** Resolves with the output once it contains `text` (after `from`, an earlier output length). */
  waitFor(text: string | RegExp, from?: number): Promise<string>;
  send(line: string): void;
  exited: Promise<number | null>;
}

function startCli(baseURL: string, port: number, data: string): Cli {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env.DEEPINFRA_TOKEN;
  delete env.EDGECHAT_BASE_URL;
  const child = spawn(
    DENO,
    [
      "run",
      `--allow-net=127.0.0.1:${port}`,
      `--allow-read=${data}`,
      `--allow-write=${data}`,
      "--allow-env=DEEPINFRA_TOKEN,EDGECHAT_BASE_URL,EDGECHAT_DATA,NO_COLOR",
      CHAT,
      "--base-url",
      baseURL,
      "--data",
      data,
    ],
    { cwd: ROOT, env },
  );
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    for (const wake of waiters) wake();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  // "close", not "exit": by then everything the process wrote has been read.
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    send: (line) => child.stdin.write(`${line}\n`),
    waitFor(text, from = 0) {
      const found = () => (typeof text === "string" ? out.indexOf(text, from) !== -1 : text.test(out.slice(from)));
      return new Promise((resolve, reject) => {
        const wake = () => {
          if (!found()) return;
          cleanup();
          resolve(out);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`Timed out waiting for ${String(text)}.\n--- stdout ---\n${out}\n--- stderr ---\n${err}`));
        }, WAIT);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        waiters.add(wake);
        void exited.then(() => {
          if (found()) return wake();
          cleanup();
          reject(new Error(`The CLI exited while waiting for ${String(text)}.\n--- stdout ---\n${out}\n--- stderr ---\n${err}`));
        });
        wake();
      });
    },
  };
}

if (runtimeAvailable("Deno", problem, "npm ci (deno is a devDependency; its binary comes from the optional dependency @deno/linux-x64-glibc)")) {
  describe("the Deno chat", { timeout: 90_000 }, () => {
    let worker: RunningWorker;
    let data: string;
    const running: Cli[] = [];
    const cli = () => {
      const c = startCli(worker.baseURL, Number(new URL(worker.url).port), data);
      running.push(c);
      return c;
    };

    beforeAll(async () => {
      // Fast, so ordinary replies take milliseconds; /slow caps itself at 10 tokens/s.
      worker = await startWorker({ port: 0, env: { SIMULATED_TOKENS_PER_SECOND: 2000, RATE_LIMIT_REQUESTS: 10_000 } });
      data = mkdtempSync(join(tmpdir(), "edgechat-deno-cli-"));
    });
    afterAll(async () => {
      for (const c of running) if (c.child.exitCode === null) c.child.kill("SIGKILL");
      await worker?.dispose();
      if (data) rmSync(data, { recursive: true, force: true });
    });

    it("streams replies; Ctrl-C stops one and the chat goes on; Ctrl-C twice when idle quits", async () => {
      const chat = cli();
      await chat.waitFor("Simulated model — no DeepInfra token set; replies are computed, not generated.");
      await chat.waitFor("Try: /help  /ratelimit  /context  /error  /slow  /xss");

      chat.send("hello from the test");
      // The reply's markdown is rendered: without colour (NO_COLOR), its words without the markers.
      await chat.waitFor(/model › Simulated reply\. No language model ran[^]*\n• The conversation: 1 message[^]*so far\)/);
      expect(chat.output()).not.toContain("**");
      expect(chat.output()).not.toMatch(/`DEEPINFRA_TOKEN`|^- /m);

      // /slow: partial text arrives and keeps growing while the reply is still going.
      let mark = chat.output().length;
      chat.send("/slow");
      await chat.waitFor("Line 1 of 60", mark);
      expect(chat.output().slice(mark)).not.toContain("That was all 60 lines");
      await chat.waitFor("Line 2 of 60", mark);
      expect(chat.output().slice(mark)).not.toContain("so far)");

      chat.child.kill("SIGINT");
      await chat.waitFor("[stopped — :continue carries on", mark);
      expect(chat.output().slice(mark)).not.toContain("That was all 60 lines");
      expect(chat.child.exitCode).toBeNull();

      // Still running, and the stopped reply is part of the history the next request carries.
      mark = chat.output().length;
      chat.send("still there?");
      await chat.waitFor(/5 messages \(3 user, 2 assistant\)[^]*so far\)/, mark);

      mark = chat.output().length;
      chat.child.kill("SIGINT");
      await chat.waitFor("(Ctrl-C again to quit", mark);
      expect(chat.child.exitCode).toBeNull();
      chat.child.kill("SIGINT");
      expect(await chat.exited).toBe(0);
      expect(chat.output()).toMatch(/Bye\.\n$/);
    });

    it("resumes the conversation from Deno KV in a second run", async () => {
      const chat = cli();
      await chat.waitFor("Resuming your last conversation");
      const history = await chat.waitFor("you › still there?");
      expect(history).toContain("“hello from the test” · 6 messages");
      expect(history).toContain("you › hello from the test");
      expect(history).toContain("you › /slow");
      expect(history).toContain("[Stopped]");

      const mark = chat.output().length;
      chat.send("and once more");
      await chat.waitFor(/7 messages \(4 user, 3 assistant\)[^]*so far\)/, mark);
      expect(chat.output()).not.toContain("**");

      chat.send(":list");
      await chat.waitFor(/\* {2}1\. hello from the test · 8 messages/, mark);
      chat.child.stdin.end(); // Ctrl-D
      expect(await chat.exited).toBe(0);
    });
  });
}

describe("npm run demo", { timeout: 60_000 }, () => {
  it("prints the Deno command demo/README.md shows (for the default port), and one naming its port otherwise", async () => {
    const readme = readFileSync(join(ROOT, "demo/README.md"), "utf8");
    expect(DEFAULT_API).toBe(DEMO_WORKER);
    expect(readme).toContain(`\n${denoCommand(DEFAULT_API)}\n`);
    expect(denoCommand("http://127.0.0.1:9000/v1/openai")).toBe(
      "npx deno run --allow-net=127.0.0.1:9000 --allow-read=.edgechat --allow-write=.edgechat --allow-env demo/deno/chat.ts --base-url http://127.0.0.1:9000/v1/openai",
    );

    // What `npm run demo` itself prints (on free ports: 5173 and 8787 may be taken here).
    const env: NodeJS.ProcessEnv = { ...process.env, DEMO_PORT: "0", WORKER_PORT: "0", NO_COLOR: "1" };
    delete env.DEEPINFRA_TOKEN;
    const demo = spawn(process.execPath, [join(ROOT, "demo/serve.mjs")], { cwd: ROOT, env });
    try {
      let out = "";
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`npm run demo printed no banner:\n${out}`)), 45_000);
        demo.stdout.setEncoding("utf8").on("data", (chunk: string) => {
          out += chunk;
          if (out.includes("Ctrl-C to stop.")) {
            clearTimeout(timer);
            resolve();
          }
        });
        demo.on("exit", (code) => reject(new Error(`npm run demo exited (${code}):\n${out}`)));
      });
      const api = /^ {2}API {7}(\S+)/m.exec(out)?.[1];
      expect(api).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/openai$/);
      expect(out).toContain(`  Deno CLI  ${denoCommand(api!)}\n`);
    } finally {
      demo.kill("SIGTERM");
    }
  });
});
