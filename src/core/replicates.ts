// Replicates of a finite-sample run (`--replicates R`): the seed of each replicate
// and the aggregation of their final metrics.

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
  /** Per group, the fraction of replicates whose basin mass is > 0 at the end. */
  basinSurvival: number[];
}

/** Mean and standard deviation per final metric, and per group the fraction of replicates whose basin survived. */
export function aggregateReplicates(results: { final: Record<string, unknown> }[], groupCount: number): ReplicateSummary {
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
  for (let i = 0; i < groupCount; i++) basinSurvival[i] = results.filter((r) => ((r.final.basinMass as number[] | undefined)?.[i] ?? 0) > 0).length / R;
  return { mean, std, basinSurvival };
}
