// From a validated Scenario to the Problem the engine runs: atom coordinates, the discretised
// p_0 and p_data, q, and the rewards evaluated on the atoms (group-major r[i * n + x]).
// docs/model.md, section 1: atom = cell centre, mass = density x cell volume, renormalised over the box.

import { dmath } from "./detmath.js";
import { PlurisimError, formatValue } from "./errors.js";
import { compileFormula } from "./formula.js";
import { atomCount, defaultVarianceFloor, formulaVars, spaceDim, type DistributionSpec, type RewardSpec, type Scenario, type SpaceSpec } from "./scenario.js";
import type { Problem, RetrainingSpec } from "./types.js";

/** Atom coordinates, atom-major (coords[x * dim + d]); empty when the space has none. */
export function atomCoords(space: SpaceSpec): Float64Array {
  const dim = spaceDim(space);
  const n = atomCount(space);
  const out = new Float64Array(n * dim);
  if (space.kind === "grid1d") {
    const h = (space.max - space.min) / space.cells;
    for (let i = 0; i < n; i++) out[i] = space.min + (i + 0.5) * h;
  } else if (space.kind === "grid2d") {
    const [cx, cy] = space.cells;
    const hx = (space.max[0] - space.min[0]) / cx;
    const hy = (space.max[1] - space.min[1]) / cy;
    for (let ix = 0; ix < cx; ix++) {
      const x = space.min[0] + (ix + 0.5) * hx;
      for (let iy = 0; iy < cy; iy++) {
        const a = ix * cy + iy;
        out[2 * a] = x;
        out[2 * a + 1] = space.min[1] + (iy + 0.5) * hy;
      }
    }
  } else if (space.coords && dim > 0) {
    space.coords.forEach((c, i) => {
      if (typeof c === "number") out[i] = c;
      else {
        out[2 * i] = c[0];
        out[2 * i + 1] = c[1];
      }
    });
  }
  return out;
}

/** The atom whose cell contains each point (grids), or the nearest atom (atoms with coordinates). */
export function cellLocator(space: SpaceSpec): (coords: Float64Array, k: number) => number {
  if (space.kind === "grid1d") {
    const { min, max, cells } = space;
    const scale = cells / (max - min);
    return (c, k) => {
      const i = Math.floor((c[k] - min) * scale);
      return i < 0 ? 0 : i >= cells ? cells - 1 : i;
    };
  }
  if (space.kind === "grid2d") {
    const [cx, cy] = space.cells;
    const sx = cx / (space.max[0] - space.min[0]);
    const sy = cy / (space.max[1] - space.min[1]);
    const [x0, y0] = space.min;
    return (c, k) => {
      let ix = Math.floor((c[2 * k] - x0) * sx);
      let iy = Math.floor((c[2 * k + 1] - y0) * sy);
      ix = ix < 0 ? 0 : ix >= cx ? cx - 1 : ix;
      iy = iy < 0 ? 0 : iy >= cy ? cy - 1 : iy;
      return ix * cy + iy;
    };
  }
  const dim = spaceDim(space);
  if (dim === 0) {
    return () => {
      throw new PlurisimError("INVALID_SCENARIO", "space has no coordinates: points cannot be located", { field: "space.coords" });
    };
  }
  // Explicit atoms: nearest atom by a linear scan (these spaces are small; gmm and kde need grids).
  const atoms = atomCoords(space);
  const n = atomCount(space);
  return (c, k) => {
    let best = 0;
    let bestD = Infinity;
    for (let a = 0; a < n; a++) {
      let d = 0;
      for (let j = 0; j < dim; j++) {
        const t = atoms[a * dim + j] - c[k * dim + j];
        d += t * t;
      }
      if (d < bestD) {
        bestD = d;
        best = a;
      }
    }
    return best;
  };
}

/** Evaluates a reward at `count` points, point-major coordinates (dim per point), into out. */
export type RewardEvaluator = (coords: Float64Array, count: number, out: Float64Array) => void;

