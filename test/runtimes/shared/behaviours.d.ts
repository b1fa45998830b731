import type { Assert } from "./assert.d.ts";

/** The runtimes the suites cover; a behaviour may expect different results in a browser page. */
export type Runtime = "node" | "chromium" | "deno" | "workers";

/** What a behaviour gets: the packed package as the runtime loaded it, and where the upstream is. */
export interface BehaviourContext {
  /** `import * as sdk from "edgechat"` (typed loosely: the tests type-check without the package installed). */
  sdk: Record<string, any>;
  /** `import * as sse from "edgechat/sse"`. */
  sse: Record<string, any>;
  /** `import * as tools from "edgechat/tools"`. */
  tools: Record<string, any>;
  /** `import * as structured from "edgechat/structured"`. */
  structured: Record<string, any>;
  /** `import * as v from "valibot"`, the copy the packed package depends on (resolved from the consumer project). */
  v: Record<string, any>;
  /** `import * as sdkCopy from "edgechat-copy"`: the same tarball installed twice, a second copy of the package. */
  sdkCopy: Record<string, any>;
  /** Origin of the shared upstream (upstream.js), e.g. `http://127.0.0.1:41234`. */
  base: string;
  runtime: Runtime;
  assert: Assert;
}

export interface Behaviour {
  name: string;
  /**
   * A known SDK bug this behaviour demonstrates: the suites expect it to FAIL (vitest `it.fails`), so they stay
   * green until the bug is fixed, and then fail, asking for this field to be removed.
   */
  knownIssue?: string;
  run(t: BehaviourContext): Promise<void>;
}

export interface BehaviourResult {
  ok: boolean;
  error?: { name: string; message: string; stack: string };
}

export declare const behaviours: Behaviour[];
export declare function runBehaviour(name: string, t: BehaviourContext): Promise<BehaviourResult>;
