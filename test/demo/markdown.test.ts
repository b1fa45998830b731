// @vitest-environment happy-dom
// The demo's markdown renderer: the structure it builds for each construct, and hostile input staying inert.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderMarkdown, safeHref } from "../../demo/src/markdown/index.ts";

/** Render into a div and return it. */
function md(source: string): HTMLDivElement {
  const div = document.createElement("div");
  div.append(renderMarkdown(source));
  return div;
}

/** A compact picture of the tree: tags with their children, text as JSON strings. */
function tree(node: Node): unknown {
  if (node.nodeType === 3) return node.textContent;
  const el = node as Element;
  const attrs = Array.from(el.attributes ?? []).map((a) => `${a.name}=${a.value}`);
  const children = Array.from(el.childNodes).map(tree);
  return [el.tagName.toLowerCase() + (attrs.length ? `[${attrs.join(" ")}]` : ""), ...children];
}
const shape = (source: string) => Array.from(md(source).childNodes).map(tree);
const LINK = (href: string) => `a[href=${href} target=_blank rel=noopener noreferrer nofollow]`;

/** Everything that could run, load, or navigate somewhere other than http(s)/mailto. */
function audit(root: Element) {
  const all = Array.from(root.querySelectorAll("*"));
  return {
    tags: [...new Set(all.map((el) => el.tagName.toLowerCase()))].sort(),
    handlers: all.flatMap((el) => Array.from(el.attributes).filter((a) => /^on/i.test(a.name)).map((a) => a.name)),
    attributes: [...new Set(all.flatMap((el) => Array.from(el.attributes).map((a) => a.name)))].sort(),
    hrefs: all.filter((el) => el.hasAttribute("href")).map((el) => el.getAttribute("href")!),
  };
}
const SAFE_TAGS = new Set(["p", "br", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre", "ul", "ol", "li", "blockquote", "hr", "a", "div", "table", "thead", "tbody", "tr", "th", "td"]);
const SAFE_ATTRIBUTES = new Set(["href", "target", "rel", "start", "data-language", "class"]);

function expectInert(source: string) {
  const root = md(source);
  const found = audit(root);
  expect(found.handlers).toEqual([]);
  expect(found.tags.filter((t) => !SAFE_TAGS.has(t))).toEqual([]);
  expect(found.attributes.filter((a) => !SAFE_ATTRIBUTES.has(a))).toEqual([]);
  for (const href of found.hrefs) expect(href).toMatch(/^(https?:\/\/|mailto:)/);
  return root;
}

describe("block structure", () => {
  it("paragraphs, with single newlines as line breaks", () => {
    expect(shape("First line\nsecond line\n\nNew paragraph")).toEqual([["p", "First line", ["br"], "second line"], ["p", "New paragraph"]]);
  });

  it("ATX headings h1–h6, closing hashes removed; #hashtag is text", () => {
    expect(shape("# One\n### Three ###\n###### Six\n#hashtag")).toEqual([["h1", "One"], ["h3", "Three"], ["h6", "Six"], ["p", "#hashtag"]]);
  });

  it("fenced code blocks keep their text verbatim, with the language as data; an unclosed fence runs to the end", () => {
    expect(shape("```ts\nconst a = 1 < 2 && **b**;\n  indented\n```\nafter")).toEqual([
      ["pre[data-language=ts]", ["code", "const a = 1 < 2 && **b**;\n  indented"]],
      ["p", "after"],
    ]);
    expect(shape("~~~\nstill streaming <b>")).toEqual([["pre", ["code", "still streaming <b>"]]]);
    expect(shape('```js" onmouseover="alert(1)\nx\n```')).toEqual([["pre[data-language=js]", ["code", "x"]]]);
  });

  it("bullet and ordered lists, nested by indentation, with a start number", () => {
    expect(shape("- a\n- b\n  - c\n  - d\n- e")).toEqual([["ul", ["li", "a"], ["li", "b", ["ul", ["li", "c"], ["li", "d"]]], ["li", "e"]]]);
    expect(shape("3. three\n4. **four**\n   - sub")).toEqual([["ol[start=3]", ["li", "three"], ["li", ["strong", "four"], ["ul", ["li", "sub"]]]]]);
    expect(shape("* star\n+ plus")).toEqual([["ul", ["li", "star"]], ["ul", ["li", "plus"]]]);
  });

  it("a list separated by blank lines keeps paragraphs in its items", () => {
    expect(shape("1. one\n\n2. two")).toEqual([["ol", ["li", ["p", "one"]], ["li", ["p", "two"]]]]);
  });

  it("blockquotes hold blocks, nested quotes included", () => {
    expect(shape("> quoted **text**\n> > deeper\n\nout")).toEqual([["blockquote", ["p", "quoted ", ["strong", "text"]], ["blockquote", ["p", "deeper"]]], ["p", "out"]]);
  });

  it("rules and tables (with alignment classes)", () => {
    expect(shape("---\n| a | b |\n|:--|--:|\n| `1` | 2 |")).toEqual([
      ["hr"],
      [
        "div[class=table-wrap]",
        ["table", ["thead", ["tr", ["th[class=align-left]", "a"], ["th[class=align-right]", "b"]]], ["tbody", ["tr", ["td[class=align-left]", ["code", "1"]], ["td[class=align-right]", "2"]]]],
      ],
    ]);
  });
});

describe("inline structure", () => {
  it("bold, italic, both, strikethrough and code", () => {
    expect(shape("**b** *i* __b2__ _i2_ ***bi*** ~~d~~ `c`")).toEqual([
      ["p", ["strong", "b"], " ", ["em", "i"], " ", ["strong", "b2"], " ", ["em", "i2"], " ", ["strong", ["em", "bi"]], " ", ["del", "d"], " ", ["code", "c"]],
    ]);
  });

  it("nests emphasis, and leaves lone or spaced delimiters and snake_case alone", () => {
    expect(shape("*a **b** c* 2 * 3 * 4 snake_case_name **unclosed")).toEqual([["p", ["em", "a ", ["strong", "b"], " c"], " 2 * 3 * 4 snake_case_name **unclosed"]]);
  });

  it("code spans are literal: no emphasis, no links, no entities inside", () => {
    expect(shape("`**not bold** [x](https://a.example) &amp;` and ``a ` b``")).toEqual([["p", ["code", "**not bold** [x](https://a.example) &amp;"], " and ", ["code", "a ` b"]]]);
  });

  it("backslash escapes", () => {
    expect(shape("\\*not em\\* \\[not](a link) \\&amp;")).toEqual([["p", "*not em* [not](a link) ", "&", "amp;"]]);
  });

  it("links: markdown, autolinks and bare URLs, http(s) and mailto only", () => {
    expect(shape("[the **docs**](https://example.com/a_(b) \"title\") <mailto:me@example.com> see https://example.org/x?y=1.")).toEqual([
      [
        "p",
        [LINK("https://example.com/a_(b)"), "the ", ["strong", "docs"]],
        " ",
        [LINK("mailto:me@example.com"), "mailto:me@example.com"],
        " see ",
        [LINK("https://example.org/x?y=1"), "https://example.org/x?y=1"],
        ".",
      ],
    ]);
  });

  it("a markdown image is never loaded: a safe one becomes a link, others stay text", () => {
    expect(shape("![a cat](https://example.com/cat.png) ![x](x.png)")).toEqual([["p", [LINK("https://example.com/cat.png"), "Image: a cat"], " ![x](x.png)"]]);
  });
});

describe("hostile input stays inert", () => {
  it("raw HTML is shown as text", () => {
    const root = expectInert('<img src=x onerror=alert(1)> <script>alert(1)</script> <a href="#" onclick="alert(1)">a</a> <svg onload=alert(1)></svg>');
    expect(root.textContent).toBe('<img src=x onerror=alert(1)> <script>alert(1)</script> <a href="#" onclick="alert(1)">a</a> <svg onload=alert(1)></svg>');
    expect(root.querySelectorAll("img, script, svg, iframe").length).toBe(0);
  });

  it("HTML in headings, lists, quotes, tables and code blocks is text too", () => {
    const root = expectInert("# <img src=x onerror=alert(1)>\n- <script>alert(1)</script>\n> <iframe src=javascript:alert(1)>\n\n| <b>x</b> |\n|---|\n| <i>y</i> |\n\n```\n<script>alert(2)</script>\n```");
    expect(root.querySelector("h1")!.textContent).toBe("<img src=x onerror=alert(1)>");
    expect(root.querySelector("pre code")!.textContent).toBe("<script>alert(2)</script>");
  });

  it.each([
    ["javascript:", "[x](javascript:alert(1))"],
    ["mixed case", "[x](JaVaScRiPt:alert(1))"],
    ["entity-encoded", "[x](jav&#x61;script:alert(1))"],
    ["decimal entity", "[x](&#106;avascript:alert(1))"],
    ["leading space", "[x]( javascript:alert(1))"],
    ["angle brackets", "[x](<javascript:alert(1)>)"],
    ["escaped colon", "[x](javascript\\:alert(1))"],
    ["tab inside", "[x](java\tscript:alert(1))"],
    ["vbscript:", "[x](vbscript:msgbox(1))"],
    ["data:", "[open](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"],
    ["data: image", "![x](data:image/svg+xml,<svg onload=alert(1)>)"],
    ["file:", "[x](file:///etc/passwd)"],
    ["relative", "[x](/settings)"],
    ["protocol-relative", "[x](//evil.example/x)"],
    ["autolink javascript:", "<javascript:alert(1)>"],
    ["image with an attribute escape", '![x](x" onerror="alert(1))'],
  ])("a %s link is not a link", (_name, source) => {
    const root = expectInert(source);
    expect(root.querySelectorAll("a").length).toBe(0);
    expect(root.textContent!.length).toBeGreaterThan(0);
  });

  it("entities decode to text, never to markup", () => {
    const root = expectInert("&lt;img src=x onerror=alert(1)&gt; &#60;script&#62; &amp;lt; &#0; &#xD800; &bogus;");
    expect(root.textContent).toBe("<img src=x onerror=alert(1)> <script> &lt; \ufffd \ufffd &bogus;");
    expect(root.querySelectorAll("img, script").length).toBe(0);
  });

  it("the whole /xss reply of the simulated model", () => {
    const source = [
      "- Raw image with an error handler: <img src=x onerror=alert(1)>",
      "- Markdown link to a javascript: URL: [click me](javascript:alert(1))",
      "- Same, with entity tricks: [click me too](jav&#x61;script:alert(1))",
      "- Markdown image with an event-handler escape: ![x](x\" onerror=\"alert(1))",
      "- Link to a data: URL: [open](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
      '- Style that covers the page: <div style="position:fixed;inset:0;background:red">covered</div>',
    ].join("\n");
    const root = expectInert(source);
    expect(root.querySelectorAll("a").length).toBe(0);
    expect(root.querySelectorAll("li").length).toBe(6);
  });

  it("deep nesting and huge inputs neither overflow the stack nor hang", () => {
    expectInert(`${"> ".repeat(500)}deep`);
    expectInert(`${"- ".repeat(300)}deep`);
    expectInert(`- a${"\n".repeat(100_000)}  b`);
    expectInert(`${"  ".repeat(200)}- deep`.repeat(200));
    // One long paragraph of unmatched delimiters: partners are found in one pass and failed searches are
    // remembered, so this is linear, not quadratic (happy-dom's own DOM is slow, so these make few elements).
    const started = performance.now();
    for (const unit of ["*a ", "[", "_x ", "~~a ", "[a](", "[a](<", "[a](x '", "<https:"]) expectInert(unit.repeat(20_000));
    expect(performance.now() - started).toBeLessThan(2000);
    // Many elements: correct, whatever the count.
    expect(md("**[".repeat(2000)).querySelectorAll("strong").length).toBe(1000);
    expect(md("word **bold** `code` [x](https://e.example) ".repeat(500)).querySelectorAll("strong, code, a").length).toBe(1500);
    expect(md("x".repeat(300_000)).querySelector("pre")?.textContent?.length).toBe(300_000);
  });
});

describe("safeHref", () => {
  it("passes absolute http(s) and mailto, normalised by the URL parser", () => {
    expect(safeHref("HTTPS://Example.com/a b")).toBeUndefined(); // whitespace: not a URL a model should link
    expect(safeHref("HTTPS://Example.com/path")).toBe("https://example.com/path");
    expect(safeHref("http://a.example/?q=<x>")).toBe("http://a.example/?q=%3Cx%3E");
    expect(safeHref("mailto:someone@example.com")).toBe("mailto:someone@example.com");
    expect(safeHref("https://a.example/&quot;onmouseover=&quot;x")).toBe("https://a.example/%22onmouseover=%22x");
  });
});

describe("the page's source", () => {
  it("never parses HTML: no innerHTML, outerHTML, insertAdjacentHTML, document.write or srcdoc in demo/src", () => {
    const root = join(import.meta.dirname, "../../demo/src");
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.(ts|js|mjs)$/.test(name)) files.push(path);
      }
    };
    walk(root);
    expect(files.length).toBeGreaterThan(10);
    const forbidden = /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write(ln)?|srcdoc|createContextualFragment|DOMParser|eval|new Function)\b/;
    const hits = files.flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .map((line, i) => [i, line] as const)
        .filter(([, line]) => forbidden.test(line))
        .map(([i, line]) => `${file}:${i + 1}: ${line.trim()}`),
    );
    expect(hits).toEqual([]);
  });
});