const CHUNK = 4096;

/**
 * The reward as a function of arbitrary points in the box (used on the atoms by compileScenario
 * and at sampled candidates by finite-sample gmm / kde retraining). Vector rewards take the
 * value of the cell that contains the point (points outside the box: the nearest boundary cell).
 */
export function rewardEvaluator(reward: RewardSpec, space: SpaceSpec): RewardEvaluator {
  const dim = spaceDim(space);
  if (reward.kind === "vector") {
    const values = Float64Array.from(reward.values);
    const locate = cellLocator(space);
    return (coords, count, out) => {
      for (let k = 0; k < count; k++) out[k] = values[locate(coords, k)];
    };
  }
  if (dim === 0) {
    throw new PlurisimError("INVALID_SCENARIO", `a ${reward.kind} reward needs atom coordinates; this space has none`, { field: "space.coords", value: reward.kind });
  }
  const c2 = (p: number | [number, number]): [number, number] => (typeof p === "number" ? [p, 0] : p);
  switch (reward.kind) {
    case "quadratic": {
      const [cx, cy] = c2(reward.center);
      const s = reward.scale;
      if (dim === 1) return (c, count, out) => { for (let k = 0; k < count; k++) { const d = c[k] - cx; out[k] = -s * (d * d); } };
      return (c, count, out) => {
        for (let k = 0; k < count; k++) {
          const dx = c[2 * k] - cx;
          const dy = c[2 * k + 1] - cy;
          out[k] = -s * (dx * dx + dy * dy);
        }
      };
    }
    case "gaussian": {
      const [cx, cy] = c2(reward.center);
      const h = reward.height;
      const inv = 1 / (2 * reward.width * reward.width);
      if (dim === 1) return (c, count, out) => { for (let k = 0; k < count; k++) { const d = c[k] - cx; out[k] = h * dmath.exp(-d * d * inv); } };
      return (c, count, out) => {
        for (let k = 0; k < count; k++) {
          const dx = c[2 * k] - cx;
          const dy = c[2 * k + 1] - cy;
          out[k] = h * dmath.exp(-(dx * dx + dy * dy) * inv);
        }
      };
    }
    case "linear": {
      const [sx, sy] = c2(reward.slope);
      const b = reward.intercept;
      if (dim === 1) return (c, count, out) => { for (let k = 0; k < count; k++) out[k] = sx * c[k] + b; };
      return (c, count, out) => { for (let k = 0; k < count; k++) out[k] = sx * c[2 * k] + sy * c[2 * k + 1] + b; };
    }
    case "plateau": {
      const [cx, cy] = c2(reward.center);
      const r2 = reward.radius * reward.radius;
      const { level, outside } = reward;
      return (c, count, out) => {
        for (let k = 0; k < count; k++) {
          const dx = c[k * dim] - cx;
          const dy = dim === 2 ? c[2 * k + 1] - cy : 0;
          out[k] = dx * dx + dy * dy <= r2 ? level : outside;
        }
      };
    }
    case "box": {
      const boxes = reward.boxes.map((b) => ({ lo: c2(b.lo), hi: c2(b.hi), level: b.level }));
      const outside = reward.outside;
      return (c, count, out) => {
        for (let k = 0; k < count; k++) {
          const x = c[k * dim];
          const y = dim === 2 ? c[2 * k + 1] : 0;
          let v = outside;
          // The last listed box containing the point wins, so later boxes paint over earlier ones.
          for (let j = boxes.length - 1; j >= 0; j--) {
            const b = boxes[j];
            if (x >= b.lo[0] && x <= b.hi[0] && (dim === 1 || (y >= b.lo[1] && y <= b.hi[1]))) {
              v = b.level;
              break;
            }
          }
          out[k] = v;
        }
      };
    }
    case "formula": {
      const f = compileFormula(reward.expr, formulaVars(space));
      if (dim === 1) return (c, count, out) => f.evaluate(c, null, out, count);
      const xs = new Float64Array(CHUNK);
      const ys = new Float64Array(CHUNK);
      const tmp = new Float64Array(CHUNK);
      return (c, count, out) => {
        for (let off = 0; off < count; off += CHUNK) {
          const len = Math.min(CHUNK, count - off);
          for (let k = 0; k < len; k++) {
            xs[k] = c[2 * (off + k)];
            ys[k] = c[2 * (off + k) + 1];
          }
          f.evaluate(xs, ys, tmp, len);
          out.set(len === CHUNK ? tmp : tmp.subarray(0, len), off);
        }
      };
    }
  }
}

