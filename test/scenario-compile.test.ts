import { describe, expect, test } from "vitest";
import { atomCoords, cellLocator, compileScenario, discretize, rewardEvaluator } from "../src/core/compile.js";
import { parseScenario } from "../src/core/scenario.js";

const close = (a: number, b: number, rel: number, abs = 0) => {
  const tol = Math.max(abs, rel * Math.abs(b));
  expect(Math.abs(a - b), `|${a} - ${b}| > ${tol}`).toBeLessThanOrEqual(tol);
};

function moments1(p: Float64Array, x: Float64Array): { mean: number; variance: number } {
  let mean = 0;
  for (let i = 0; i < p.length; i++) mean += p[i] * x[i];
  let variance = 0;
  for (let i = 0; i < p.length; i++) variance += p[i] * (x[i] - mean) ** 2;
  return { mean, variance };
}

const oneGroup = { weight: 1, reward: { kind: "formula", expr: "0" } };

describe("atoms", () => {
  test("1-D cell centres: min + (i + 0.5)(max - min)/cells", () => {
    const p = compileScenario(parseScenario({ space: { kind: "grid1d", min: -3, max: 3, cells: 12 }, groups: [oneGroup] }));
    expect(p.dim).toBe(1);
    expect(p.cellWidth).toBe(0.5);
    expect(p.gridShape).toBeNull();
    expect(Array.from(p.coords)).toEqual([-2.75, -2.25, -1.75, -1.25, -0.75, -0.25, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75]);
    expect(Array.from(p.p0)).toEqual(new Array(12).fill(1 / 12));
  });

  test("2-D indexing: atom = ix * cells_y + iy, coords atom-major", () => {
    const space = { kind: "grid2d", min: [0, 10], max: [4, 13], cells: [4, 3] } as const;
    const p = compileScenario(parseScenario({ space, groups: [{ weight: 1, reward: { kind: "formula", expr: "10 * x + y" } }] }));
    expect(p.n).toBe(12);
    expect(p.dim).toBe(2);
    expect(p.gridShape).toEqual([4, 3]);
    expect(p.cellWidth).toBeNull();
    for (let ix = 0; ix < 4; ix++) {
      for (let iy = 0; iy < 3; iy++) {
        const a = ix * 3 + iy;
        expect([p.coords[2 * a], p.coords[2 * a + 1]]).toEqual([ix + 0.5, 10.5 + iy]);
        close(p.r[a], 10 * (ix + 0.5) + 10.5 + iy, 1e-15);
      }
    }
    const locate = cellLocator(parseScenario({ space, groups: [oneGroup] }).space);
    expect(locate(new Float64Array([2.2, 11.9]), 0)).toBe(2 * 3 + 1);
    expect(locate(new Float64Array([-5, 99]), 0)).toBe(2);
    expect(locate(new Float64Array([4, 13]), 0)).toBe(11);
  });

  test("explicit atoms, with and without coordinates", () => {
    const p = compileScenario(parseScenario({ space: { kind: "atoms", count: 4 }, groups: [{ weight: 1, reward: { kind: "vector", values: [0, Math.log(0.01), Math.log(0.8), Math.log(0.001)] } }] }));
    expect(p.dim).toBe(0);
    expect(p.coords.length).toBe(0);
    expect(p.r[2]).toBe(Math.log(0.8));
    const q = compileScenario(parseScenario({ space: { kind: "atoms", count: 3, coords: [[0, 1], [2, 3], [4, 5]] }, groups: [{ weight: 1, reward: { kind: "formula", expr: "x - y" } }] }));
    expect(q.dim).toBe(2);
    expect(Array.from(q.r)).toEqual([-1, -1, -1]);
  });
});

