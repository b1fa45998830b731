// The Deno chat's markdown for a terminal (demo/deno/markdown.ts): ANSI styles, or plain text without the markers,
// and the same output however the reply is cut into streamed pieces.
import { describe, expect, it } from "vitest";
import { ANSI, createTerminalMarkdown, PLAIN, terminalMarkdown } from "../../demo/deno/markdown.ts";

const B = (s: string) => `\x1b[1m${s}\x1b[22m`;
const I = (s: string) => `\x1b[3m${s}\x1b[23m`;
const C = (s: string) => `\x1b[36m${s}\x1b[39m`;
const D = (s: string) => `\x1b[2m${s}\x1b[22m`;

/** The simulator's own reply shape (demo/worker/simulated/reply.ts). */
const SIMULATED = [
  "**Simulated reply.** No language model ran: this is the demo Worker's built-in simulator (it has no `DEEPINFRA_TOKEN`).",
  "",
  "- Your last message: **3 words**, **13 characters**, 1 line.",
  "- Model `meta-llama/Llama-3.2-90B-Vision-Instruct`, `max_tokens` 4,096, streamed.",
  "",
  "Start a message with `/help` to see the commands.",
].join("\n");

describe("markdown in the terminal", () => {
  it("styles bold, italic and code with ANSI, and keeps the words", () => {
    expect(terminalMarkdown("**Simulated reply.** text `code` *it* and _also_", ANSI)).toBe(`${B("Simulated reply.")} text ${C("code")} ${I("it")} and ${I("also")}`);
  });

  it("without colour, prints the text without the markers", () => {
    expect(terminalMarkdown(SIMULATED, PLAIN)).toBe(
      [
        "Simulated reply. No language model ran: this is the demo Worker's built-in simulator (it has no DEEPINFRA_TOKEN).",
        "",
        "• Your last message: 3 words, 13 characters, 1 line.",
        "• Model meta-llama/Llama-3.2-90B-Vision-Instruct, max_tokens 4,096, streamed.",
        "",
        "Start a message with /help to see the commands.",
      ].join("\n"),
    );
  });

  it("gives the same output however the text is cut into pieces", () => {
    const text = `${SIMULATED}\n\n# A heading\n\n> quoted *words*\n\n1. one\n2. two\n\n---\n\n\`\`\`ts\nconst a = b ** 2; // *not* styled\n\`\`\`\n\nsnake_case_name and [a link](https://example.com) and 2 * 3 * 4.`;
    const whole = terminalMarkdown(text, ANSI);
    for (const size of [1, 2, 3, 5, 7, 11]) {
      const renderer = createTerminalMarkdown(ANSI);
      let out = "";
      for (let i = 0; i < text.length; i += size) out += renderer.push(text.slice(i, i + size));
      out += renderer.end();
      expect(out, `pieces of ${size}`).toBe(whole);
    }
    expect(whole).toContain(`${B("A heading")}\n`);
    expect(whole).toContain(`${D("│")} quoted ${I("words")}`);
    expect(whole).toContain("1. one\n2. two");
    expect(whole).toContain(D("─".repeat(24)));
    expect(whole).toContain(`  ${D("ts")}\n  ${C("const a = b ** 2; // *not* styled")}\n`);
    expect(whole).not.toContain("```");
    expect(whole).toContain("snake_case_name and a link (https://example.com) and 2 * 3 * 4.");
  });

  it("writes text as soon as it is unambiguous, holding back only a marker that may still change", () => {
    const renderer = createTerminalMarkdown(PLAIN);
    expect(renderer.push("Hello wor")).toBe("Hello wor");
    expect(renderer.push("ld *")).toBe("ld ");
    expect(renderer.push("*bold")).toBe("bold");
    expect(renderer.push("** done")).toBe(" done");
    expect(renderer.end()).toBe("");
  });

  it("closes a style the reply left open, and shows an escape character instead of obeying it", () => {
    expect(terminalMarkdown("**cut off", ANSI)).toBe(`${B("cut off")}`);
    expect(terminalMarkdown("`also cut", ANSI)).toBe(C("also cut"));
    expect(terminalMarkdown("evil \x1b[2J clear", PLAIN)).toBe("evil ␛[2J clear");
  });
});