type Cov2 = [[number, number], [number, number]];

/**
 * One Gaussian on the atoms as offset + rel[x], with rel[x] = -(Q(x) - Q(ref)) / 2 <= 0 relative
 * to the atom `ref` nearest the mean (Q the squared Mahalanobis distance to it) and offset =
 * logWeight - log sqrt(det) - Q(ref) / 2 (the 2 pi constants cancel on renormalisation; the log
 * det terms do not when mixture components differ).
 *
 * Q(x) - Q(ref) is formed as (x - ref)^T adj(C) ((x - mu) + (ref - mu)) / det(C), from
 * differences of coordinates, so a mean far from the box (1e100 away) or an sd far below the
 * spacing (1e-300) keeps the order of the atoms instead of rounding every Q to one value or to
 * Infinity. Coordinates, means and covariance entries are bounded (MAX_COORDINATE,
 * MAX_COVARIANCE), so the numerator is finite; dividing by det may overflow, which means an
 * atom infinitely less likely than `ref` (-Infinity), never NaN.
 */
function gaussianLogDensity(coords: Float64Array, n: number, dim: 1 | 2, mean: number | [number, number], sd: number | undefined, cov: Cov2 | undefined, logWeight: number, rel: Float64Array): { offset: number; Qref: number } {
  const mx = dim === 1 ? (mean as number) : (mean as [number, number])[0];
  const my = dim === 1 ? 0 : (mean as [number, number])[1];
  // adj(C) / M and det(C) / M with M = max(a, d), or the identity and sd^2 (1-D, isotropic).
  let a = 1;
  let b = 0;
  let d = 1;
  let scale = 0;
  let logRootDet: number;
  if (cov === undefined) {
    logRootDet = dim * dmath.log(sd as number);
  } else {
    const [[ca, cb], [, cd]] = cov;
    const M = Math.max(ca, cd);
    a = cd / M;
    b = -cb / M;
    d = ca / M;
    scale = (ca * cd - cb * cb) / M;
    logRootDet = 0.5 * dmath.log(ca * cd - cb * cb);
  }
  const x0 = (x: number) => coords[dim * x];
  const x1 = (x: number) => (dim === 2 ? coords[2 * x + 1] : 0);
  // (x - ref)^T adj (x + ref - 2 mu): Q(x) - Q(ref) up to the positive factor 1/det.
  const numerator = (x: number, ref: number): number => {
    const u0 = x0(x) - x0(ref);
    const u1 = x1(x) - x1(ref);
    const v0 = x0(x) - mx + (x0(ref) - mx);
    const v1 = x1(x) - my + (x1(ref) - my);
    return u0 * (a * v0 + b * v1) + u1 * (b * v0 + d * v1);
  };
  const divide = (q: number): number => (q === 0 ? 0 : cov === undefined ? q / (sd as number) / (sd as number) : q / scale);
  // The nearest atom: the smallest Q(x) - Q(0); the numerator has the same order and stays finite.
  let ref = 0;
  let best = 0;
  for (let x = 1; x < n; x++) {
    const q = numerator(x, 0);
    if (q < best) {
      best = q;
      ref = x;
    }
  }
  for (let x = 0; x < n; x++) {
    // ref is the minimiser, so Q(x) - Q(ref) >= 0 up to rounding: a rounding-negative one is a tie.
    const q = divide(numerator(x, ref));
    rel[x] = q > 0 ? -0.5 * q : 0;
  }
  const e0 = x0(ref) - mx;
  const e1 = x1(ref) - my;
  const Qref = divide(e0 * (a * e0 + b * e1) + e1 * (b * e0 + d * e1));
  return { offset: logWeight - logRootDet - 0.5 * Qref, Qref };
}

