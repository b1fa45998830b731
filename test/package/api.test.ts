// The API report guard: etc/api.md is the declared public surface of every entry (see api-report.ts for how it is
// made). A change to what the package exports fails here until the file is updated, so it shows in review:
//
//   UPDATE_API=1 npx vitest run --project node test/package/api.test.ts
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiReport, emitDeclarations, packageEntries } from "./api-report.ts";

const FILE = join(import.meta.dirname, "../../etc/api.md");

describe("the API report (etc/api.md)", () => {
  let emitted: ReturnType<typeof emitDeclarations>;
  let report: string;
  beforeAll(() => {
    emitted = emitDeclarations();
    report = apiReport(emitted.dir);
  }, 30_000);
  afterAll(() => emitted.dispose());

  it("matches the declarations of every entry in package.json's exports", () => {
    if (process.env.UPDATE_API) writeFileSync(FILE, report);
    const committed = existsSync(FILE) ? readFileSync(FILE, "utf8") : "";
    expect(report, "The public API changed: review the diff, then run UPDATE_API=1 npx vitest run --project node test/package/api.test.ts").toBe(committed);
  });

  it("covers the entries the build makes, and no other", async () => {
    const { entries } = await import("../../vite.config.ts");
    const built = Object.keys(entries).map((name) => `${name}.d.ts`).sort();
    expect(packageEntries().map((e) => e.dts).sort()).toEqual(built);
  });

  it("refuses what must not be public: an @internal member a user can reach, a default export", () => {
    const dir = emitted.dir;
    writeFileSync(join(dir, "probe-internal.d.ts"), "export declare class Probe {\n    /** @internal */\n    poke(): void;\n}\n");
    writeFileSync(join(dir, "probe-default.d.ts"), "declare const x = 1;\nexport default x;\n");
    expect(() => apiReport(dir, [{ specifier: "probe", dts: "probe-internal.d.ts" }])).toThrow(/@internal/);
    expect(() => apiReport(dir, [{ specifier: "probe", dts: "probe-default.d.ts" }])).toThrow(/default export/);
  });
});
