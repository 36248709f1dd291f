// The bench's "before" for exact finite K (src/bench/finitek-baseline.ts: the chunked kernel that
// assembly/finitek.ts replaced, a module of its own) computes the same generations as the kernel:
// its before/after ratio compares two ways of computing one thing.
import { beforeAll, describe, expect, it } from "vitest";
import { chunkedFiniteK } from "../src/bench/finitek-baseline.js";
import type { Kernels } from "../src/core/kernels.js";
import { twins } from "../src/core/twins.js";
import { loadKernels, normalised, quadraticGrid } from "./helpers.js";

let k: Kernels;
beforeAll(async () => {
  k = await loadKernels();
});

/** Max relative difference over the atoms where b has mass. */
function maxRel(a: Float64Array, b: Float64Array): number {
  let r = 0;
  for (let x = 0; x < b.length; x++) if (b[x] > 1e-300) r = Math.max(r, Math.abs(a[x] - b[x]) / b[x]);
  return r;
}

describe("the chunked finite-K baseline", () => {
  const twelve = (() => {
    const xs = Array.from({ length: 12 }, (_, i) => -3 + (6 * i) / 11);
    const w = new Float64Array(24);
    xs.forEach((x, i) => {
      w[i] = Math.exp(-((x - 2) ** 2));
      w[12 + i] = Math.exp(-((x + 2) ** 2));
    });
    return { p: normalised(Float64Array.from(xs, (x) => Math.exp(-(x * x) / 2))), w };
  })();
  const grid = (() => {
    const n = 3001;
    const { r } = quadraticGrid(n, -12, 12, [-1, 1]);
    return { p: new Float64Array(n).fill(1 / n), w: twins.computeWeightsArrays(r, n, 2, 1).w };
  })();

  for (const [name, { p, w }] of [["12 atoms", twelve], ["3001 atoms, uniform p", grid]] as const) {
    it(`${name}: five generations agree with the kernel's to 1e-12 relative per atom, K in {2, 4, 16}`, async () => {
      const n = p.length;
      const q = new Float64Array([0.3, 0.7]);
      for (const K of [2, 4, 16]) {
        const before = await chunkedFiniteK(p, w, q, K);
        expect(before, "src/bench/baselines/finitek-chunked.wasm is built by npm run build").not.toBeNull();
        let ours = p;
        for (let t = 0; t < 5; t++) {
          const sum = before!.step();
          expect(Math.abs(1 - sum), `K=${K} generation ${t} mass defect`).toBeLessThanOrEqual(1e-12);
          const a = k.finiteKStepArrays(ours, w, n, 2, q, K, 0);
          ours = a.out.map((v) => v / a.sum);
        }
        const theirs = before!.p();
        expect(maxRel(ours, p), `K=${K}: five generations move p`).toBeGreaterThan(1e-3);
        expect(maxRel(ours, theirs), `K=${K}`).toBeLessThanOrEqual(1e-12);
        before!.reset(p);
        expect(before!.p()).toEqual(p);
        // run(5) starts again from the first p: the same five generations, bit for bit.
        before!.step();
        before!.run(5);
        expect(before!.p()).toEqual(theirs);
      }
    });
  }
});