describe("initial distributions", () => {
  test("a discretised Gaussian has the specified mean and variance", () => {
    const s = parseScenario({ space: { kind: "grid1d", min: -12, max: 12, cells: 3001 }, initial: { kind: "gaussian", mean: 0.5, sd: 1.5 }, groups: [oneGroup] });
    const p = compileScenario(s);
    const { mean, variance } = moments1(p.p0, p.coords);
    const h = 24 / 3001;
    // Density x cell width at the centres is the midpoint rule: for a Gaussian its moments are
    // exact up to terms like exp(-2 pi^2 sd^2 / h^2) (Poisson summation), so no Sheppard
    // correction; the truncation at +-12 (>= 7.6 sd) is below 1e-13.
    expect(h).toBeLessThan(0.01);
    close(mean, 0.5, 1e-12);
    close(variance, 2.25, 1e-10);
    close(p.p0.reduce((a, b) => a + b, 0), 1, 1e-14);
    // p_data defaults to a copy of p_0.
    expect(Array.from(p.pData)).toEqual(Array.from(p.p0));
    expect(p.pData).not.toBe(p.p0);
  });

  test("a mixture puts its weights on its components", () => {
    const s = parseScenario({ space: { kind: "grid1d", min: -12, max: 12, cells: 2400 }, initial: { kind: "mixture", weights: [0.25, 0.75], means: [-5, 5], sds: [0.5, 0.5] }, groups: [oneGroup] });
    const p = compileScenario(s);
    let left = 0;
    for (let i = 0; i < p.n; i++) if (p.coords[i] < 0) left += p.p0[i];
    close(left, 0.25, 1e-9);
    const { mean } = moments1(p.p0, p.coords);
    close(mean, 0.25 * -5 + 0.75 * 5, 1e-9);
  });

  test("a 2-D Gaussian with a covariance has its moments", () => {
    const space = { kind: "grid2d", min: [-10, -10], max: [10, 10], cells: [200, 200] } as const;
    const s = parseScenario({ space, initial: { kind: "gaussian", mean: [1, -1], cov: [[2, 0.6], [0.6, 1]] }, groups: [oneGroup] });
    const p = compileScenario(s);
    let mx = 0, my = 0, cxx = 0, cxy = 0, cyy = 0;
    for (let a = 0; a < p.n; a++) {
      mx += p.p0[a] * p.coords[2 * a];
      my += p.p0[a] * p.coords[2 * a + 1];
    }
    for (let a = 0; a < p.n; a++) {
      const dx = p.coords[2 * a] - mx;
      const dy = p.coords[2 * a + 1] - my;
      cxx += p.p0[a] * dx * dx;
      cxy += p.p0[a] * dx * dy;
      cyy += p.p0[a] * dy * dy;
    }
    const h2 = 0; // midpoint rule: exact moments (see the 1-D test)
    close(mx, 1, 1e-9);
    close(my, -1, 1e-9);
    close(cxx, 2 + h2, 1e-6);
    close(cxy, 0.6, 1e-6);
    close(cyy, 1 + h2, 1e-6);
  });

  test("a Gaussian far outside the box still gives a distribution (log-space discretisation)", () => {
    const s = parseScenario({ space: { kind: "grid1d", min: 0, max: 1, cells: 10 }, initial: { kind: "gaussian", mean: 100, sd: 0.01 }, groups: [oneGroup] });
    const p = compileScenario(s);
    close(p.p0[9], 1, 1e-12);
    expect(p.p0.every((v) => Number.isFinite(v))).toBe(true);
  });

  test("explicit masses and realData distributions", () => {
    const s = parseScenario({
      space: { kind: "atoms", count: 3 },
      initial: { kind: "vector", values: [0.2, 0.3, 0.5] },
      realData: { fraction: 0.25, distribution: { kind: "vector", values: [1, 0, 0] } },
      groups: [{ weight: 1, reward: { kind: "vector", values: [0, 1, 2] } }],
    });
    const p = compileScenario(s);
    expect(Array.from(p.p0)).toEqual([0.2, 0.3, 0.5]);
    expect(Array.from(p.pData)).toEqual([1, 0, 0]);
    expect(p.lambda).toBe(0.25);
  });
});

