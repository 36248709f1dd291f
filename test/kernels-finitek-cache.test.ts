// The finite-K step keeps, in its scratch, per pair of atoms the first active nodes and the three
// chain starts, and on small grids a table of exp(-u_j w) per group (they depend on the weights and
// u_0 only; assembly/finitek.ts, the pair cache and tableGroup).
// What it keeps must never show: a step on a scratch that served other steps (other p, weights
// changed in place, another K, zero-mass atoms) gives the same bits as on a fresh scratch.
import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels } from "../src/core/kernels.js";
import { twins } from "../src/core/twins.js";
import { loadKernels, normalised, quadraticGrid } from "./helpers.js";

let k: Kernels;
beforeAll(async () => {
  k = await loadKernels();
});

describe.each([
  ["pair cache", 1001],
  ["small-grid table", 12],
])("finite-K %s: a used scratch gives the bits of a fresh one", (_, n) => {
  const m = 2;
  const { xs, r } = quadraticGrid(n, -12, 12, [-1, 1]);
  const wA = twins.computeWeightsArrays(r, n, m, 1).w;
  const wB = twins.computeWeightsArrays(quadraticGrid(n, -12, 12, [-3, 0.5]).r, n, m, 0.7).w;
  const q = new Float64Array([0.3, 0.7]);
  const ps: Float64Array[] = [
    new Float64Array(n).fill(1 / n),
    normalised(xs.map((x) => Math.exp(-((x + 1) ** 2) * 20) + 0.3 * Math.exp(-((x - 1.2) ** 2) * 50) + 1e-12)),
    // exact zeros away from x = 1: pairs with one atom without mass
    normalised(xs.map((x) => Math.exp(-(((x - 1) / 0.05) ** 2) / 2))),
  ];

  /** One step on the given scratch; returns the sum and a copy of out. */
  function step(scratch: number, w: Float64Array, p: Float64Array, K: number): { sum: number; out: Float64Array } {
    const mark = k.mark();
    const wp = k.allocF64(n * m);
    k.write(wp, w);
    const pp = k.allocF64(n);
    k.write(pp, p);
    const qp = k.allocF64(m);
    k.write(qp, q);
    const op = k.allocF64(n);
    const sum = k.raw.finiteKStep(pp, op, wp, n, m, qp, K, 0, 0, scratch, 0, 0, 0);
    const out = k.read(op, n);
    k.release(mark);
    return { sum, out };
  }

  function expectSameBits(a: { sum: number; out: Float64Array }, b: { sum: number; out: Float64Array }, what: string): void {
    expect(Object.is(a.sum, b.sum), `${what}: sum ${a.sum} vs ${b.sum}`).toBe(true);
    let differ = -1;
    for (let x = 0; x < n && differ < 0; x++) if (!Object.is(a.out[x], b.out[x])) differ = x;
    expect(differ, `${what}: first atom that differs`).toBe(-1);
  }

  it("the same step twice, other p in between, weights changed in place, another K", () => {
    const bytes = k.raw.finiteKScratchBytes(n, m);
    const used = k.allocU8(bytes);
    const sequence: [Float64Array, Float64Array, number][] = [
      [wA, ps[0], 4], [wA, ps[0], 4], [wA, ps[1], 4], [wA, ps[2], 4], [wA, ps[0], 4],
      [wB, ps[1], 4], [wA, ps[1], 4], [wA, ps[1], 64], [wA, ps[2], 2], [wB, ps[2], 2],
    ];
    for (const [i, [w, p, K]] of sequence.entries()) {
      const warm = step(used, w, p, K);
      const fresh = k.allocU8(bytes);
      expectSameBits(warm, step(fresh, w, p, K), `step ${i} (K = ${K})`);
    }
  });

  it("weights moved slightly in place are seen (the cache compares every weight bit for bit)", () => {
    const bytes = k.raw.finiteKScratchBytes(n, m);
    const used = k.allocU8(bytes);
    step(used, wA, ps[0], 4);
    // Atoms in [0.6 n, 0.8 n) (not the heaviest, so u_0 stays): first nodes, chain starts and table rows change.
    const w = wA.slice();
    for (let x = Math.floor(0.6 * n); x < Math.floor(0.8 * n); x++) w[x] *= 1.01;
    expectSameBits(step(used, w, ps[0], 4), step(k.allocU8(bytes), w, ps[0], 4), "weight moved");
  });
});
