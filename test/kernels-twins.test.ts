// Every Wasm kernel against its plain TypeScript twin (src/core/twins.ts) on seeded random
// inputs, plus the special cases. Tolerances: bit-exact where the operation order is the
// same (K = infinity out vector, scale, w1Grid, masked max, counts); relative 1e-12 for sums
// (the kernels sum two interleaved lanes); 1e-15 for the weights (NativeMath exp vs the
// engine's Math.exp, both within 1 ulp).
import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels } from "../src/core/kernels.js";
import { twins } from "../src/core/twins.js";
import { loadKernels, maxRelErr, randomSimplex, relErr, rng } from "./helpers.js";

let k: Kernels;
beforeAll(async () => {
  k = await loadKernels();
});

const sizes = [1, 2, 3, 7, 64, 513, 1001, 1025];
const groups = [1, 2, 3, 8];
// The general-m step (m >= 3) works in blocks of 4096 atoms (assembly/update.ts, BLOCK): sizes
// past one block, an exact multiple, and a ragged odd tail compare every block boundary.
const blockedSizes = [4096, 9000, 12289];
const cases = [
  ...sizes.flatMap((n) => groups.map((m) => [n, m])),
  ...blockedSizes.flatMap((n) => [3, 8].map((m) => [n, m])),
];

describe("weights and the K = infinity step", () => {
  const rand = rng(1);
  for (const [n, m] of cases) {
    it(`n=${n}, m=${m}`, () => {
      const r = new Float64Array(n * m).map(() => -20 * rand());
      const a = k.computeWeightsArrays(r, n, m, 0.8);
      const b = twins.computeWeightsArrays(r, n, m, 0.8);
      expect(a.max).toEqual(b.max);
      expect(maxRelErr(a.w, b.w)).toBeLessThanOrEqual(1e-15);
      const w = b.w;
      const p = randomSimplex(n, rand, 0.2);
      const pData = randomSimplex(n, rand);
      const c = new Float64Array(m).map(() => rand() * 3);
      for (const lambda of [0, 0.3]) {
        const x = k.kinfStepArrays(p, w, n, m, c, lambda, pData);
        const y = twins.kinfStepArrays(p, w, n, m, c, lambda, pData);
        expect(x.out).toEqual(y.out);
        expect(relErr(x.sum, y.sum)).toBeLessThanOrEqual(1e-12);
        expect(maxRelErr(x.zNext, y.zNext)).toBeLessThanOrEqual(1e-12);
      }
      expect(maxRelErr(k.zValuesArrays(p, w, n, m), twins.zValuesArrays(p, w, n, m))).toBeLessThanOrEqual(1e-12);
      expect(maxRelErr(k.groupStatsArrays(p, r, w, n, m), twins.groupStatsArrays(p, r, w, n, m))).toBeLessThanOrEqual(1e-12);
      const mask = new Uint8Array(n).map(() => (rand() < 0.5 ? 1 : 0));
      expect(k.maskedMultiplierMaxArrays(w, n, m, c, mask)).toBe(twins.maskedMultiplierMaxArrays(w, n, m, c, mask));
    });
  }

  it("lambda = 0 never reads p_data (null pointer is fine)", () => {
    const n = 5;
    const p = randomSimplex(n, rng(2));
    const w = new Float64Array(2 * n).fill(0.5);
    const out = k.kinfStepArrays(p, w, n, 2, new Float64Array([1, 1]), 0).out;
    expect(maxRelErr(out, p)).toBeLessThanOrEqual(1e-15);
  });

  it("a fixed point of the K = infinity step keeps p and Z", () => {
    const n = 4;
    const p = new Float64Array([0.25, 0.25, 0.25, 0.25]);
    const w = new Float64Array([1, 1, 1, 1]);
    const { out, zNext, sum } = k.kinfStepArrays(p, w, n, 1, new Float64Array([1]), 0);
    expect(out).toEqual(p);
    expect(zNext[0]).toBe(1);
    expect(sum).toBe(1);
  });
});

