// toJsonChunks writes the text of toJson in pieces: joined, the pieces must be toJson's text
// exactly, whatever the indentation and wherever a piece ends.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toJson, toJsonChunks } from "../src/core/json.js";

const streamed = (value: unknown, indent?: number, chunkChars?: number) => [...toJsonChunks(value, indent, chunkChars)].join("");

const sparse: unknown[] = [1];
sparse[3] = 4;

const values: [string, unknown][] = [
  ["null", null],
  ["true", true],
  ["a number", 0.1],
  ["-0", -0],
  ["NaN", NaN],
  ["Infinity", Infinity],
  ["-Infinity", -Infinity],
  ["a string with quotes, controls, unicode and a lone surrogate", 'a"b\\c\n\t\u0001\u007f\u2028é😀\ud800'],
  ["an empty array", []],
  ["an empty object", {}],
  ["nested empty arrays", [[], [[]], {}, { a: [] }]],
  ["non-finite numbers inside arrays and objects", { kl: Infinity, gap: [NaN, -Infinity, 1, 2], deep: { x: [[NaN]] } }],
  ["undefined, functions and symbols (left out of objects, null in arrays)", { a: undefined, b: () => 1, c: Symbol("s"), d: [undefined, () => 1, Symbol("t")], e: 1 }],
  ["an object whose every member is left out", { a: undefined, b: () => 0 }],
  ["a sparse array", sparse],
  ["toJSON (a Date), nested", { at: new Date(0), list: [new Date(86_400_000)] }],
  ["toJSON returning a non-finite number", { v: { toJSON: () => NaN } }],
  ["boxed primitives", [Object(1), Object("s"), Object(false), Object(NaN)]],
  ["a typed array (an object keyed by index, as JSON.stringify writes it)", { p: new Float64Array([0.5, 0.25, NaN]) }],
  ["keys that need escaping", { "a\"b": 1, "": 2, "\u001b[31m": 3, 10: 4 }],
  ["a run result's shape", { engine: { version: "0.1.0" }, trajectory: [{ generation: 0, basinMass: [0.3, 0.7], klToNash: Infinity }], final: { p: Array.from({ length: 50 }, (_, i) => i / 49) } }],
];

describe("toJsonChunks", () => {
  for (const [name, value] of values) {
    it(`equals toJson for ${name}, at every indentation and piece size`, () => {
      for (const indent of [undefined, 0, 1, 2, 4, 12]) {
        const want = toJson(value, indent);
        for (const chunkChars of [1, 3, 16, 1 << 16]) expect(streamed(value, indent, chunkChars)).toBe(want);
      }
    });
  }

  it("yields nothing where toJson gives undefined (undefined, a function, a symbol)", () => {
    for (const v of [undefined, () => 1, Symbol("x")]) {
      expect(toJson(v)).toBeUndefined();
      expect([...toJsonChunks(v, 2)]).toEqual([]);
    }
  });

  it("throws a TypeError on a cycle and on a BigInt, as JSON.stringify does", () => {
    const cycle: Record<string, unknown> = { a: [1] };
    (cycle.a as unknown[]).push(cycle);
    expect(() => streamed(cycle, 2)).toThrow(TypeError);
    expect(() => streamed({ n: 1n })).toThrow(TypeError);
  });

  it("keeps pieces near the requested size: a large array of numbers is not one string", () => {
    const p = Array.from({ length: 200_000 }, (_, i) => Math.sqrt(i));
    const pieces = [...toJsonChunks({ p }, 2, 4096)];
    expect(pieces.length).toBeGreaterThan(100);
    // A piece ends at most one member, or one run of 1,024 numbers (each under 32 characters here), past the size.
    expect(Math.max(...pieces.map((c) => c.length))).toBeLessThan(4096 + 1024 * 32);
    expect(pieces.join("")).toBe(toJson({ p }, 2));
  });

  it("writes a nesting 50,000 deep without using the call stack", () => {
    let deep: unknown = [];
    for (let i = 0; i < 50_000; i++) deep = [deep];
    const text = streamed(deep, undefined, 1 << 16);
    expect(text.length).toBe(2 * 50_001);
    expect(text.startsWith("[[[")).toBe(true);
  });

  it("equals toJson on arbitrary values (property test)", () => {
    const anything = fc.anything({
      withBoxedValues: true,
      withTypedArray: true,
      withSparseArray: true,
      withNullPrototype: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withBigInt: false,
    });
    fc.assert(
      fc.property(anything, fc.constantFrom(undefined, 2), fc.integer({ min: 1, max: 40 }), (value, indent, chunkChars) => {
        const want = toJson(value, indent);
        const got = [...toJsonChunks(value, indent, chunkChars)];
        expect(want === undefined ? got : got.join("")).toEqual(want === undefined ? [] : want);
      }),
      { numRuns: 300 },
    );
  });
});
