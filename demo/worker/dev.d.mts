// Types of dev.mjs, for the TypeScript code (tests, the demo launcher) that imports it.
import type { Miniflare } from "miniflare";
import type { Env } from "./platform.ts";

/** The Worker's vars and secret (its Env less the bindings); any left out come from wrangler.jsonc (no token: simulated). */
export type WorkerEnv = Omit<Env, "RATE_LIMITER" | "SIMULATOR" | "GENERATIONS">;

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
  mode: "deepinfra" | "server" | "simulated";
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
