// Types of dev.mjs, for the TypeScript code (tests, the demo launcher) that imports it.
import type { Miniflare } from "miniflare";

/** The Worker's vars and secret; any left out come from wrangler.jsonc (DEEPINFRA_TOKEN: none, so simulated). */
export interface WorkerEnv {
  DEEPINFRA_TOKEN?: string;
  UPSTREAM_URL?: string;
  ALLOWED_ORIGINS?: string;
  ALLOWED_MODELS?: string;
  MAX_TOKENS_CAP?: string | number;
  MAX_BODY_BYTES?: string | number;
  RATE_LIMIT_REQUESTS?: string | number;
  RATE_LIMIT_WINDOW_SECONDS?: string | number;
  SIMULATED_TOKENS_PER_SECOND?: string | number;
}

export interface StartWorkerOptions {
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  env?: WorkerEnv;
  /** A directory for the Durable Objects' SQLite files; default in memory. */
  persist?: string;
}

export interface RunningWorker {
  /** e.g. `http://127.0.0.1:8787` */
  url: string;
  /** `${url}/v1/openai`: the SDK's `baseURL`. */
  baseURL: string;
  mode: "deepinfra" | "simulated";
  miniflare: Miniflare;
  dispose(): Promise<void>;
}

export function startWorker(options?: StartWorkerOptions): Promise<RunningWorker>;
export function bundleWorker(): Promise<string>;
export function envFromProcess(): WorkerEnv;
export function readWranglerConfig(): {
  name: string;
  compatibility_date: string;
  vars: Record<string, string>;
  durable_objects: { bindings: { name: string; class_name: string }[] };
  migrations: { tag: string; new_sqlite_classes?: string[] }[];
};
