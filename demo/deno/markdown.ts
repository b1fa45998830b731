// Markdown for a terminal, rendered as a reply streams: **bold**, *italic* and _italic_, `code` and headings become
// ANSI styles (or, without colour, plain text without their markers); list bullets become "•", quotes "│", rules a
// line; [links](url) read "links (url)"; fenced code is shown indented, without its fences. Text goes out as soon as
// it is unambiguous: only what the next characters could still change waits for them (a "*" that may be "**", a
// line start that may be a fence, a link not yet closed). An ESC character in the reply is shown as "␛": a reply
// cannot restyle or move the terminal.

type Style = readonly [open: string, close: string];

export interface TerminalStyles {
  bold: Style;
  italic: Style;
  code: Style;
  dim: Style;
}

export const ANSI: TerminalStyles = {
  bold: ["\x1b[1m", "\x1b[22m"],
  italic: ["\x1b[3m", "\x1b[23m"],
  code: ["\x1b[36m", "\x1b[39m"],
  dim: ["\x1b[2m", "\x1b[22m"],
};

/** No colour (NO_COLOR, or not a terminal): the markers go, the words stay. */
export const PLAIN: TerminalStyles = { bold: ["", ""], italic: ["", ""], code: ["", ""], dim: ["", ""] };

export interface TerminalMarkdown {
  /** Render the next piece of the reply: returns what can be written now. */
  push(text: string): string;
  /** The reply is over: the rest, with every style closed. */
  end(): string;
}

