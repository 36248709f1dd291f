// Documented limits of a scenario (docs/scenario.md, "Limits"). They are checked when the
// scenario is parsed, before anything large is allocated.

import { PlurisimError } from "./errors.js";

/** Most preference groups a scenario may have. */
export const MAX_GROUPS = 256;

/** Most generations T. */
export const MAX_GENERATIONS = 10_000_000;

/** Largest memory, in bytes, the engine may need for one run: 2 GiB (Wasm32 memory is 4 GiB). */
export const MAX_MEMORY_BYTES = 2 ** 31;

/** Most candidates drawn per generation by finite-sample retraining: N x K <= 2^27. */
export const MAX_CANDIDATES_PER_GENERATION = 2 ** 27;

/** Most training samples N per generation. */
export const MAX_SAMPLES = 2 ** 27;

/** Most snapshots of p kept during a run. */
export const MAX_SNAPSHOTS = 10_000;

/** Largest K: the kernels take K as a 32-bit integer. */
export const MAX_K = 2 ** 31 - 1;

/** Seeds key the counter-based PRNG as 32-bit words: [0, 2^32). */
export const MAX_SEED = 2 ** 32 - 1;

/**
 * Largest mass defect |1 - sum p_{t+1}| an exact finite-K step may show before renormalising.
 * The quadrature itself is at about 1e-14 (test/kernels-finitek.test.ts); a larger defect means
 * that weights exp((r - max r)/tau) underflow to 0 on atoms that carry mass, where Luce's rule
 * is 0/0, so the run is refused rather than silently renormalised.
 */
export const MAX_MASS_DEFECT = 1e-9;

/** What a memory estimate needs to know about a scenario. */
export interface MemoryShape {
  /** Atoms n. */
  n: number;
  /** Groups m. */
  m: number;
  /** Coordinates per atom (0, 1 or 2). */
  dim: number;
  retraining:
    | { model: "exact" }
    | { model: "histogram"; samples: number }
    | { model: "gmm"; samples: number; components: number }
    | { model: "kde"; samples: number }
    | { model: "flow"; samples: number; poolFactor?: number };
  /** Snapshots of p kept in JavaScript memory. */
  snapshots: number;
  /** Candidates per curated sample (Infinity for "inf"); sizes the sampling buffers. */
  K?: number;
}

export interface MemoryEstimate {
  /**
   * Wasm memory of the exact engine: n (2m + 8) f64 (rewards, weights, p, next p, p0, pData,
   * scratch), and for exact finite K another 5m f64 per atom (the step's copy of the weights and
   * its 64-byte record per pair and group, assembly/finitek.ts).
   */
  engineBytes: number;
  /** Sampling buffers of finite-sample retraining (alias table, samples, responsibilities). */
  samplingBytes: number;
  /** Snapshots kept in JavaScript memory: snapshots x n f64. */
  snapshotBytes: number;
  totalBytes: number;
}

/** Estimates the memory one run needs, in bytes, broken down by use. */
export function estimateMemory(s: MemoryShape): MemoryEstimate {
  const { n, m, dim } = s;
  const finiteKExact = s.retraining.model === "exact" && Number.isFinite(s.K ?? Infinity);
  const engineBytes = n * (2 * m + 8 + (finiteKExact ? 5 * m : 0)) * 8;
  let samplingBytes = 0;
  const r = s.retraining;
  if (r.model !== "exact") {
    const N = r.samples;
    const K = s.K ?? Infinity;
    // Alias table (f64 probability + i32 alias per atom) and the model's own density on the atoms.
    const atomBytes = n * (8 + 4 + 8);
    // Each sample: its atom index or coordinates, its group, its candidate's reward.
    const perSample = r.model === "histogram" ? 4 + 4 + 8 : Math.max(dim, 1) * 8 + 4 + 8;
    // EM responsibilities: N x C f64.
    const resp = r.model === "gmm" ? N * r.components * 8 : 0;
    // K = infinity histograms keep one tilted alias table per group; finite K needs per-candidate
    // scratch (12 bytes each) and, for points, a chunk of candidates with their rewards.
    const tilted = K === Infinity ? m * n * 16 : 12 * K;
    const candidates = r.model === "histogram" || K === Infinity ? 0 : Math.min(N, 1 << 16) * K * (Math.max(dim, 1) * 8 + 8);
    // flow: N fresh points for the metrics, and at K = infinity a pool of points with rewards and cumulative weights.
    const flow = r.model === "flow" ? N * Math.max(dim, 1) * 8 + (K === Infinity ? (r.poolFactor ?? 4) * N * (Math.max(dim, 1) * 8 + 16) : 0) : 0;
    samplingBytes = atomBytes + N * perSample + resp + tilted + candidates + flow;
  }
  const snapshotBytes = s.snapshots * n * 8;
  return { engineBytes, samplingBytes, snapshotBytes, totalBytes: engineBytes + samplingBytes + snapshotBytes };
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

/** Throws MEMORY_LIMIT when the estimate exceeds MAX_MEMORY_BYTES, naming the sizes. */
export function checkMemory(s: MemoryShape): MemoryEstimate {
  const e = estimateMemory(s);
  if (e.totalBytes > MAX_MEMORY_BYTES) {
    const finiteKExact = s.retraining.model === "exact" && Number.isFinite(s.K ?? Infinity);
    const parts = [`engine n(${finiteKExact ? "7m+8" : "2m+8"})x8 bytes = ${gib(e.engineBytes)}`];
    if (e.samplingBytes > 0) parts.push(`sampling buffers ${gib(e.samplingBytes)}`);
    if (e.snapshotBytes > 0) parts.push(`${s.snapshots} snapshots ${gib(e.snapshotBytes)}`);
    throw new PlurisimError(
      "MEMORY_LIMIT",
      `space of n = ${s.n} atoms with m = ${s.m} groups needs about ${gib(e.totalBytes)} (${parts.join(", ")}), over the limit of ${gib(MAX_MEMORY_BYTES)}; use fewer atoms, groups, samples or snapshots`,
      { field: "space", value: { n: s.n, m: s.m, bytes: e.totalBytes } },
    );
  }
  return e;
}

/**
 * Deepest nesting of arrays and objects in a scenario or sweep document. The deepest valid
 * scenario nests 6 levels (a box reward's corner in 2-D), a sweep 8; checking this first keeps
 * every later (recursive) step, from validation to structuredClone, far from the stack limit.
 */
export const MAX_JSON_DEPTH = 64;

/** Longest string anywhere in a scenario or sweep document (descriptions included). */
export const MAX_STRING_LENGTH = 100_000;

/** Longest group name, scenario name or sweep name (sweep names become file names). */
export const MAX_NAME_LENGTH = 200;

/** Most entries of one array in a document: a `values` or `coords` list of at most 2^25 atoms. */
export const MAX_ARRAY_LENGTH = 2 ** 25;

/**
 * Largest magnitude of a coordinate (grid bounds, atom coordinates) and of a Gaussian mean. With
 * it, the squared distances the discretisation forms stay finite, so every allowed Gaussian gives
 * a proper distribution.
 */
export const MAX_COORDINATE = 1e100;

/** Largest magnitude of a covariance matrix entry (the sd of a Gaussian needs no bound). */
export const MAX_COVARIANCE = 1e100;

/** Most replicates of one `runReplicates` call (each is a whole run). */
export const MAX_REPLICATES = 100_000;

/** Keys refused anywhere in a document: they would reach Object.prototype when copied by assignment. */
export const FORBIDDEN_KEYS: readonly string[] = ["__proto__", "constructor", "prototype"];