describe("reductions and divergences", () => {
  const rand = rng(3);
  for (const n of sizes) {
    it(`n=${n}`, () => {
      const a = randomSimplex(n, rand, 0.25);
      const b = randomSimplex(n, rand, 0.25);
      const mask = new Uint8Array(n).map(() => (rand() < 0.5 ? 1 : 0));
      const close = (x: number, y: number) => expect(Math.abs(x - y), `${x} vs ${y}`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(y)));
      close(k.sumArray(a), twins.sumArray(a));
      expect(k.scaleArrays(a, 1.7)).toEqual(twins.scaleArrays(a, 1.7));
      close(k.maskedSumArrays(a, mask), twins.maskedSumArrays(a, mask));
      close(k.entropyArray(a), twins.entropyArray(a));
      expect(k.klDivergenceArrays(a, b)).toBe(twins.klDivergenceArrays(a, b));
      const bPos = b.map((v) => v + 1e-9);
      close(k.klDivergenceArrays(a, bPos), twins.klDivergenceArrays(a, bPos));
      close(k.l1DistanceArrays(a, b), twins.l1DistanceArrays(a, b));
      expect(k.w1GridArrays(a, b, 0.01)).toBe(twins.w1GridArrays(a, b, 0.01));
      expect(k.countPositiveArray(a)).toBe(twins.countPositiveArray(a));
    });
  }
});

describe("special cases", () => {
  it("entropy: 0 log 0 = 0, one atom, uniform", () => {
    expect(k.entropyArray(new Float64Array([0, 1, 0]))).toBe(0);
    expect(k.entropyArray(new Float64Array([1]))).toBe(0);
    expect(Math.abs(k.entropyArray(new Float64Array(8).fill(1 / 8)) - Math.log(8))).toBeLessThan(1e-15);
  });
  it("KL: +Infinity where q has no mass, 0 for equal, never NaN", () => {
    expect(k.klDivergenceArrays(new Float64Array([0.5, 0.5]), new Float64Array([1, 0]))).toBe(Infinity);
    expect(k.klDivergenceArrays(new Float64Array([1, 0]), new Float64Array([0.5, 0.5]))).toBeCloseTo(Math.log(2), 15);
    expect(k.klDivergenceArrays(new Float64Array([0.3, 0.7]), new Float64Array([0.3, 0.7]))).toBe(0);
    expect(k.klDivergenceArrays(new Float64Array([0, 0]), new Float64Array([0, 0]))).toBe(0);
  });
  it("masked max: -Infinity for an empty mask; masked sum 0", () => {
    const w = new Float64Array([1, 2, 3]);
    expect(k.maskedMultiplierMaxArrays(w, 3, 1, new Float64Array([1]), new Uint8Array(3))).toBe(-Infinity);
    expect(k.maskedSumArrays(w, new Uint8Array(3))).toBe(0);
    expect(k.maskedMultiplierMaxArrays(w, 3, 1, new Float64Array([2]), new Uint8Array([1, 0, 1]))).toBe(6);
  });
  it("distances: disjoint and identical supports", () => {
    const a = new Float64Array([1, 0, 0]);
    const b = new Float64Array([0, 0, 1]);
    expect(k.l1DistanceArrays(a, b)).toBe(2);
    expect(k.w1GridArrays(a, b, 0.5)).toBe(1);
  });
  it("groupStats: r = -Infinity outside the support is ignored; variance shifted by the mean", () => {
    const p = new Float64Array([0, 0.5, 0.5]);
    const r = new Float64Array([-Infinity, 1e8 + 1, 1e8 - 1]);
    const w = new Float64Array([0, 1, Math.exp(-2)]);
    const s = k.groupStatsArrays(p, r, w, 3, 1);
    expect(s[0]).toBe(1e8);
    expect(s[1]).toBe(1);
    expect(s[2]).toBeCloseTo((1 + Math.exp(-2)) / 2, 15);
  });
  it("countPositive and the arena survive memory growth", () => {
    const n = 3_000_000;
    const p = new Float64Array(n);
    p[17] = 1;
    p[n - 1] = 1e-300;
    expect(k.countPositiveArray(p)).toBe(2);
    expect(k.sumArray(p)).toBe(1);
    k.reset();
    const ptr = k.allocF64(3);
    expect(ptr % 16).toBe(0);
    k.write(ptr, [1, 2, 3]);
    const copy = k.read(ptr, 3);
    k.allocF64(4_000_000);
    expect(Array.from(copy)).toEqual([1, 2, 3]);
    expect(Array.from(k.read(ptr, 3))).toEqual([1, 2, 3]);
    k.reset();
  });
});
