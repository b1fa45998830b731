// A terminal chat on edgechat, in Deno: streaming replies, Ctrl-C to stop one, conversations kept in Deno KV.
//   deno run --allow-net=127.0.0.1:8787 --allow-read=.edgechat --allow-write=.edgechat --allow-env demo/deno/chat.ts
// Without DEEPINFRA_TOKEN it talks to the demo Worker (`npm run demo`), which answers with its simulated model.
// demo/deno/deno.json maps "edgechat" to the SDK's source and turns on Deno KV; see demo/README.md.
import { type AssistantMessage, Conversation, type ConversationOptions, type ConversationStore, createClient, type ImageContent, type Message, prepareImage, type Reply, UserAbortError } from "../../src/index.ts";
import { createDenoKvStore } from "../../src/store/deno-kv/index.ts";
import { describeError, describeStoredError, type ErrorText, retryText } from "../src/errors-text.ts";
import { formatBytes, formatCost, formatInt, modelLabel, plural, relativeTime } from "../src/format.ts";
import { DEFAULT_MODEL, type Options, parseOptions, USAGE } from "./options.ts";
import { createTerminalMarkdown, terminalMarkdown } from "./markdown.ts";
import { bold, cyan, dim, interactive, line, lines, markdownStyles, red, write, yellow } from "./terminal.ts";

/** What the demo Worker says about itself (`GET /info`); other servers have no such route. */
interface ServerInfo {
  mode: "simulated" | "deepinfra";
  defaultModel: string;
  contextWindows: Record<string, number>;
  simulated?: { commands: { name: string; summary: string }[] };
}

const HISTORY_SHOWN = 6;

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // not allowed by --allow-env: as if unset
  }
}

async function serverInfo(baseURL: string): Promise<ServerInfo | undefined> {
  const response = await fetch(`${baseURL}/info`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) {
    await response.body?.cancel();
    return undefined;
  }
  return (await response.json()) as ServerInfo;
}

async function main(): Promise<void> {
  let options: Options | "help";
  try {
    options = parseOptions(Deno.args, env);
  } catch (error) {
    line(red((error as Error).message));
    Deno.exit(2);
  }
  if (options === "help") {
    line(USAGE);
    return;
  }

  let info: ServerInfo | undefined;
  if (options.baseURL !== undefined) {
    try {
      info = await serverInfo(options.baseURL);
    } catch (error) {
      line(red(`Can't reach ${options.baseURL}: ${(error as Error).message}`));
      line("Start the demo Worker with `npm run demo` (its API is http://127.0.0.1:8787/v1/openai), or set DEEPINFRA_TOKEN to talk to DeepInfra.");
      Deno.exit(1);
    }
  }
  const model = options.model ?? info?.defaultModel ?? DEFAULT_MODEL;
  const contextWindow = info?.contextWindows[model];
  const client = createClient({ ...(options.baseURL !== undefined && { baseURL: options.baseURL }), ...(options.apiKey && { apiKey: options.apiKey }) });
  const conversationOptions = (m: string): ConversationOptions => ({
    client,
    model: m,
    ...(info?.contextWindows[m] !== undefined && { contextWindow: info.contextWindows[m] }),
    requestOptions: { onRetry: (retry) => line(yellow(`\n${retryText(retry, Math.ceil(retry.delayMs / 1000))}`)) },
  });

  const where = options.baseURL ?? "DeepInfra";
  line(`${bold("edgechat")} · ${modelLabel(model)}${contextWindow ? ` · ${formatInt(contextWindow)}-token window` : ""} · ${where}`);
  if (info?.mode === "simulated") {
    line(yellow("Simulated model — no DeepInfra token set; replies are computed, not generated."));
    line(dim(`Try: ${info.simulated?.commands.map((c) => c.name).join("  ") ?? "/help"}`));
  }

  await Deno.mkdir(options.data, { recursive: true });
  const kv = await Deno.openKv(`${options.data}/chat.kv`);
  const store: ConversationStore = createDenoKvStore(kv);

  let conversation: Conversation | undefined;
  let listed: string[] = [];
  let image: ImageContent | undefined;
  let interrupts = 0;

  const open = async (id: string) => {
    const meta = await store.get(id);
    conversation = await Conversation.open(store, id, conversationOptions(meta?.model ?? model));
    line(dim(`${meta?.title ? `“${meta.title}”` : "Conversation"} · ${plural(meta?.messageCount ?? 0, "message")} · ${relativeTime(meta?.updatedAt ?? Date.now())}`));
    const shown = conversation.messages.slice(-HISTORY_SHOWN);
    const hidden = (meta?.messageCount ?? conversation.messages.length) - shown.length;
    if (hidden > 0) line(dim(`… ${plural(hidden, "earlier message")}`));
    for (const message of shown) printMessage(message);
  };

  const quit = async () => {
    await conversation?.flush().catch(() => {});
    kv.close();
    line(dim("Bye."));
    Deno.exit(0);
  };

  // Ctrl-C: stops a streaming reply; when idle, the first one explains and the second quits.
  Deno.addSignalListener("SIGINT", () => {
    if (conversation?.busy) {
      conversation.abort();
      return;
    }
    if (++interrupts >= 2) void quit();
    else {
      line(dim("\n(Ctrl-C again to quit, or type :quit)"));
      prompt();
    }
  });

  if (!options.fresh) {
    const [last] = (await store.list({ limit: 1 })).conversations;
    if (last) {
      line(dim("Resuming your last conversation (:new starts another, :list shows all)."));
      await open(last.id);
    }
  }
  prompt();

  const run = async (start: (c: Conversation) => Reply) => {
    conversation ??= await Conversation.create(store, conversationOptions(model));
    let reply: Reply;
    try {
      reply = start(conversation);
    } catch (error) {
      printError(describeError(error));
      return;
    }
    write(cyan("model › "));
    // The reply's markdown, styled for the terminal as it streams (plain text without colour).
    const markdown = createTerminalMarkdown(markdownStyles);
    try {
      for await (const delta of reply) write(markdown.push(delta));
      write(markdown.end());
      const final = await reply.done;
      line();
      printUsage(conversation, final);
    } catch (error) {
      write(markdown.end());
      line();
      if (error instanceof UserAbortError) line(yellow("[stopped — :continue carries on, :retry asks again]"));
      else printError(describeError(error, { droppedTurns: conversation.lastContext?.droppedTurns }));
    }
  };

  for await (const input of lines()) {
    interrupts = 0;
    const text = input.trim();
    const command = /^:([a-z]+)(?:\s+(.*))?$/.exec(text);
    if (!text) {
      // nothing
    } else if (!command) {
      const content = image ? [{ type: "text" as const, text }, image] : text;
      image = undefined;
      await run((c) => c.send(content));
    } else {
      const [, name, arg = ""] = command;
      switch (name) {
        case "help":
          line(USAGE.slice(USAGE.indexOf("In the chat:")));
          break;
        case "new":
          await conversation?.flush().catch(() => {});
          conversation = undefined;
          line(dim("New conversation: it is saved when you send the first message."));
          break;
        case "list": {
          const { conversations } = await store.list({ limit: 20 });
          listed = conversations.map((c) => c.id);
          if (conversations.length === 0) line(dim("No conversations yet."));
          conversations.forEach((c, i) =>
            line(`${c.id === conversation?.id ? "*" : " "} ${String(i + 1).padStart(2)}. ${c.title || "(untitled)"} ${dim(`· ${plural(c.messageCount, "message")} · ${relativeTime(c.updatedAt)}`)}`),
          );
          break;
        }
        case "open": {
          const id = listed[Number(arg) - 1];
          if (id) await open(id).catch((error) => printError(describeError(error)));
          else line(dim("Use :list first, then :open N."));
          break;
        }
        case "retry":
          await run((c) => c.regenerate());
          break;
        case "continue":
          await run((c) => c.continue());
          break;
        case "image":
          try {
            image = await prepareImage(await Deno.readFile(arg));
            const size = "data" in image ? `${image.mimeType.replace("image/", "").toUpperCase()}, ${image.width} × ${image.height}, ${formatBytes(image.data.length)}` : image.url;
            line(dim(`[image attached: ${size}; it goes with your next message]`));
          } catch (error) {
            printError(error instanceof Deno.errors.NotFound ? { tone: "error", title: `No file at ${arg}` } : error instanceof Deno.errors.NotCapable ? { tone: "error", title: `Not allowed to read ${arg}`, detail: "Run with --allow-read for it." } : describeError(error));
          }
          break;
        case "usage":
          if (conversation) printUsage(conversation);
          else line(dim("Nothing sent yet."));
          break;
        case "quit":
        case "exit":
        case "q":
          await quit();
          break;
        default:
          line(dim(`Unknown command :${name}. :help lists them.`));
      }
    }
    prompt();
  }
  // End of input (Ctrl-D, or the pipe closed).
  await quit();
}

