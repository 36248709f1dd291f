// Continuous retraining models: EM recovers a known 2-D mixture (assembly/fit.ts emPass +
// src/core/gmm.ts), the empty-component rule and variance floor, and gmm / kde retrainers
// on grids (normalised output, reproducible).
import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { floorCovariance, mStep, runEm, seedMixture } from "../src/core/gmm.js";
import { instantiateKernels, type Kernels } from "../src/core/kernels.js";
import { createRetrainer, type RewardAt } from "../src/core/retrain.js";
import type { Problem, RetrainingSpec } from "../src/core/types.js";
import { rng } from "./helpers.js";

let k: Kernels;
beforeAll(async () => {
  k = await instantiateKernels(new WebAssembly.Module(await readFile(new URL("../src/core/wasm/plurisim.wasm", import.meta.url))));
});


describe("EM", () => {
  const truth = [
    { w: 0.5, mean: [-2, -1], cov: [0.5, 0.2, 0.4] },
    { w: 0.3, mean: [2, 0], cov: [0.3, -0.1, 0.6] },
    { w: 0.2, mean: [0, 2.5], cov: [0.2, 0, 0.2] },
  ];

  it("recovers a 2-D three-component mixture from 30000 samples (means within 0.05, weights within 0.02)", () => {
    const rand = rng(99);
    const N = 30000;
    const pts = new Float64Array(2 * N);
    for (let i = 0; i < N; i++) {
      const u = rand();
      const c = u < 0.5 ? 0 : u < 0.8 ? 1 : 2;
      const { mean, cov } = truth[c];
      const l11 = Math.sqrt(cov[0]), l21 = cov[1] / l11, l22 = Math.sqrt(cov[2] - l21 * l21);
      const r = Math.sqrt(-2 * Math.log(1 - rand())), th = 2 * Math.PI * rand();
      const z1 = r * Math.cos(th), z2 = r * Math.sin(th);
      pts[2 * i] = mean[0] + l11 * z1;
      pts[2 * i + 1] = mean[1] + l21 * z1 + l22 * z2;
    }
    k.reset();
    const C = 3;
    const buf = { points: k.allocF64(2 * N), pw: 0, params: k.allocF64(6 * C), acc: k.allocF64(6 * C), scratch: k.allocF64(5 * C) };
    k.write(buf.points, pts);
    const params = seedMixture(k, pts, new Float64Array(N).fill(1 / N), 2, C, 5, 1e-6);
    runEm(k, buf, N, N, 2, C, params, 500, 1e-6);
    for (const t of truth) {
      let best = -1, bestD = Infinity;
      for (let c = 0; c < C; c++) {
        const d = Math.hypot(params[6 * c + 1] - t.mean[0], params[6 * c + 2] - t.mean[1]);
        if (d < bestD) [best, bestD] = [c, d];
      }
      expect(bestD, `component near ${t.mean}: ${Array.from(params.subarray(6 * best, 6 * best + 6))}`).toBeLessThan(0.05);
      expect(Math.abs(params[6 * best] - t.w)).toBeLessThan(0.02);
      for (let j = 0; j < 3; j++) expect(Math.abs(params[6 * best + 3 + j] - t.cov[j])).toBeLessThan(0.05);
    }
  });

  it("a component with no responsibility gets weight 0 and keeps its mean and variance", () => {
    const params = Float64Array.from([0.5, 0, 1, 0.5, 100, 2]);
    // Sums as emPass returns them: all 10 points on component 0 (mean shift 0.1, E d^2 = 0.5).
    const acc = Float64Array.from([10, 1, 5, 0, 0, 0]);
    expect(mStep(acc, params, 1, 2, 10, 10, 1e-3)).toBe(1);
    expect(Array.from(params)).toEqual([1, 0.1, 0.5 - 0.01, 0, 100, 2]);
    // Dead components stay dead even if a later pass hands them responsibility.
    expect(mStep(Float64Array.from([5, 0, 1, 5, 0, 1]), params, 1, 2, 10, 10, 1e-3)).toBe(1);
    expect(params[3]).toBe(0);
  });

  it("the variance floor raises small eigenvalues only", () => {
    expect(floorCovariance(2, 0, 1, 0.5)).toEqual([2, 0, 1]);
    const [a, b, c] = floorCovariance(1, 0.999, 1, 0.1);
    // Eigenvalues 1.999 and 0.001 along (1, 1)/sqrt 2 and (1, -1)/sqrt 2: the small one -> 0.1.
    expect(a).toBeCloseTo((1.999 + 0.1) / 2, 12);
    expect(b).toBeCloseTo((1.999 - 0.1) / 2, 12);
    expect(c).toBeCloseTo((1.999 + 0.1) / 2, 12);
    expect(mStep(Float64Array.from([4, 0, 0]), Float64Array.from([1, 3, 1]), 1, 1, 4, 4, 0.25)).toBe(1);
  });
});

