// The peer suite's own config (not a project of the default one, so `npm test` never builds llama.cpp):
// `node test/peer/run.mjs`, or `vitest run --config test/peer/vitest.config.ts` once the server is built.
import { join } from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: join(import.meta.dirname, "../.."),
    name: "peer",
    environment: "node",
    include: ["test/peer/**/*.peer.ts"],
    globalSetup: ["test/peer/global-setup.mjs"],
    // One server with one slot: files run one after another, so a case's timing is its own.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