describe("rewards", () => {
  const space1 = { kind: "grid1d", min: -3, max: 3, cells: 12 } as const;
  const compile1 = (reward: unknown) => compileScenario(parseScenario({ space: space1, groups: [{ weight: 1, reward }] }));

  test("each kind on a 1-D grid, against its closed form", () => {
    const x = compile1({ kind: "linear", slope: 1 }).coords;
    const cases: [unknown, (x: number) => number][] = [
      [{ kind: "quadratic", center: 2, scale: 1 }, (v) => -((v - 2) * (v - 2))],
      [{ kind: "quadratic", center: -1, scale: 0.5 }, (v) => -0.5 * ((v + 1) * (v + 1))],
      [{ kind: "gaussian", center: 1, width: 0.5, height: 2 }, (v) => 2 * Math.exp(-((v - 1) ** 2) / (2 * 0.25))],
      [{ kind: "linear", slope: -2, intercept: 1 }, (v) => -2 * v + 1],
      [{ kind: "plateau", center: 0, radius: 1, level: 1, outside: -3 }, (v) => (Math.abs(v) <= 1 ? 1 : -3)],
      [{ kind: "box", boxes: [{ lo: -3, hi: 0, level: 1 }, { lo: -1, hi: -0.5, level: 5 }], outside: -1 }, (v) => (v >= -1 && v <= -0.5 ? 5 : v <= 0 ? 1 : -1)],
      [{ kind: "formula", expr: "max(-(x-2)^2, -(x+2)^2)" }, (v) => Math.max(-((v - 2) ** 2), -((v + 2) ** 2))],
    ];
    for (const [reward, f] of cases) {
      const p = compile1(reward);
      for (let i = 0; i < 12; i++) close(p.r[i], f(x[i]), 1e-14, 1e-14);
    }
  });

  test("group-major layout r[i * n + x] and q", () => {
    const p = compileScenario(
      parseScenario({
        space: space1,
        groups: [
          { name: "a", weight: 0.25, reward: { kind: "linear", slope: 1 } },
          { name: "b", weight: 0.75, reward: { kind: "linear", slope: -1 } },
        ],
      }),
    );
    expect(Array.from(p.q)).toEqual([0.25, 0.75]);
    expect(p.groupNames).toEqual(["a", "b"]);
    for (let x = 0; x < 12; x++) {
      expect(p.r[x]).toBe(p.coords[x]);
      expect(p.r[12 + x]).toBe(-p.coords[x]);
    }
  });

  test("2-D shapes use |x - c|^2", () => {
    const space = { kind: "grid2d", min: [-2, -2], max: [2, 2], cells: [8, 8] } as const;
    const p = compileScenario(parseScenario({ space, groups: [{ weight: 1, reward: { kind: "quadratic", center: [1, -1], scale: 2 } }] }));
    for (let a = 0; a < p.n; a++) {
      const dx = p.coords[2 * a] - 1;
      const dy = p.coords[2 * a + 1] + 1;
      close(p.r[a], -2 * (dx * dx + dy * dy), 1e-15, 1e-15);
    }
  });

  test("rewardEvaluator at arbitrary points: shapes exactly, vectors by containing cell", () => {
    const s = parseScenario({ space: space1, groups: [oneGroup] });
    const pts = new Float64Array([-2.9, -0.01, 0, 0.3, 2.99, 7]);
    const out = new Float64Array(6);
    rewardEvaluator({ kind: "formula", expr: "-(x + 2)^2" }, s.space)(pts, 6, out);
    pts.forEach((v, k) => expect(out[k]).toBe(-((v + 2) * (v + 2))));
    const values = Array.from({ length: 12 }, (_, i) => i);
    rewardEvaluator({ kind: "vector", values }, s.space)(pts, 6, out);
    expect(Array.from(out)).toEqual([0, 5, 6, 6, 11, 11]);
    const space2 = parseScenario({ space: { kind: "grid2d", min: [0, 0], max: [2, 2], cells: [2, 2] }, groups: [oneGroup] }).space;
    const pts2 = new Float64Array([0.5, 1.5, 1.2, 0.2, 3, 3]);
    rewardEvaluator({ kind: "formula", expr: "x * 10 + y" }, space2)(pts2, 3, out);
    expect(Array.from(out.subarray(0, 3))).toEqual([6.5, 12.2, 33]);
    rewardEvaluator({ kind: "vector", values: [10, 11, 12, 13] }, space2)(pts2, 3, out);
    expect(Array.from(out.subarray(0, 3))).toEqual([11, 12, 13]);
  });

  test("the 2-D formula evaluator handles more points than one chunk", () => {
    const space = parseScenario({ space: { kind: "grid2d", min: [-1, -1], max: [1, 1], cells: [150, 100] }, groups: [oneGroup] }).space;
    const c = atomCoords(space);
    const out = new Float64Array(15000);
    rewardEvaluator({ kind: "formula", expr: "exp(-(x^2 + y^2) / 2)" }, space)(c, 15000, out);
    for (let a = 0; a < 15000; a += 997) close(out[a], Math.exp(-(c[2 * a] ** 2 + c[2 * a + 1] ** 2) / 2), 1e-15);
  });
});

describe("other fields", () => {
  test("curation, snapshots, early stop, retraining defaults", () => {
    const p = compileScenario(
      parseScenario({
        space: { kind: "grid2d", min: [0, 0], max: [4, 2], cells: [4, 2] },
        groups: [oneGroup],
        curation: { K: 4, temperature: 0.5, mixing: "per-generation" },
        record: { every: 5, snapshots: [10, 0, 10, 3] },
        generations: 10,
        earlyStop: { tolerance: 1e-9 },
        retraining: { model: "gmm", samples: 100, components: 3 },
      }),
    );
    expect([p.K, p.tau, p.mixing, p.recordEvery, p.generations, p.earlyStopTolerance]).toEqual([4, 0.5, "per-generation", 5, 10, 1e-9]);
    expect(p.snapshots).toEqual([0, 3, 10]);
    expect(p.retraining).toEqual({ model: "gmm", samples: 100, components: 3, emIterations: 50, varianceFloor: 16e-6 });
  });

  test("discretize on a space without coordinates accepts only uniform and vector", () => {
    const space = { kind: "atoms", count: 2 } as const;
    expect(Array.from(discretize({ kind: "uniform" }, space))).toEqual([0.5, 0.5]);
    expect(() => discretize({ kind: "gaussian", mean: 0, sd: 1 }, space)).toThrow(/coordinates/);
  });
});