/** A cx x cy grid on [lo, hi]^2 with Gaussian-bump rewards at the given centres. */
function grid2d(cx: number, cy: number, lo: number, hi: number, centres: [number, number][], retraining: RetrainingSpec, K: number, seed = 3): { pr: Problem; rewardAt: RewardAt[] } {
  const dx = (hi - lo) / cx, dy = (hi - lo) / cy;
  const n = cx * cy;
  const coords = new Float64Array(2 * n);
  for (let ix = 0; ix < cx; ix++) for (let iy = 0; iy < cy; iy++) {
    coords[2 * (ix * cy + iy)] = lo + (ix + 0.5) * dx;
    coords[2 * (ix * cy + iy) + 1] = lo + (iy + 0.5) * dy;
  }
  const m = centres.length;
  const reward = (c: [number, number]) => (x: number, y: number) => -((x - c[0]) ** 2 + (y - c[1]) ** 2);
  const r = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let x = 0; x < n; x++) r[i * n + x] = reward(centres[i])(coords[2 * x], coords[2 * x + 1]);
  const rewardAt: RewardAt[] = centres.map((c) => (pts, count, out) => {
    for (let j = 0; j < count; j++) out[j] = reward(c)(pts[2 * j], pts[2 * j + 1]);
  });
  const p0 = new Float64Array(n).fill(1 / n);
  const pr: Problem = {
    n, m, dim: 2, coords, cellWidth: null, gridShape: [cx, cy], p0, q: new Float64Array(m).fill(1 / m), groupNames: centres.map((_, i) => `g${i}`),
    r, tau: 1, K, mixing: "per-sample", lambda: 0.1, pData: p0.slice(), generations: 1, recordEvery: 1, snapshots: [], earlyStopTolerance: null, earlyStopNashGap: null,
    basinEpsilon: 0.1, seed, retraining,
  };
  return { pr, rewardAt };
}

function runModel(pr: Problem, rewardAt: RewardAt[], T: number): Float64Array[] {
  k.reset();
  let p = k.allocF64(pr.n), out = k.allocF64(pr.n);
  const wPtr = k.allocF64(pr.m * pr.n);
  k.write(p, pr.p0);
  const rt = createRetrainer(k, pr, { wPtr, rewardAt });
  const traj: Float64Array[] = [];
  for (let t = 0; t < T; t++) {
    rt.step(p, out, t);
    [p, out] = [out, p];
    traj.push(k.read(p, pr.n));
  }
  return traj;
}

const massNear = (pr: Problem, p: Float64Array, c: [number, number], rad: number) => {
  let s = 0;
  for (let x = 0; x < pr.n; x++) if (Math.hypot(pr.coords[2 * x] - c[0], pr.coords[2 * x + 1] - c[1]) <= rad) s += p[x];
  return s;
};

describe("gmm and kde retraining on a 2-D grid", () => {
  const centres: [number, number][] = [[-2, -2], [2, -1], [0, 2.5]];

  it("gmm (C = 3): normalised, reproducible, and keeps mass near every group's optimum", () => {
    const { pr, rewardAt } = grid2d(30, 30, -4, 4, centres, { model: "gmm", samples: 3000, components: 3, varianceFloor: 1e-3, emIterations: 30 }, 8);
    const a = runModel(pr, rewardAt, 8);
    const b = runModel(pr, rewardAt, 8);
    expect(a).toEqual(b);
    for (const p of a) expect(Math.abs(p.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-12);
    const last = a[a.length - 1];
    for (const c of centres) expect(massNear(pr, last, c, 1.5), `near ${c}`).toBeGreaterThan(0.15);
  });

  it("kde: normalised, reproducible, and sharpens onto the groups' optima", () => {
    const { pr, rewardAt } = grid2d(24, 24, -4, 4, centres, { model: "kde", samples: 2000, bandwidth: 0.3 }, 4);
    const a = runModel(pr, rewardAt, 5);
    expect(a).toEqual(runModel(pr, rewardAt, 5));
    for (const p of a) expect(Math.abs(p.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-12);
    const near0 = centres.reduce((s, c) => s + massNear(pr, pr.p0, c, 1), 0);
    const near5 = centres.reduce((s, c) => s + massNear(pr, a[4], c, 1), 0);
    const near1 = centres.reduce((s, c) => s + massNear(pr, a[0], c, 1), 0);
    expect(near1).toBeGreaterThan(near0);
    expect(near5, `near p0 ${near0}, p1 ${near1}, p5 ${near5}`).toBeGreaterThan(near1 + 0.05);
  });

  it("1-D kde equals the all-pairs kernel sum (grid cut-off is exact)", () => {
    const n = 200;
    const atoms = k.allocF64(n);
    const xs = Float64Array.from({ length: n }, (_, x) => -5 + (x + 0.5) * 0.05);
    k.write(atoms, xs);
    const rand = rng(4);
    const N = 300;
    const pts = k.allocF64(N);
    k.write(pts, Float64Array.from({ length: N }, () => -5 + 10 * rand()));
    const o1 = k.allocF64(n), o2 = k.allocF64(n);
    const s1 = k.raw.kdeGrid1d(pts, N, 0.02, atoms, n, xs[0], 0.05, o1);
    const s2 = k.raw.kdeAtoms(pts, N, 0.02, atoms, n, 1, o2);
    expect(k.read(o1, n)).toEqual(k.read(o2, n));
    expect(s1).toBe(s2);
  });
});