/**
 * Masses of a distribution on the atoms, summing to 1. Densities are evaluated in log space
 * relative to the most likely atom before exponentiating, so a Gaussian far from the box or very
 * narrow still gives a proper distribution (its mass goes to the nearest atoms).
 */
export function discretize(dist: DistributionSpec, space: SpaceSpec, coords: Float64Array = atomCoords(space), field = "initial"): Float64Array {
  const n = atomCount(space);
  const p = new Float64Array(n);
  if (dist.kind === "uniform") return p.fill(1 / n);
  if (dist.kind === "vector") {
    let s = 0;
    for (let x = 0; x < n; x++) s += dist.values[x];
    for (let x = 0; x < n; x++) p[x] = dist.values[x] / s;
    return p;
  }
  const dim = spaceDim(space);
  if (dim === 0) throw new PlurisimError("INVALID_SCENARIO", `${field}: a ${dist.kind} distribution needs atom coordinates`, { field, value: dist.kind });
  const logp = new Float64Array(n);
  if (dist.kind === "gaussian") {
    gaussianLogDensity(coords, n, dim, dist.mean, dist.sd, dist.cov, 0, logp);
  } else {
    const parts = dist.weights.flatMap((wt, j) => {
      if (wt === 0) return [];
      const rel = new Float64Array(n);
      const logWeight = dmath.log(wt);
      return [{ rel, logWeight, ...gaussianLogDensity(coords, n, dim, dist.means[j], dist.sds?.[j], dist.covs?.[j], logWeight, rel) }];
    });
    // When every component's offset underflows (each is astronomically far from every atom in its
    // own units), the component(s) nearest in those units carry the whole mass.
    if (!parts.some((c) => c.offset > -Infinity)) {
      const nearest = Math.min(...parts.map((c) => c.Qref));
      for (const c of parts) c.offset = c.Qref === nearest ? c.logWeight : -Infinity;
    }
    logp.fill(-Infinity);
    for (const c of parts) {
      for (let x = 0; x < n; x++) {
        const a = logp[x];
        const b = c.offset + c.rel[x];
        const hi = a > b ? a : b;
        logp[x] = hi === -Infinity ? -Infinity : hi + dmath.log1p(dmath.exp(-Math.abs(a - b)));
      }
    }
  }
  let max = -Infinity;
  for (let x = 0; x < n; x++) if (logp[x] > max) max = logp[x];
  let s = 0;
  for (let x = 0; x < n; x++) {
    p[x] = dmath.exp(logp[x] - max);
    s += p[x];
  }
  if (!(s > 0) || !Number.isFinite(s)) {
    throw new PlurisimError("NUMERIC", `${field}: the discretised ${dist.kind} has no mass on the atoms`, { field, value: dist });
  }
  for (let x = 0; x < n; x++) p[x] /= s;
  return p;
}

function describeAtom(coords: Float64Array, dim: number, x: number): string {
  if (dim === 0) return `atom ${x}`;
  if (dim === 1) return `atom ${x} (x = ${coords[x]})`;
  return `atom ${x} (x = ${coords[2 * x]}, y = ${coords[2 * x + 1]})`;
}

// f64 exp underflows to 0 below about -745.13.
const EXP_UNDERFLOW = -745.1332191019411;

/**
 * Throws REWARD_UNDERFLOW when, for some group, the curation weights w_i = exp((r_i - max r_i)/tau)
 * of all atoms of the support but at most one are 0 in f64 (docs/model.md, section 1): the dynamics
 * would then divide 0 by 0 or collapse in one step for a numerical, not a modelling, reason.
 * `rowMax`, when given, holds each group's max r_i (compileScenario has it from its finiteness scan).
 */
