// Llama 3 writes a call as text when the server does not parse it: `<|python_tag|>{"name": …, "parameters": {…}}`,
// or the bare JSON, several separated by ";". Read only when the request declared tools.

const TAG = "<|python_tag|>";
/** Whether `text` (a step's text so far) may still turn out to be calls written as text: held back until known. */
export function mayBeCalls(text: string): boolean {
  const t = text.trimStart();
  if (t.startsWith(TAG) || TAG.startsWith(t)) return true;
  if (t[0] !== "{") return false;
  // `{ "name" :` so far, or a beginning of it.
  const rest = t.slice(1).trimStart();
  if (!rest.startsWith('"name"')) return '"name"'.startsWith(rest);
  const after = rest.slice(6).trimStart();
  return after === "" || after[0] === ":";
}

/** The calls `text` writes (a whole step's text), or undefined when it is not only calls. */
export function parseCalls(text: string): { name: string; arguments: string }[] | undefined {
  let rest = text.trim();
  if (rest.startsWith(TAG)) rest = rest.slice(TAG.length);
  rest = rest.replace(/<\|(eom_id|eot_id)\|>\s*$/, "");
  const calls: { name: string; arguments: string }[] = [];
  let at = 0;
  while (at < rest.length) {
    while (at < rest.length && /[\s;]/.test(rest[at]!)) at++;
    if (at === rest.length) break;
    const end = objectEnd(rest, at);
    if (end === -1) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(rest.slice(at, end));
    } catch {
      return undefined;
    }
    const { name, parameters = (value as { arguments?: unknown }).arguments } = value as { name?: unknown; parameters?: unknown };
    if (typeof name !== "string" || typeof parameters !== "object" || parameters === null || Array.isArray(parameters)) return undefined;
    calls.push({ name, arguments: JSON.stringify(parameters) });
    at = end;
  }
  return calls.length > 0 ? calls : undefined;
}

/** Where the JSON object starting at `start` ends (after its "}"), strings skipped; -1 if it does not. */
function objectEnd(text: string, start: number): number {
  if (text[start] !== "{") return -1;
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (c === "{" || c === "[") depth++;
    else if ((c === "}" || c === "]") && --depth === 0) return i + 1;
  }
  return -1;
}
