// Replicates of a finite-sample run (`--replicates R`): the seed of each replicate, the
// aggregation of their final metrics, and the one rule for when a basin counts as lost.
import { PlurisimError } from "./errors.js";
import { MAX_MEMORY_BYTES, MAX_REPLICATES } from "./limits.js";

/**
 * Mass below which a basin counts as lost, for `lostBasins` and replicate survival alike: no
 * mass at all (a histogram keeps no atom of it), or, for a fitted density that is positive
 * everywhere (gmm, kde), less than half a sample's worth, 1/(2N).
 */
export function lostBasinThreshold(retraining: { model: string; samples?: number }): number {
  const N = retraining.samples;
  return (retraining.model === "gmm" || retraining.model === "kde") && N !== undefined ? 1 / (2 * N) : Number.MIN_VALUE;
}

/**
 * Throws INVALID_SCENARIO unless `replicates` is an integer in [1, MAX_REPLICATES], and
 * MEMORY_LIMIT when keeping `keptAtoms` final masses per replicate would pass MAX_MEMORY_BYTES.
 */
export function checkReplicates(replicates: unknown, keptAtoms = 0): number {
  if (typeof replicates !== "number" || !Number.isInteger(replicates) || replicates < 1 || replicates > MAX_REPLICATES) {
    throw new PlurisimError("INVALID_SCENARIO", `replicates must be an integer in [1, ${MAX_REPLICATES}] (got ${String(replicates)})`, {
      field: "replicates",
      value: replicates,
    });
  }
  if (replicates * keptAtoms * 8 > MAX_MEMORY_BYTES) {
    throw new PlurisimError(
      "MEMORY_LIMIT",
      `replicates = ${replicates} final distributions of ${keptAtoms} atoms need ${((replicates * keptAtoms * 8) / 2 ** 30).toFixed(2)} GiB, over the limit of 2 GiB; use fewer replicates or leave out the final distribution`,
      { field: "replicates", value: replicates },
    );
  }
  return replicates;
}

/** fmix32 of MurmurHash3: a bijective avalanche on 32-bit integers. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The seed of replicate r of a scenario with seed `seed`: replicate 0 runs the scenario's own
 * seed (so one replicate reproduces `run`), replicate r >= 1 runs
 * fmix32(seed ^ fmix32(r * 0x9e3779b9 + 0x7f4a7c15)), a fixed hash of (seed, r).
 */
export function replicateSeed(seed: number, r: number): number {
  if (r === 0) return seed >>> 0;
  return fmix32((seed >>> 0) ^ fmix32((Math.imul(r, 0x9e3779b9) + 0x7f4a7c15) >>> 0));
}

export interface ReplicateSummary {
  /** Mean of each final metric over replicates (elementwise for per-group arrays). */
  mean: Record<string, number | number[]>;
  /** Sample standard deviation (n - 1 denominator; 0 for one replicate). */
  std: Record<string, number | number[]>;
  /** Per group, the fraction of replicates whose basin is not lost at the end (lostBasinThreshold). */
  basinSurvival: number[];
}

/**
 * Mean and standard deviation per final metric, and per group the fraction of replicates whose
 * basin survived: basin mass at least `lostBelow` (lostBasinThreshold of the retraining).
 */
export function aggregateReplicates(results: { final: Record<string, unknown> }[], groupCount: number, lostBelow = Number.MIN_VALUE): ReplicateSummary {
  const R = results.length;
  const mean: Record<string, number | number[]> = {};
  const std: Record<string, number | number[]> = {};
  const basinSurvival = new Array<number>(groupCount).fill(0);
  if (R === 0) return { mean, std, basinSurvival };
  const stats = (values: number[]): [number, number] => {
    // Infinite values (e.g. an infinite KL) propagate as they are rather than turning into NaN.
    let s = 0;
    for (const v of values) s += v;
    const mu = s / values.length;
    if (values.length < 2) return [mu, 0];
    if (!Number.isFinite(mu)) return [mu, Infinity];
    let ss = 0;
    for (const v of values) ss += (v - mu) ** 2;
    return [mu, Math.sqrt(ss / (values.length - 1))];
  };
  const first = results[0].final;
  for (const key of Object.keys(first)) {
    const v0 = first[key];
    if (key === "p" || key === "generation") continue;
    if (typeof v0 === "number") {
      const [mu, sd] = stats(results.map((r) => r.final[key] as number));
      mean[key] = mu;
      std[key] = sd;
    } else if (Array.isArray(v0) && v0.every((v) => typeof v === "number")) {
      const len = v0.length;
      const mus: number[] = [];
      const sds: number[] = [];
      for (let j = 0; j < len; j++) {
        const [mu, sd] = stats(results.map((r) => (r.final[key] as number[])[j]));
        mus.push(mu);
        sds.push(sd);
      }
      mean[key] = mus;
      std[key] = sds;
    }
  }
  for (let i = 0; i < groupCount; i++) basinSurvival[i] = results.filter((r) => ((r.final.basinMass as number[] | undefined)?.[i] ?? 0) >= lostBelow).length / R;
  return { mean, std, basinSurvival };
}

