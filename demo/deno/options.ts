// Command-line flags and environment of the Deno chat.

export const DEMO_WORKER = "http://127.0.0.1:8787/v1/openai";
export const DEFAULT_MODEL = "meta-llama/Llama-3.2-90B-Vision-Instruct";

export interface Options {
  /** Where requests go. Undefined: DeepInfra itself (with DEEPINFRA_TOKEN). */
  baseURL: string | undefined;
  apiKey: string | undefined;
  model: string | undefined;
  /** Directory of the Deno KV database that holds the conversations. */
  data: string;
  /** Start a new conversation instead of resuming the most recent one. */
  fresh: boolean;
}

export const USAGE = `edgechat in the terminal: streaming chat with Llama 3.2 Vision, history kept in Deno KV.

  deno run --allow-net=127.0.0.1:8787 --allow-read=.edgechat --allow-write=.edgechat --allow-env demo/deno/chat.ts [flags]

Flags
  --base-url URL   the API (default: DeepInfra when DEEPINFRA_TOKEN is set, else the demo Worker at ${DEMO_WORKER};
                   start it with: npm run demo). Also EDGECHAT_BASE_URL.
  --model ID       default: the server's default, or ${DEFAULT_MODEL}
  --data DIR       where the conversations are kept (default .edgechat; also EDGECHAT_DATA)
  --new            start a new conversation instead of resuming the last one
  --help

In the chat: type a message and press Enter. Ctrl-C stops a reply; Ctrl-C twice when idle (or :quit, Ctrl-D) quits.
Commands: :new  :list  :open N  :retry  :continue  :image PATH  :usage  :help  :quit`;

/** Parse Deno.args; `env` reads a variable (undefined when unset or not permitted). */
export function parseOptions(args: readonly string[], env: (name: string) => string | undefined): Options | "help" {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--")) throw new Error(`Unexpected argument ${JSON.stringify(arg)} (see --help)`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (name === "help" || name === "new") flags.set(name, true);
    else if (["base-url", "model", "data"].includes(name)) {
      const value = inline ?? args[++i];
      if (value === undefined) throw new Error(`--${name} needs a value`);
      flags.set(name, value);
    } else throw new Error(`Unknown flag --${name} (see --help)`);
  }
  if (flags.has("help")) return "help";
  const text = (name: string) => {
    const value = flags.get(name);
    return typeof value === "string" ? value : undefined;
  };
  const apiKey = env("DEEPINFRA_TOKEN")?.trim() || undefined;
  const baseURL = text("base-url") ?? (env("EDGECHAT_BASE_URL") || undefined) ?? (apiKey ? undefined : DEMO_WORKER);
  return {
    baseURL: baseURL?.replace(/\/+$/, ""),
    // The token goes to DeepInfra only: never to a Worker or any other URL given with --base-url.
    apiKey: baseURL === undefined ? apiKey : undefined,
    model: text("model"),
    data: text("data") ?? (env("EDGECHAT_DATA") || ".edgechat"),
    fresh: flags.has("new"),
  };
}
