// Writing to the terminal (colour only on a TTY without NO_COLOR) and reading stdin line by line.

import { ANSI, PLAIN, type TerminalStyles } from "./markdown.ts";

const encoder = new TextEncoder();

function colourAllowed(): boolean {
  try {
    return Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
  } catch {
    return Deno.stdout.isTerminal(); // no --allow-env for NO_COLOR
  }
}

const colour = colourAllowed();
/** How replies' markdown is shown: ANSI styles, or plain text without the markers. */
export const markdownStyles: TerminalStyles = colour ? ANSI : PLAIN;
const style = (open: number, close: number) => (text: string) => (colour ? `\x1b[${open}m${text}\x1b[${close}m` : text);
export const dim = style(2, 22);
export const bold = style(1, 22);
export const red = style(31, 39);
export const yellow = style(33, 39);
export const cyan = style(36, 39);

export function write(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text));
}

export function line(text = ""): void {
  write(`${text}\n`);
}

export const interactive = Deno.stdin.isTerminal();

/** stdin as lines, without their line endings. Ends at EOF (Ctrl-D). */
export async function* lines(): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    let end: number;
    while ((end = rest.indexOf("\n")) !== -1) {
      yield rest.slice(0, end).replace(/\r$/, "");
      rest = rest.slice(end + 1);
    }
  }
  if (rest) yield rest;
}
