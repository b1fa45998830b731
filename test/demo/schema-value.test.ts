// The simulator's JSON-Schema-to-value generator (demo/worker/simulated/schema-value.ts), in Node: for random valibot
// schemas, the value made from their JSON Schema (as @valibot/to-json-schema writes it, which is what edgechat sends)
// validates against the valibot schema itself — with hints that fit and hints that do not.
import fc from "fast-check";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { normalName, valueFor } from "../../demo/worker/simulated/schema-value.ts";
import { toJSONSchema } from "../../src/schema/standard.ts";

type Schema = v.GenericSchema;

const KEYS = ["words", "title", "tags", "width", "time", "answer", "id", "note", "items", "kind"];
// Hints of every type under the keys: the generator must take one only where it fits.
const HINTS = new Map<string, unknown[]>(
  Object.entries({
    words: [5, ["alpha", "beta"]],
    title: ["A title from the message, rather long for some schemas"],
    tags: [["one", "two", "three", "four", "five"]],
    width: [640, "wide"],
    time: ["12:00", 1],
    answer: ["The simulator's answer, a sentence."],
    id: [3.5, -7],
    note: [null, "a note"],
    kind: ["KIND", "zzz"],
  }).map(([k, list]) => [normalName(k), list]),
);

const leaf: fc.Arbitrary<Schema> = fc.oneof(
  fc.constant(v.string()),
  fc.tuple(fc.nat(10), fc.nat(30)).map(([min, extra]) => v.pipe(v.string(), v.minLength(min), v.maxLength(min + extra))),
  fc.constant(v.pipe(v.string(), v.email())),
  fc.constant(v.pipe(v.string(), v.url())),
  fc.constant(v.pipe(v.string(), v.isoTimestamp())),
  fc.constant(v.pipe(v.string(), v.uuid())),
  fc.constant(v.number()),
  fc.tuple(fc.integer({ min: -50, max: 50 }), fc.nat(100)).map(([min, span]) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(min + span))),
  fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: 0, max: 2, noNaN: true })).map(([min, span]) => v.pipe(v.number(), v.minValue(min), v.maxValue(min + span))),
  fc.constant(v.boolean()),
  fc.constant(v.null()),
  fc.uniqueArray(fc.constantFrom("kind", "KIND", "small", "large", "x"), { minLength: 1, maxLength: 4 }).map((options) => v.picklist(options)),
  fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean()).map((value) => v.literal(value)),
);

const { schema } = fc.letrec<{ schema: Schema }>((tie) => ({
  schema: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc
      .uniqueArray(fc.tuple(fc.constantFrom(...KEYS), tie("schema"), fc.boolean()), { maxLength: 4, selector: ([k]) => k })
      .chain((entries) =>
        fc.boolean().map((strict) => {
          const shape = Object.fromEntries(entries.map(([k, s, optional]) => [k, optional ? v.optional(s) : s]));
          return strict ? v.strictObject(shape) : v.object(shape);
        }),
      ),
    fc.tuple(tie("schema"), fc.nat(3), fc.nat(3)).map(([items, min, extra]) => v.pipe(v.array(items), v.minLength(min), v.maxLength(min + extra))),
    tie("schema").map((s) => v.nullable(s)),
    fc.tuple(tie("schema"), tie("schema")).map(([a, b]) => v.union([a, b])),
    fc.array(tie("schema"), { minLength: 1, maxLength: 3 }).map((items) => v.tuple(items)),
  ),
}));

describe("valueFor", () => {
  it("makes a value of any schema, with or without hints (property, 400 schemas)", () => {
    fc.assert(
      fc.property(schema, fc.boolean(), (s, hinted) => {
        const json = toJSONSchema(s);
        const value = valueFor(json, hinted ? HINTS : new Map(), ["Five", "words", "are", "in", "here"]);
        const result = v.safeParse(s, value);
        if (!result.success) throw new Error(`${JSON.stringify(value)} is not a value of ${JSON.stringify(json)}: ${result.issues[0].message}`);
      }),
      { numRuns: 400 },
    );
  });

  it("takes a hint where it fits: counts, titles cut to the length allowed, lists, an enum's value in any case", () => {
    const json = toJSONSchema(
      v.object({
        words: v.number(),
        title: v.pipe(v.string(), v.maxLength(12)),
        tags: v.pipe(v.array(v.string()), v.maxLength(2)),
        kind: v.picklist(["kind", "other"]),
        width: v.pipe(v.number(), v.integer(), v.maxValue(100)),
      }),
    );
    expect(valueFor(json, HINTS)).toEqual({ words: 5, title: "A title from", tags: ["one", "two"], kind: "kind", width: 100 });
  });

  it("follows $ref into $defs and definitions, merges allOf, and stops recursion", () => {
    const tree = { $ref: "#/$defs/node", $defs: { node: { type: "object", properties: { name: { type: "string" }, children: { type: "array", items: { $ref: "#/$defs/node" } } }, required: ["name"] } } };
    const value = valueFor(tree, new Map(), ["leaf"]) as { name: string; children: unknown[] };
    expect(value.name).toBe("leaf");
    expect(JSON.stringify(value).length).toBeLessThan(20_000);
    expect(valueFor({ allOf: [{ type: "object", properties: { a: { const: 1 } } }, { properties: { b: { type: "boolean" } }, required: ["b"] }] })).toEqual({ a: 1, b: true });
    expect(valueFor({ definitions: { n: { type: "integer", minimum: 4 } }, type: "array", items: { $ref: "#/definitions/n" }, minItems: 3 })).toEqual([4, 4, 4]);
  });

  it("a pattern is met when a plain candidate does; numbers keep multipleOf and exclusive bounds", () => {
    expect(valueFor({ type: "string", pattern: "^[0-9]+$" })).toBe("0");
    expect(valueFor({ type: "number", minimum: 7, multipleOf: 5 })).toBe(10);
    expect(valueFor({ type: "integer", exclusiveMinimum: 3, exclusiveMaximum: 10 })).toBe(4);
    expect(valueFor({ type: ["null", "string"] }, new Map(), ["word"])).toBe("word");
  });
});
