export declare class AssertionError extends Error {}

type Class<T> = abstract new (...args: never[]) => T;

export interface Assert {
  ok(value: unknown, message?: string): asserts value;
  equal<T>(actual: unknown, expected: T, message?: string): asserts actual is T;
  deepEqual(actual: unknown, expected: unknown, message?: string): void;
  instanceOf<T>(value: unknown, Class: Class<T>, message?: string): asserts value is T;
  rejects<T = unknown>(promiseOrFn: Promise<unknown> | (() => Promise<unknown>), Class?: Class<T>, message?: string): Promise<T>;
  throws<T = unknown>(fn: () => unknown, Class?: Class<T>, message?: string): T;
  fail(message: string): never;
}

export declare const assert: Assert;
