// What the simulator knows about a request, by the property names a schema may use for it: a JSON answer's
// "words" is the message's word count, its "title" the message's first words, its "width" the image's. Everything
// here was computed from the request (facts.ts) or handed back by a tool; nothing is invented.
import type { RequestFacts } from "./facts.js";
import { type Hints, normalName } from "./schema-value.js";

export function factHints(facts: RequestFacts, extra: Record<string, unknown>[] = []): Hints {
  const hints = new Map<string, unknown[]>();
  const add = (names: string[], ...values: unknown[]) => {
    for (const name of names) {
      const list = hints.get(normalName(name)) ?? [];
      list.push(...values.filter((v) => v !== undefined));
      hints.set(normalName(name), list);
    }
  };
  // A tool's results first: when the model answers from them, they are the answer.
  for (const result of extra) for (const [key, value] of Object.entries(result)) add([key], value);
  const { request, lastUser } = facts;
  const text = lastUser?.text.trim() ?? "";
  const words = wordsOf(text);
  add(["simulated", "isSimulated"], true);
  add(["model"], request.model);
  if (lastUser) {
    add(["words", "wordCount", "numWords", "count", "total"], lastUser.words, words);
    add(["characters", "chars", "characterCount", "charCount", "length"], lastUser.characters);
    add(["lines", "lineCount"], lastUser.lines);
    add(["question", "message", "prompt", "input", "query", "text", "content", "original"], text);
    add(["title", "subject", "topic", "name", "headline"], words.slice(0, 6).join(" "));
    add(["keywords", "tags", "terms", "topics"], unique(words.filter((w) => w.length > 3)).slice(0, 5));
    add(
      ["answer", "reply", "response", "summary", "description", "explanation", "result", "note"],
      `Simulated: your message has ${lastUser.words} words and ${lastUser.characters} characters; no language model ran.`,
    );
  }
  add(["messages", "messageCount"], request.messages.length);
  add(["promptTokens", "tokens", "estimatedTokens", "estimatedPromptTokens"], facts.promptTokens);
  add(["contextWindow"], facts.contextWindow);
  add(["language", "lang", "locale"], "en");
  add(["date", "today"], new Date().toISOString().slice(0, 10));
  add(["time", "now", "timestamp", "datetime", "createdAt"], new Date().toISOString());
  const image = facts.images.find((i) => i.inLastUserMessage)?.image;
  if (image) {
    add(["width"], image.width);
    add(["height"], image.height);
    add(["format", "type", "mimeType", "imageType"], image.format, image.declaredType);
    add(["bytes", "byteLength", "size", "fileSize"], image.byteLength);
    add(["colour", "color", "dominantColour", "dominantColor"], image.colour?.hex);
  }
  return hints;
}

/** The words of a text, for strings and lists of strings nothing better describes. */
export function wordsOf(text: string): string[] {
  return text.match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu) ?? [];
}

function unique(list: string[]): string[] {
  const seen = new Set<string>();
  return list.filter((w) => !seen.has(w.toLowerCase()) && seen.add(w.toLowerCase()));
}
