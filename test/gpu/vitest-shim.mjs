// The part of vitest's API test/gpu/gpu-device.test.ts uses, over node:test and node:assert, so the
// bundle test/gpu/bundle.mjs makes runs with `node --test` on a GPU machine that has no vitest.
// Only what that file uses; a matcher it does not use throws, rather than passing by accident.
import assert from 'node:assert/strict';
import { after, before, describe as nodeDescribe, it as nodeIt } from 'node:test';

export const beforeAll = before;
export const afterAll = after;
export function it(name, fn) {
  return nodeIt(name, fn);
}
it.skipIf = (skip) => (name, fn) => nodeIt(name, { skip }, fn);

export function describe(name, fn) {
  return nodeDescribe(name, fn);
}
describe.skipIf = (skip) => (name, fn) => nodeDescribe(name, { skip }, fn);

function throwsLike(fn, expected) {
  if (expected === undefined) return assert.throws(fn);
  if (typeof expected === 'string') return assert.throws(fn, (e) => e instanceof Error && e.message.includes(expected));
  if (expected instanceof RegExp) return assert.throws(fn, (e) => e instanceof Error && expected.test(e.message));
  return assert.throws(fn, expected);
}

export function expect(actual, message) {
  const m = {
    toBe: (v) => assert.strictEqual(actual, v, message),
    toEqual: (v) => assert.deepStrictEqual(actual, v, message),
    toThrow: (v) => throwsLike(actual, v),
    toBeInstanceOf: (c) => assert.ok(actual instanceof c, message ?? `expected an instance of ${c.name}`),
    toMatch: (re) => assert.match(actual, typeof re === 'string' ? new RegExp(re.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : re, message),
    toHaveLength: (n) => assert.strictEqual(actual.length, n, message),
    toBeGreaterThan: (n) => assert.ok(actual > n, message ?? `expected ${actual} > ${n}`),
  };
  return new Proxy(m, {
    get(target, key) {
      if (key in target) return target[key];
      throw new Error(`vitest-shim: expect(...).${String(key)} is not implemented; add it to test/gpu/vitest-shim.mjs`);
    },
  });
}
