// A Gaussian initial distribution gives a proper distribution for every mean and sd that
// validation allows: far outside the box, much narrower than a cell, very wide, in 1-D and 2-D,
// alone or in a mixture. (Before, a narrow or distant one had "no mass on the atoms" or, worse,
// rounded every atom to the same density and came out uniform.)
import { describe, expect, test } from "vitest";
import { discretize } from "../src/core/compile.js";
import { MAX_COORDINATE, MAX_COVARIANCE } from "../src/core/limits.js";
import { parseScenario } from "../src/core/scenario.js";

const grid1 = { kind: "grid1d", min: -12, max: 12, cells: 3001 };
const grid2 = { kind: "grid2d", min: [-2, -2], max: [2, 2], cells: [21, 21] };

function p0(space: unknown, initial: unknown): Float64Array {
  const s = parseScenario({ space, initial, groups: [{ weight: 1, reward: { kind: "linear", slope: (space as { kind: string }).kind === "grid2d" ? [1, 0] : 1 } }] });
  return discretize(s.initial, s.space);
}

function proper(p: Float64Array): void {
  let s = 0;
  for (const v of p) {
    expect(v >= 0 && Number.isFinite(v)).toBe(true);
    s += v;
  }
  expect(Math.abs(s - 1)).toBeLessThan(1e-12);
}

const argmax = (p: Float64Array) => p.reduce((best, v, i) => (v > p[best] ? i : best), 0);

describe("1-D gaussian", () => {
  test("a mean far to the right puts all mass on the last atom (not uniform)", () => {
    for (const mean of [1e6, 1e20, 1e100, MAX_COORDINATE]) {
      const p = p0(grid1, { kind: "gaussian", mean, sd: 1 });
      proper(p);
      expect(p[3000]).toBe(1);
    }
  });

  test("a far mean with a wide sd tilts the mass towards it, as the density does", () => {
    // Over the box, exp(-(x - mu)^2 / (2 sd^2)) with mu = 1e6, sd = 1e4 is exp(mu x / sd^2) up to
    // a constant: a slope of 0.01 per unit x.
    const p = p0(grid1, { kind: "gaussian", mean: 1e6, sd: 1e4 });
    proper(p);
    const dx = 24 / 3001;
    expect(Math.log(p[2000] / p[1000])).toBeCloseTo((1e6 * 1000 * dx) / 1e8 - ((2000 - 1000) * dx * ((2000 + 1000 + 1) * dx - 24)) / (2 * 1e8), 6);
  });

  test("an sd far below the cell width puts all mass on the nearest atom", () => {
    for (const sd of [1e-5, 1e-100, 1e-200, 5e-324]) {
      const p = p0(grid1, { kind: "gaussian", mean: 0.5, sd });
      proper(p);
      const near = Math.round((0.5 + 12) / (24 / 3001) - 0.5);
      expect(argmax(p)).toBe(near);
      expect(p[near]).toBe(1);
    }
  });

  test("a huge sd is uniform", () => {
    const p = p0(grid1, { kind: "gaussian", mean: -MAX_COORDINATE, sd: 1e300 });
    proper(p);
    expect(Math.max(...p) - Math.min(...p)).toBeLessThan(1e-15);
  });

  test("an ordinary gaussian is unchanged: exp(-x^2/2) up to normalisation", () => {
    const p = p0({ kind: "atoms", count: 12, coords: Array.from({ length: 12 }, (_, k) => -3 + (6 * k) / 11) }, { kind: "gaussian", mean: 0, sd: 1 });
    const xs = Array.from({ length: 12 }, (_, k) => -3 + (6 * k) / 11);
    const q = xs.map((x) => Math.exp(-x * x / 2));
    const z = q.reduce((a, b) => a + b, 0);
    q.forEach((v, i) => expect(Math.abs(p[i] - v / z)).toBeLessThan(1e-15));
  });
});

describe("2-D gaussian and mixtures", () => {
  test("far means, tiny and huge sds and near-singular or extreme covariances all give proper distributions", () => {
    const cases: unknown[] = [
      { kind: "gaussian", mean: [MAX_COORDINATE, -MAX_COORDINATE], sd: 1 },
      { kind: "gaussian", mean: [0.1, 0.1], sd: 1e-250 },
      { kind: "gaussian", mean: [0, 0], sd: 1e250 },
      { kind: "gaussian", mean: [1e50, 3], cov: [[1e-100, 0], [0, 1e-100]] },
      { kind: "gaussian", mean: [0, 0], cov: [[MAX_COVARIANCE, 0], [0, MAX_COVARIANCE]] },
      { kind: "gaussian", mean: [1e100, 1e100], cov: [[1, 0.999999999], [0.999999999, 1]] },
      { kind: "mixture", weights: [0.5, 0.5], means: [[1e100, 0], [-1e100, 0]], sds: [1e-100, 1e-300] },
      { kind: "mixture", weights: [0.5, 0.5], means: [[0, 0], [1e90, 1e90]], sds: [1e-300, 1] },
    ];
    for (const initial of cases) proper(p0(grid2, initial));
  });

  test("a far mean sends the mass to the corner nearest it", () => {
    const p = p0(grid2, { kind: "gaussian", mean: [1e80, -1e80], sd: 1 });
    // Column ix = 20 (largest x), row iy = 0 (smallest y): index 20 * 21 + 0.
    expect(p[20 * 21]).toBe(1);
  });

  test("a mixture keeps the component nearest the box when both are far", () => {
    // The far component's density on the box is e^-(5e11) times the near one's: it adds nothing.
    const p = p0(grid1, { kind: "mixture", weights: [0.01, 0.99], means: [20, -1e6], sds: [1, 1] });
    proper(p);
    const near = p0(grid1, { kind: "gaussian", mean: 20, sd: 1 });
    p.forEach((v, i) => expect(Math.abs(v - near[i])).toBeLessThan(1e-14));
    expect(argmax(p)).toBe(3000);
  });
});
