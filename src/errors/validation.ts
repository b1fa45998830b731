import { EdgeChatError } from "./base.js";

export interface ValidationIssue {
  /** Where in the value, e.g. `choices[0].delta.content`; empty for the value itself. */
  path: string;
  message: string;
}

/** A value (a server reply, a stream chunk, imported JSON) is not of the expected shape. */
export class ValidationError extends EdgeChatError {
  static override readonly kind: string = "ValidationError";
  /** The first problem's path, e.g. `choices[0].delta.content`. */
  declare readonly path: string;
  declare readonly issues: readonly ValidationIssue[];

  constructor(what: string, issues: readonly ValidationIssue[], options?: { cause?: unknown }) {
    const first = issues[0];
    super(`Invalid ${what}${first ? `: ${first.path ? `${first.path}: ` : ""}${first.message}` : ""}`, options);
    this.path = first?.path ?? "";
    this.issues = issues;
  }
}

/** A valibot issue path as `choices[0].delta.content`. */
export function formatPath(path: readonly { key: unknown }[] | undefined): string {
  let out = "";
  for (const item of path ?? []) {
    const key = item.key;
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}