export function checkRewardUnderflow(problem: Pick<Problem, "n" | "m" | "r" | "tau" | "p0" | "pData" | "lambda" | "groupNames" | "coords" | "dim">, rowMax?: Float64Array): void {
  const { n, m, r, tau, p0, pData, lambda } = problem;
  const mixed = lambda > 0;
  for (let i = 0; i < m; i++) {
    const off = i * n;
    const max = rowMax ? rowMax[i] : maxOf(r, off, n);
    // Only 0, 1 or "more" matters: the scan stops at the second atom of the support whose weight
    // is representable, which on any reasonable landscape comes within the first few atoms.
    let alive = 0;
    let where = -1;
    for (let x = 0; x < n && alive < 2; x++) {
      if (!(p0[x] > 0 || (mixed && pData[x] > 0))) continue;
      if ((r[off + x] - max) / tau > EXP_UNDERFLOW) {
        alive++;
        where = x;
      }
    }
    if (alive >= 2) continue;
    let support = 0;
    for (let x = 0; x < n; x++) if (p0[x] > 0 || (mixed && pData[x] > 0)) support++;
    if (alive === 0 || support > 1) {
      let min = Infinity;
      for (let x = 0; x < n; x++) if (r[off + x] < min) min = r[off + x];
      const field = `groups[${i}].reward`;
      const at = alive === 1 ? `except at ${describeAtom(problem.coords, problem.dim, where)}` : "on the whole support";
      throw new PlurisimError(
        "REWARD_UNDERFLOW",
        `${field} (group "${problem.groupNames[i]}"): with tau = ${tau}, the curation weights exp((r - max r)/tau) underflow to 0 on all ${support} atoms of the support of p0 ${at}; the reward range (max - min)/tau = ${formatValue((max - min) / tau)} exceeds 745. Raise curation.temperature or flatten the reward`,
        { field, value: { tau, rewardRange: max - min } },
      );
    }
  }
}

/** Returns the largest of the n values of a from off on (-Infinity for none). */
function maxOf(a: Float64Array, off: number, n: number): number {
  let max = -Infinity;
  for (let x = off; x < off + n; x++) if (a[x] > max) max = a[x];
  return max;
}

/** Sets max[i] to the largest value of row; returns the first atom whose value is not finite, or -1. */
function finiteMax(row: Float64Array, max: Float64Array, i: number): number {
  let mx = -Infinity;
  for (let x = 0; x < row.length; x++) {
    const v = row[x];
    // v - v is 0 exactly when v is finite (NaN for NaN and +-Infinity).
    if (v - v !== 0) return x;
    if (v > mx) mx = v;
  }
  max[i] = mx;
  return -1;
}

/** A compiled scenario kept to compile the next one from (compileScenario's `prev`). */
export interface Compiled {
  scenario: Scenario;
  problem: Problem;
}

/** True when two parsed-scenario values are structurally equal (plain JSON data). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const key of ka) if (!Object.hasOwn(b, key) || !sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  return true;
}

/**
 * Compiles a validated scenario into the Problem the engine runs; throws REWARD_NOT_FINITE or
 * REWARD_UNDERFLOW. With `prev` (the last compiled scenario, e.g. the previous cell of a sweep),
 * every array whose inputs are unchanged is reused as the same object: coordinates, p0 and
 * p_data when the space and the distribution are equal, each reward row when its reward is
 * equal (r itself when all are). The values are those a fresh compile gives; the engine keeps
 * what it derived from reused arrays (weights, masks) in place.
 */
