// @ts-self-types="./assert.d.ts"
// A tiny assert for the runtime suites: the same file runs in Node, Chromium, Deno and workerd, where
// node:assert, jsr:@std/assert and vitest's expect are not all available.

export class AssertionError extends Error {
  constructor(message) {
    super(message);
    this.name = "AssertionError";
  }
}

const show = (value) => {
  try {
    return typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
};

function equalDeep(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && equalDeep(a[k], b[k]));
}

export const assert = {
  ok(value, message = "expected a truthy value") {
    if (!value) throw new AssertionError(`${message} (got ${show(value)})`);
  },
  equal(actual, expected, message = "values differ") {
    if (!Object.is(actual, expected)) throw new AssertionError(`${message}: expected ${show(expected)}, got ${show(actual)}`);
  },
  deepEqual(actual, expected, message = "values differ") {
    if (!equalDeep(actual, expected)) throw new AssertionError(`${message}:\n  expected ${show(expected)}\n  got      ${show(actual)}`);
  },
  instanceOf(value, Class, message = "wrong class") {
    if (!(value instanceof Class)) {
      const got = value instanceof Error ? `${value.name}: ${value.message}` : show(value);
      throw new AssertionError(`${message}: expected a ${Class.name}, got ${got}`);
    }
  },
  /** Await `promiseOrFn` and return what it rejected with; fail if it resolved or rejected with another class. */
  async rejects(promiseOrFn, Class, message = "expected a rejection") {
    try {
      await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn);
    } catch (error) {
      if (Class) assert.instanceOf(error, Class, message);
      return error;
    }
    throw new AssertionError(`${message}, but it resolved`);
  },
  /** Call `fn` and return what it threw; fail if it returned or threw another class. */
  throws(fn, Class, message = "expected a throw") {
    try {
      fn();
    } catch (error) {
      if (Class) assert.instanceOf(error, Class, message);
      return error;
    }
    throw new AssertionError(`${message}, but it returned`);
  },
  fail(message) {
    throw new AssertionError(message);
  },
};
