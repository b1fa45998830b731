// Registers the shared behaviours as vitest tests for one runtime. Known SDK issues are expected to fail
// (`it.fails`: once the bug is fixed the test fails, asking to drop `knownIssue`).
import { it } from "vitest";
import { type Behaviour, behaviours, type Runtime } from "./behaviours.js";

export function registerBehaviours(runtime: Runtime, run: (behaviour: Behaviour) => Promise<void>): void {
  for (const behaviour of behaviours) {
    if (behaviour.knownIssue) it.fails(`${behaviour.name} [known SDK issue: expected to fail until fixed]`, () => run(behaviour));
    else it(behaviour.name, () => run(behaviour));
  }
}

/** Rebuild an error reported from inside another runtime, with that runtime's stack. */
export function remoteError(where: string, error: { name: string; message: string; stack: string } | undefined): Error {
  const e = new Error(`in ${where}: ${error?.name}: ${error?.message}`);
  e.stack = `${e.message}\n--- ${where} stack ---\n${error?.stack}`;
  return e;
}