function prompt(): void {
  if (interactive) write(bold("you › "));
}

function printMessage(message: Message): void {
  if (message.role === "user") {
    const parts = typeof message.content === "string" ? [{ type: "text" as const, text: message.content }] : message.content;
    const text = parts.map((p) => (p.type === "text" ? p.text : `[image${p.width ? ` ${p.width} × ${p.height}` : ""}]`)).join(" ");
    line(`${bold("you › ")}${text}`);
    return;
  }
  line(`${cyan("model › ")}${terminalMarkdown(message.content, markdownStyles)}`);
  const status = statusOf(message);
  if (status) line(status.tone === "error" ? red(`[${status.title}]`) : yellow(`[${status.title}]`));
}

function statusOf(message: AssistantMessage): ErrorText | undefined {
  if (message.status === "complete") return undefined;
  if (message.error) return describeStoredError(message.error);
  return message.status === "interrupted" ? { tone: "warning", title: message.finishReason === "length" ? "Cut off at the length limit" : "Interrupted" } : undefined;
}

function printError(text: ErrorText): void {
  line(text.tone === "error" ? red(`✗ ${text.title}`) : yellow(`! ${text.title}`));
  if (text.detail) line(dim(`  ${text.detail}`));
}

function printUsage(conversation: Conversation, final?: AssistantMessage): void {
  const parts: string[] = [];
  if (final?.usage) parts.push(`${formatInt(final.usage.completion_tokens)} tokens${final.usage.estimated_cost !== undefined ? ` · ${formatCost(final.usage.estimated_cost)}` : ""}`);
  const context = conversation.lastContext;
  if (context) {
    parts.push(`context ${formatInt(context.tokens)} / ${formatInt(context.contextWindow)}`);
    if (context.droppedTurns > 0) parts.push(`${plural(context.droppedTurns, "older turn")} left out`);
  }
  parts.push(`${formatCost(conversation.usage.cost)} so far`);
  line(dim(`(${parts.join(" · ")})`));
}

if (import.meta.main) await main();