/** Mean and sd over replicates of every metric at one recorded generation. */
export interface ReplicateBand {
  generation: number;
  /** Replicates that recorded this generation (fewer than R when some stopped early). */
  n: number;
  mean: Record<string, number | number[]>;
  /** Sample standard deviation (n - 1 denominator; 0 for one replicate; Infinity beside an infinite mean). */
  std: Record<string, number | number[]>;
}

/** Welford's running mean and sum of squared deviations of one value, with a plain sum for infinite values. */
interface Running {
  k: number;
  mean: number;
  m2: number;
  sum: number;
  finite: boolean;
}

function push(a: Running, v: number): void {
  a.k++;
  a.sum += v;
  if (!Number.isFinite(v)) a.finite = false;
  const d = v - a.mean;
  a.mean += d / a.k;
  a.m2 += d * (v - a.mean);
}

function meanSd(a: Running): [number, number] {
  // Infinite values (an infinite KL) give the plain sum's mean and an infinite sd, as aggregateReplicates does.
  if (!a.finite) return [a.sum / a.k, a.k < 2 ? 0 : Infinity];
  return [a.mean, a.k < 2 ? 0 : Math.sqrt(a.m2 / (a.k - 1))];
}

/**
 * Mean ± sd bands over replicates, per recorded generation: each replicate's trajectory is added
 * as it finishes (in seed order) and dropped, so memory holds one running state per recorded
 * generation and metric, whatever R is. Welford's update (a fixed order of operations over the
 * replicates in seed order) makes the bands deterministic.
 */
export class ReplicateBands {
  private readonly byGeneration = new Map<number, Map<string, Running | Running[]>>();

  /** Adds one replicate's recorded metrics (numbers and per-group arrays; `p` and `generation` skipped). */
  add(trajectory: readonly Record<string, unknown>[]): void {
    for (const m of trajectory) {
      const g = m.generation as number;
      let acc = this.byGeneration.get(g);
      if (!acc) this.byGeneration.set(g, (acc = new Map()));
      for (const key of Object.keys(m)) {
        if (key === "p" || key === "generation") continue;
        const v = m[key];
        if (typeof v === "number") {
          let a = acc.get(key) as Running | undefined;
          if (!a) acc.set(key, (a = { k: 0, mean: 0, m2: 0, sum: 0, finite: true }));
          push(a, v);
        } else if (Array.isArray(v) && v.every((e) => typeof e === "number")) {
          let a = acc.get(key) as Running[] | undefined;
          if (!a) acc.set(key, (a = v.map(() => ({ k: 0, mean: 0, m2: 0, sum: 0, finite: true }))));
          for (let j = 0; j < a.length; j++) push(a[j], v[j] as number);
        }
      }
    }
  }

  /** The bands, in generation order. */
  bands(): ReplicateBand[] {
    return [...this.byGeneration.keys()].sort((a, b) => a - b).map((generation) => {
      const acc = this.byGeneration.get(generation)!;
      const mean: Record<string, number | number[]> = {};
      const std: Record<string, number | number[]> = {};
      let n = 0;
      for (const [key, a] of acc) {
        if (Array.isArray(a)) {
          const pairs = a.map(meanSd);
          mean[key] = pairs.map((p) => p[0]);
          std[key] = pairs.map((p) => p[1]);
          n = Math.max(n, a[0]?.k ?? 0);
        } else {
          [mean[key], std[key]] = meanSd(a);
          n = Math.max(n, a.k);
        }
      }
      return { generation, n, mean, std };
    });
  }
}