const WORD = /[\p{L}\p{N}]/u;
/** A line start that more characters could still turn into a fence, heading, list item, rule or quote. */
const UNDECIDED = /^(?:`{0,2}|~{0,2}|>|(?:`{3,}|~{3,}).*|#{1,6}|\d{1,9}[.)]?|[-*_+](?:[ \t]*[-*_])*[ \t]*)$/;
const SPECIAL = /[`*_\\[\n]/;

export function createTerminalMarkdown(styles: TerminalStyles = ANSI): TerminalMarkdown {
  let pending = "";
  let atLineStart = true;
  let fence: string | undefined;
  let codeLine = false; // a fenced code line is being written (its colour is on)
  let bold = false;
  let italic: "*" | "_" | undefined;
  let code = false;
  let heading = false;
  let previous = " "; // the last character written, for "_" at word boundaries

  const text = (s: string) => {
    if (s) previous = s[s.length - 1]!;
    return s.replace(/\x1b/g, "␛");
  };
  const closeAll = () => {
    let out = "";
    if (code || codeLine) out += styles.code[1];
    if (italic) out += styles.italic[1];
    if (bold || heading) out += styles.bold[1];
    code = codeLine = bold = heading = false;
    italic = undefined;
    return out;
  };
  const takeLine = (newline: number) => {
    pending = newline === -1 ? "" : pending.slice(newline + 1);
  };

  /** One step at the start of a line; false when it must wait for more text. */
  const lineOpening = (final: boolean): string | false => {
    const newline = pending.indexOf("\n");
    const line = newline === -1 ? pending : pending.slice(0, newline);
    const complete = newline !== -1 || final;
    const head = line.trimStart();
    const indent = line.slice(0, line.length - head.length);
    if (!complete && (head === "" || UNDECIDED.test(head))) return false;
    atLineStart = false;
    if (head === "") return closeAll(); // a blank line ends a paragraph: no style carries over it
    const fenceStart = /^(`{3,}|~{3,})[ \t]*([^`\s]*)/.exec(head);
    if (fenceStart) {
      fence = fenceStart[1]!;
      takeLine(newline);
      atLineStart = true;
      return fenceStart[2] ? `  ${styles.dim[0]}${text(fenceStart[2])}${styles.dim[1]}\n` : "";
    }
    if (/^([-*_])(?:[ \t]*\1){2,}[ \t]*$/.test(head)) {
      pending = pending.slice(line.length);
      return `${styles.dim[0]}${"─".repeat(24)}${styles.dim[1]}`;
    }
    const marker = /^(#{1,6}[ \t]+|[-*+][ \t]+|\d{1,9}[.)][ \t]+|>[ \t]?)/.exec(head)?.[0];
    if (!marker) return "";
    pending = pending.slice(indent.length + marker.length);
    previous = " ";
    if (marker.startsWith("#")) {
      heading = true;
      return styles.bold[0];
    }
    if (/^[-*+]/.test(marker)) return `${indent}• `;
    if (marker.startsWith(">")) return `${indent}${styles.dim[0]}│${styles.dim[1]} `;
    return `${indent}${marker}`;
  };

  /** One step inside a fenced block; false when it must wait for more text. */
  const fenced = (final: boolean): string | false => {
    let out = "";
    if (atLineStart) {
      const newline = pending.indexOf("\n");
      const line = newline === -1 ? pending : pending.slice(0, newline);
      const trimmed = line.trim();
      const fenceChars = trimmed !== "" && [...trimmed].every((ch) => ch === fence![0]);
      if (fenceChars && trimmed.length >= fence!.length && (newline !== -1 || final)) {
        fence = undefined;
        takeLine(newline);
        return "";
      }
      // The closing fence may still be on its way.
      if (newline === -1 && !final && (trimmed === "" || fenceChars)) return false;
      atLineStart = false;
      codeLine = true;
      out += `  ${styles.code[0]}`;
    }
    const newline = pending.indexOf("\n");
    out += text(newline === -1 ? pending : pending.slice(0, newline));
    if (newline === -1) {
      pending = "";
      return out;
    }
    pending = pending.slice(newline + 1);
    codeLine = false;
    atLineStart = true;
    return `${out}${styles.code[1]}\n`;
  };

  /** One step of inline text; false when it must wait for more text. */
  const inline = (final: boolean): string | false => {
    const c = pending[0]!;
    if (c === "\n") {
      let out = "";
      if (heading) {
        out += styles.bold[1];
        heading = false;
      }
      pending = pending.slice(1);
      previous = " ";
      atLineStart = true;
      return `${out}\n`;
    }
    if (c === "\\") {
      if (pending.length === 1 && !final) return false;
      if (/[!-/:-@[-`{-~]/.test(pending[1] ?? "")) {
        const escaped = pending[1]!;
        pending = pending.slice(2);
        return text(escaped);
      }
    }
    if (c === "`") {
      const run = /^`+/.exec(pending)![0];
      if (run.length === pending.length && !final) return false; // the run may go on
      pending = pending.slice(run.length);
      code = !code;
      return code ? styles.code[0] : styles.code[1];
    }
    if (code) {
      const end = pending.search(/[`\n]/);
      const chunk = end === -1 ? pending : pending.slice(0, end);
      pending = pending.slice(chunk.length);
      return text(chunk);
    }
    if (c === "*" || c === "_") {
      const run = (c === "*" ? /^\*+/ : /^_+/).exec(pending)![0];
      const rest = pending.slice(run.length);
      if (!rest && !final) return false; // "*" may become "**"; "_" needs the character after it
      const next = rest[0] ?? " ";
      if (run.length === 2 && (bold ? !/\s/.test(previous) : !/\s/.test(next))) {
        pending = rest;
        bold = !bold;
        return bold ? styles.bold[0] : styles.bold[1];
      }
      if (run.length === 1) {
        const closing = italic === c && !/\s/.test(previous) && !(c === "_" && WORD.test(next));
        const opening = !italic && !/\s/.test(next) && !(c === "_" && WORD.test(previous));
        if (closing || opening) {
          pending = rest;
          italic = opening ? c : undefined;
          return opening ? styles.italic[0] : styles.italic[1];
        }
      }
      pending = rest;
      return text(run);
    }
    if (c === "[") {
      const link = /^\[([^\]\n]*)\]\(([^)\s]*)\)/.exec(pending);
      if (link) {
        pending = pending.slice(link[0].length);
        const [, label, url] = link;
        return label && label !== url ? `${text(label)} (${text(url!)})` : text(url!);
      }
      // Perhaps a link whose end has not arrived yet: wait, within the line.
      if (!final && /^\[[^\]\n]*(?:\](?:\([^)\s]*)?)?$/.test(pending)) return false;
    }
    // Plain text up to the next character that may mean something.
    const end = pending.slice(1).search(SPECIAL);
    const chunk = end === -1 ? pending : pending.slice(0, end + 1);
    pending = pending.slice(chunk.length);
    return text(chunk);
  };

  const render = (final: boolean): string => {
    let out = "";
    while (pending) {
      const step = fence !== undefined ? fenced(final) : atLineStart ? lineOpening(final) : inline(final);
      if (step === false) break;
      out += step;
    }
    return out;
  };

  return {
    push(piece) {
      pending += piece.replace(/\r/g, ""); // CRLF and CR alike, even split across pieces
      return render(false);
    },
    end() {
      const out = render(true) + closeAll();
      pending = "";
      atLineStart = true;
      fence = undefined;
      previous = " ";
      return out;
    },
  };
}

/** A whole text at once (a message from the history). */
export function terminalMarkdown(text: string, styles: TerminalStyles = ANSI): string {
  const renderer = createTerminalMarkdown(styles);
  return renderer.push(text) + renderer.end();
}
