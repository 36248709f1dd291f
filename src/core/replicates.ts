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
