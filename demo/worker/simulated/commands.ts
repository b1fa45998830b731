export interface Command {
  name: string;
  usage: string;
  summary: string;
}

/** What a user message may start with to make the simulator do something on purpose. */
export const COMMANDS: readonly Command[] = [
  { name: "/help", usage: "/help", summary: "list these commands" },
  {
    name: "/ratelimit",
    usage: "/ratelimit [n]",
    summary:
      "the first n tries (default 1, at most 10) of this exact request get DeepInfra's 429 `{\"detail\":\"Rate limited\"}` " +
      "with `Retry-After: 3`; the client's retry after that succeeds",
  },
  {
    name: "/context",
    usage: "/context",
    summary:
      "DeepInfra's context-overflow error (HTTP 500, `Requested input length N exceeds maximum input length 32768`), " +
      "as if the prompt were a whole context window longer; a prompt estimated above the window gets it too",
  },
  {
    name: "/error",
    usage: "/error [vllm]",
    summary: "a few tokens, then an error event mid-stream: `{\"error\":{…}}`, or with `vllm` vLLM's `{\"object\":\"error\",…}`",
  },
  { name: "/slow", usage: "/slow", summary: "a long reply at 10 tokens per second, to try stopping it" },
  { name: "/xss", usage: "/xss", summary: "hostile HTML and markdown, which a safe page shows as text" },
];

export interface ParsedCommand {
  name: string;
  args: string[];
  known: boolean;
}

/** `/ratelimit 3 …` → `{ name: "/ratelimit", args: ["3", …] }`; undefined when the text is not a command. */
export function parseCommand(text: string): ParsedCommand | undefined {
  const match = /^\s*(\/[a-z]+)(?=\s|$)(.*)$/is.exec(text);
  if (!match) return undefined;
  const name = match[1]!.toLowerCase();
  return { name, args: match[2]!.trim().split(/\s+/).filter(Boolean), known: COMMANDS.some((c) => c.name === name) };
}