export function compileScenario(s: Scenario, prev?: Compiled): Problem {
  const { space } = s;
  const n = atomCount(space);
  const dim = spaceDim(space);
  const m = s.groups.length;
  const sameSpace = prev !== undefined && sameValue(prev.scenario.space, space);
  const coords = sameSpace ? prev.problem.coords : atomCoords(space);

  const sameInitial = sameSpace && sameValue(prev.scenario.initial, s.initial);
  const p0 = sameInitial ? prev.problem.p0 : discretize(s.initial, space, coords, "initial");
  const dist = s.realData.distribution;
  const sameData = sameSpace && sameValue(prev.scenario.realData.distribution, dist) && (dist !== undefined || sameInitial);
  const pData = sameData ? prev.problem.pData : dist ? discretize(dist, space, coords, "realData.distribution") : p0.slice();

  const q = new Float64Array(m);
  let qs = 0;
  for (const g of s.groups) qs += g.weight;
  s.groups.forEach((g, i) => (q[i] = g.weight / qs));

  const sameReward = s.groups.map((g, i) => sameSpace && i < prev.scenario.groups.length && sameValue(prev.scenario.groups[i].reward, g.reward));
  const allSame = sameSpace && m === prev.problem.m && sameReward.every(Boolean);
  const r = allSame ? prev.problem.r : new Float64Array(m * n);
  // Each row's max r_i, taken in the finiteness scan for checkRewardUnderflow (unknown when r is reused).
  const rowMax = allSame ? undefined : new Float64Array(m);
  s.groups.forEach((g, i) => {
    if (!rowMax) return;
    const row = r.subarray(i * n, (i + 1) * n);
    if (sameReward[i]) row.set(prev!.problem.r.subarray(i * n, (i + 1) * n));
    else if (g.reward.kind === "vector") row.set(g.reward.values);
    else rewardEvaluator(g.reward, space)(coords, n, row);
    const x = finiteMax(row, rowMax, i);
    if (x >= 0) {
      const field = `groups[${i}].reward`;
      const what = g.reward.kind === "formula" ? `formula ${JSON.stringify(g.reward.expr)}` : `${g.reward.kind} reward`;
      throw new PlurisimError("REWARD_NOT_FINITE", `${field} (group "${g.name}"): ${what} is ${formatValue(row[x])} at ${describeAtom(coords, dim, x)}; rewards must be finite on every atom`, {
        field,
        value: row[x],
      });
    }
  });

  let retraining: RetrainingSpec;
  const rt = s.retraining;
  if (rt.model === "gmm") {
    retraining = { model: "gmm", samples: rt.samples, components: rt.components, varianceFloor: rt.varianceFloor ?? defaultVarianceFloor(space), emIterations: rt.emIterations };
  } else if (rt.model === "histogram") retraining = { model: "histogram", samples: rt.samples, smoothing: rt.smoothing };
  else if (rt.model === "kde") retraining = { model: "kde", samples: rt.samples, bandwidth: rt.bandwidth };
  else if (rt.model === "flow") retraining = { ...rt, hidden: [...rt.hidden] };
  else retraining = { model: "exact" };

  const problem: Problem = {
    n,
    m,
    dim,
    coords,
    cellWidth: space.kind === "grid1d" ? (space.max - space.min) / space.cells : null,
    gridShape: space.kind === "grid2d" ? [space.cells[0], space.cells[1]] : null,
    p0,
    q,
    groupNames: s.groups.map((g) => g.name),
    r,
    tau: s.curation.temperature,
    K: s.curation.K === "inf" ? Infinity : s.curation.K,
    mixing: s.curation.mixing,
    lambda: s.realData.fraction,
    pData,
    generations: s.generations,
    recordEvery: s.record.every,
    snapshots: [...new Set(s.record.snapshots ?? [])].sort((a, b) => a - b),
    earlyStopTolerance: s.earlyStop?.tolerance ?? null,
    earlyStopNashGap: s.earlyStop?.nashGap ?? null,
    basinEpsilon: s.basinEpsilon,
    seed: s.seed,
    retraining,
  };
  // The check reads r, tau, p0, p_data and whether p_data is mixed in: skip it when none changed.
  const p = prev?.problem;
  const checked = p !== undefined && r === p.r && p0 === p.p0 && pData === p.pData && problem.tau === p.tau && problem.lambda > 0 === p.lambda > 0;
  if (!checked) checkRewardUnderflow(problem, rowMax);
  return problem;
}
