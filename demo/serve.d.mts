// Types of serve.mjs, for the tests that start the demo exactly as `npm run demo` does.
import type { ViteDevServer } from "vite";
import type { RunningWorker, WorkerEnv } from "./worker/dev.mjs";

export interface StartDemoOptions {
  /** The page's port; default DEMO_PORT or 5173; 0 (or a taken port) picks a free one. */
  port?: number;
  /** The Worker's port; default WORKER_PORT or 8787; 0 (or a taken port) picks a free one. */
  workerPort?: number;
  /** The Worker's vars; default envFromProcess(). ALLOWED_ORIGINS gets the page's origins added. */
  env?: WorkerEnv;
  logLevel?: "info" | "warn" | "error" | "silent";
  /**
   * Default true: vite watches the sources and reloads the page when one changes. Tests pass false, so an edit made
   * while they run (a source file saved mid-test) cannot reload their pages mid-reply.
   */
  watch?: boolean;
}

export interface RunningDemo {
  /** The page, e.g. `http://127.0.0.1:5173/`. */
  url: string;
  worker: RunningWorker;
  mode: "simulated" | "deepinfra";
  vite: ViteDevServer;
  close(): Promise<void>;
}

export function startDemo(options?: StartDemoOptions): Promise<RunningDemo>;
export function freePort(preferred: number, host?: string): Promise<number>;
/** Where the Deno chat looks for the Worker when given no --base-url. */
export const DEFAULT_API: string;
/** The command that starts the Deno terminal chat against the Worker at `baseURL` (demo/README.md's, for the default). */
export function denoCommand(baseURL: string): string;
