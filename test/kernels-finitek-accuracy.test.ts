// The finite-K kernel's fast quadrature (series left of each atom's active range, per-pair
// squaring chains on it, right cuts) against the twin's direct trapezoid on the same nodes,
// one exp per node and atom: on the grids the presets use, mass defect <= 1e-12 and total
// variation <= 1e-11 (docs/model.md, section 3).
import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels } from "../src/core/kernels.js";
import { finiteKH, twins } from "../src/core/twins.js";
import { loadKernels, normalised, quadraticGrid } from "./helpers.js";

let k: Kernels;
beforeAll(async () => {
  k = await loadKernels();
});

describe("finite K on a 3001-atom grid: fast kernel vs the direct trapezoid", () => {
  const n = 3001;
  const { xs, r } = quadraticGrid(n, -12, 12, [-1, 1]);
  const w = twins.computeWeightsArrays(r, n, 2, 1).w;
  const q = new Float64Array([0.3, 0.7]);
  const ps: [string, Float64Array][] = [
    ["uniform", new Float64Array(n).fill(1 / n)],
    ["collapsed on one well", normalised(xs.map((x) => Math.exp(-(((x - 1) / 0.05) ** 2) / 2)))],
    ["two bumps and a 1e-12 floor", normalised(xs.map((x) => Math.exp(-((x + 1) ** 2) * 20) + 0.3 * Math.exp(-((x - 1.2) ** 2) * 50) + 1e-12))],
  ];
  for (const [name, p] of ps) {
    // K = 17 and 18: the two ways of raising phi to K - 1; K = 2^20: ranges of 24 nodes.
    it(`${name}, K in {2, 4, 17, 18, 64, 1024, 2^20}`, () => {
      for (const K of [2, 4, 17, 18, 64, 1024, 2 ** 20]) {
        const a = k.finiteKStepArrays(p, w, n, 2, q, K, 0);
        const b = twins.finiteKStepArrays(p, w, n, 2, q, K, 0);
        expect(Math.abs(1 - a.sum), `K=${K} defect`).toBeLessThanOrEqual(1e-12);
        let tv = 0;
        for (let x = 0; x < n; x++) tv += Math.abs(a.out[x] / a.sum - b.out[x] / b.sum) / 2;
        expect(tv, `K=${K} TV`).toBeLessThanOrEqual(1e-11);
      }
    });
  }

  it("a pair of neighbouring atoms with weights 30 e-folds apart (one shared range, chains restarted)", () => {
    const p = new Float64Array([0.25, 0.25, 0.25, 0.25]);
    const wv = new Float64Array([1, Math.exp(-30), 0.3, 1e-12]);
    for (const K of [2, 3, 64]) {
      const a = k.finiteKStepArrays(p, wv, 4, 1, new Float64Array([1]), K, 0);
      const b = twins.finiteKStepArrays(p, wv, 4, 1, new Float64Array([1]), K, 0);
      for (let x = 0; x < 4; x++) expect(Math.abs(a.out[x] - b.out[x]) / b.out[x], `K=${K} atom ${x}`).toBeLessThanOrEqual(1e-12);
    }
  });
});

describe("finite K on 12 atoms (the table path): every atom against the direct trapezoid", () => {
  // docs/model.md's worked example: x = linspace(-3, 3, 12), wells at +2 and -2, tau = 1.
  const n = 12;
  const xs = Float64Array.from({ length: n }, (_, i) => -3 + (6 * i) / 11);
  const w = new Float64Array(2 * n);
  xs.forEach((x, i) => {
    w[i] = Math.exp(-((x - 2) ** 2));
    w[n + i] = Math.exp(-((x + 2) ** 2));
  });
  const q = new Float64Array([0.3, 0.7]);
  const ps: [string, Float64Array][] = [
    ["gaussian", normalised(xs.map((x) => Math.exp(-(x * x) / 2)))],
    ["two atoms and a 1e-170 floor", normalised(xs.map((_, i) => (i === 2 || i === 9 ? 0.5 : 1e-170)))],
    ["zeros but two atoms", normalised(xs.map((_, i) => (i === 3 || i === 10 ? 1 : 0)))],
  ];
  for (const [name, p] of ps) {
    it(`${name}, K in {2, 4, 32, 65, 100, 2^20}: 1e-13 relative per atom, mass defect <= 1e-14`, () => {
      for (const K of [2, 4, 32, 65, 100, 2 ** 20]) {
        const a = k.finiteKStepArrays(p, w, n, 2, q, K, 0);
        const b = twins.finiteKStepArrays(p, w, n, 2, q, K, 0);
        expect(Math.abs(1 - a.sum), `K=${K} defect`).toBeLessThanOrEqual(1e-14);
        for (let x = 0; x < n; x++) {
          if (p[x] === 0) continue;
          expect(Math.abs(a.out[x] - b.out[x]) / b.out[x], `K=${K} atom ${x}`).toBeLessThanOrEqual(1e-13);
        }
      }
    });
  }
});

describe("the trapezoid's step h = ln 2 / 3 (docs/model.md, section 3)", () => {
  // Against h = ln 2 / 6: h = ln 2 / 3 is converged to rounding, h = ln 2 / 2 is not.
  const landscapes: [string, Float64Array, Float64Array][] = [];
  {
    const xs = Float64Array.from({ length: 12 }, (_, i) => -3 + (6 * i) / 11);
    landscapes.push(["12 atoms", normalised(xs.map((x) => Math.exp(-(x * x) / 2))), xs.map((x) => Math.exp(-((x - 2) ** 2)))]);
  }
  {
    const n = 301;
    const { xs, r } = quadraticGrid(n, -12, 12, [1]);
    landscapes.push(["301 atoms, two bumps", normalised(xs.map((x) => Math.exp(-((x + 1) ** 2) * 20) + 0.3 * Math.exp(-((x - 1.2) ** 2) * 50) + 1e-12)), twins.computeWeightsArrays(r, n, 1, 1).w]);
  }
  /** The curated mass sum_x p H(x) - 1 and H itself at perOctave nodes per doubling of u. */
  const at = (p: Float64Array, w: Float64Array, K: number, perOctave: number) => {
    const H = finiteKH(p, w, K, perOctave);
    let mass = 0;
    for (let x = 0; x < p.length; x++) mass += p[x] * H[x];
    return { H, defect: Math.abs(1 - mass) };
  };
  it("h = ln 2 / 3 agrees with h = ln 2 / 6 to 1e-13 per atom; h = ln 2 / 2 misses a 1e-12 mass defect", () => {
    let coarsest = 0;
    for (const [name, p, w] of landscapes) {
      for (const K of [2, 4, 8, 1024]) {
        const fine = at(p, w, K, 6);
        const ours = at(p, w, K, 3);
        const coarse = at(p, w, K, 2);
        expect(ours.defect, `${name} K=${K}`).toBeLessThanOrEqual(1e-14);
        for (let x = 0; x < p.length; x++) {
          if (fine.H[x] > 0) expect(Math.abs(ours.H[x] - fine.H[x]) / fine.H[x], `${name} K=${K} atom ${x}`).toBeLessThanOrEqual(1e-13);
        }
        coarsest = Math.max(coarsest, coarse.defect);
      }
    }
    expect(coarsest).toBeGreaterThan(1e-12);
  });
});
