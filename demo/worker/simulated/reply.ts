import { COMMANDS } from "./commands.js";
import type { ImageFact, RequestFacts } from "./facts.js";
import { formatInt, percent, plural } from "./format.js";
import { TOKENS_PER_TILE } from "./tokens.js";

const HEADER = "**Simulated reply.** No language model ran: this is the demo Worker's built-in simulator (it has no `DEEPINFRA_TOKEN`).";

/** The reply to an ordinary message: what the simulator measured about the request, nothing invented. */
export function describeRequest(facts: RequestFacts, unknownCommand?: string): string {
  const { request, lastUser } = facts;
  const lines = [`${HEADER} Everything below was computed from your request.`, ""];
  if (unknownCommand) lines.push(`\`${unknownCommand}\` is not a command I know; \`/help\` lists them.`, "");
  if (!lastUser) lines.push("- There is no user message in the conversation.");
  else if (lastUser.text.trim() === "") lines.push("- Your last message has **no text**.");
  else {
    const { words, characters, lines: count } = lastUser;
    lines.push(`- Your last message: **${plural(words, "word")}**, **${plural(characters, "character")}**, ${plural(count, "line")}.`);
  }
  const roles = Object.entries(facts.roles).map(([role, n]) => `${n} ${role}`).join(", ");
  const maxTokens = `\`max_tokens\` ${formatInt(request.maxTokens)}${request.maxTokensDefaulted ? " (the proxy's cap: the request set none)" : ""}`;
  lines.push(
    `- The conversation: **${plural(request.messages.length, "message")}** (${roles}), about **${formatInt(facts.promptTokens)} prompt tokens** ` +
      `(an estimate: characters ÷ 4, plus 4 per message, plus ${formatInt(TOKENS_PER_TILE)} per image tile; not Llama's tokenizer). ` +
      `The context window of this model is ${formatInt(facts.contextWindow)} tokens.`,
    `- Model \`${request.model}\`, ${maxTokens}, ${request.stream ? "streamed" : "not streamed"}` +
      (request.temperature === undefined ? "." : `, temperature ${request.temperature}.`),
  );
  if (request.tools.length > 0) lines.push(toolsLine(request));
  const current = facts.images.filter((i) => i.inLastUserMessage);
  for (const image of current) lines.push(...describeImage(image));
  if (current.length > 1) lines.push("- Llama 3.2 Vision reads **one image per request**; what DeepInfra does with more is unknown.");
  const earlier = facts.images.length - current.length;
  if (earlier > 0) lines.push(`- ${plural(earlier, "earlier image")} in the conversation: counted in the estimate, not described again.`);
  lines.push("", "Start a message with `/help` to see the commands that make the simulator fail on purpose.");
  return lines.join("\n");
}

/** The tools the request declares, and how to make the simulator call them. */
function toolsLine({ tools, toolChoice }: RequestFacts["request"]): string {
  const names = tools.map((t) => `\`${t.name}\``).join(", ");
  if (toolChoice === "none") return `- ${plural(tools.length, "tool")} declared (${names}), with \`tool_choice\` none: none is called.`;
  return `- ${plural(tools.length, "tool")} declared (${names}): a message that asks for what one does, or names it, gets a call.`;
}

function describeImage({ number, image, tiles, tokens }: ImageFact): string[] {
  const source =
    image.source === "remote URL"
      ? `a URL${image.host ? ` on ${image.host}` : ""}`
      : `data URL declared \`${image.declaredType}\`, ${plural(image.byteLength ?? 0, "byte")}`;
  const size = image.width !== undefined && image.height !== undefined ? `${image.width} × ${image.height} px` : undefined;
  const what = [image.format, size].filter(Boolean).join(", ");
  const parts = [what ? `**${what}**${image.detail ? ` (${image.detail})` : ""}` : "format and size unknown"];
  const colour = image.colour;
  if (colour?.hex) {
    const of = image.format === "JPEG" ? "of the area (from 8×8 block averages)" : "of the opaque pixels";
    const transparent = colour.transparent > 0 ? `, ${percent(colour.transparent)} transparent` : "";
    parts.push(`dominant colour **${colour.hex}** (nearest name: ${colour.name}), ${percent(colour.share)} ${of}${transparent}`);
  } else if (colour) parts.push("fully transparent");
  parts.push(`${tiles === undefined ? "size unknown, so 4 tiles assumed" : plural(tiles, "tile")} → about ${formatInt(tokens)} prompt tokens`);
  const line = `- Image ${number} (${source}): ${parts.join("; ")}.`;
  return [line, ...image.unknown.map((u) => `  - could not determine ${u}`)];
}

export function helpText(): string {
  return [
    "**Simulated model: commands.** Start a message with one of these:",
    "",
    ...COMMANDS.map((c) => `- \`${c.usage}\`: ${c.summary}.`),
    "",
    "Anything else gets a reply that describes your request: word and character counts, the estimated prompt tokens, " +
      "and, for a `data:` image, its format, size and dominant colour.",
    "",
    "When the request declares **tools** (the demo page declares `local_time`, `image_size` and `copy_to_clipboard`), " +
      "ask what time it is, how big an image is, or to copy something to your clipboard, and it calls the tool, then " +
      "answers from its result. Ask for an answer **as JSON** (or send `response_format`) and it answers in JSON.",
  ].join("\n");
}

export function slowText(): string {
  const lines = [`${HEADER} You asked for \`/slow\`: a long reply at 10 tokens per second, so there is time to press **Stop**.`, ""];
  for (let i = 1; i <= 60; i++) lines.push(`${i}. Line ${i} of 60: filler text from the simulator, streamed slowly on purpose.`);
  lines.push("", "That was all 60 lines.");
  return lines.join("\n");
}

export function errorPrelude(): string {
  return `${HEADER} You asked for \`/error\`: these few tokens arrive normally, then the stream carries an error event instead of the rest.`;
}

/** Hostile content for the page's safe-rendering test. None of it may run, load, or become a live link. */
export function xssText(): string {
  return [
    `${HEADER} You asked for \`/xss\`: the lines below are hostile on purpose. A safe page shows them as text; none may run or load anything.`,
    "",
    "- Raw image with an error handler: <img src=x onerror=alert(1)>",
    "- Script tag: <script>alert(1)</script>",
    "- Markdown link to a javascript: URL: [click me](javascript:alert(1))",
    "- Same, with entity tricks: [click me too](jav&#x61;script:alert(1))",
    "- Markdown image with an event-handler escape: ![x](x\" onerror=\"alert(1))",
    "- Link to a data: URL: [open](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "- Inline handler: <a href=\"#\" onclick=\"alert(1)\">a link</a>",
    "- SVG: <svg onload=alert(1)></svg>",
    "- Iframe: <iframe src=\"javascript:alert(1)\"></iframe>",
    "- Style that covers the page: <div style=\"position:fixed;inset:0;background:red\">covered</div>",
    "",
    "```html",
    "<script>alert('inside a code block: text, never run')</script>",
    "```",
  ].join("\n");
}
