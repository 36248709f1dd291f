// The memory passes of large K = infinity grids, split across threads: two generations per pass
// for m = 2 (assembly/update.ts kinfStep2x2) and one per pass for 3 <= m <= 8 (kinfStepRange).
// A pass sums per chunk of PASS_CHUNK atoms and the engine adds the chunks' sums in chunk order,
// so a run has the same bits on one thread or on several, each running a contiguous run of whole
// chunks. Threads are the host's business (src/node/pass-split.ts): the engine sees a PassRange
// per other thread and calls it synchronously.

/** Atoms per chunk of a two-generation pass (assembly/update.ts PASS_CHUNK_SHIFT). */
export const PASS_CHUNK = 1 << 16;
/** Atoms per zero-block flag (assembly/blocks.ts ZB); a chunk is a whole number of blocks. */
export const ZERO_BLOCK = 64;
/** Partial sums per chunk of a two-generation pass: Z_0, Z_1, M00, M01, M11 (second moments of w) and the mass. */
export const PASS_PARTS = 6;
/** Partial sums per chunk of a one-generation pass: Z_0 .. Z_7 (unused slots 0) and the mass (assembly/update.ts STEP_PARTS). */
export const STEP_PARTS = 9;
/** The most groups a one-generation pass takes (assembly/update.ts FUSED_MAX_M). */
export const STEP_MAX_GROUPS = 8;

/** Atoms [from, to) of a grid whose two-generation passes another thread runs. */
export interface PassRange {
  readonly from: number;
  readonly to: number;
  /** Hands over the weight rows w_0 .. w_{m-1} on [from, to) (two for two-generation passes, at most STEP_MAX_GROUPS). */
  loadWeights(rows: readonly Float64Array[]): void;
  /** Hands over p on [from, to) and its zero-block flags (null: dense). */
  loadP(p: Float64Array, flags: Uint8Array | null): void;
  /** Starts a two-generation pass with c = q / Z_t and d = q / Z_{t+1} and returns at once. */
  start(c: Float64Array, d: Float64Array): void;
  /** Hands over p_data on [from, to) and its zero-block flags (null: dense), for one-generation passes with real data mixed in. */
  loadData(pData: Float64Array, flags: Uint8Array | null): void;
  /** Starts a one-generation pass p <- (1 - lambda) p sum_i c_i w_i + lambda p_data and returns at once. */
  step(c: Float64Array, lambda: number): void;
  /** Waits for the pass; writes its chunks' partial sums (PASS_PARTS or STEP_PARTS each, in chunk order) into parts, which holds exactly its chunks. */
  finish(parts: Float64Array): void;
  /** Copies p on [from, to) and its flags back. */
  readP(p: Float64Array, flags: Uint8Array | null): void;
}

/** Returns the chunks of n atoms. */
export function passChunks(n: number): number {
  return Math.ceil(n / PASS_CHUNK);
}

/** The runs [from, to) of whole chunks that `threads` threads take, in order, as even as chunks allow (fewer when there are fewer chunks). */
export function passRanges(n: number, threads: number): [number, number][] {
  const chunks = passChunks(n);
  const k = Math.max(1, Math.min(Math.floor(threads), chunks));
  const ranges: [number, number][] = [];
  for (let i = 0; i < k; i++) {
    const from = Math.floor((i * chunks) / k) * PASS_CHUNK;
    const to = Math.min(n, Math.floor(((i + 1) * chunks) / k) * PASS_CHUNK);
    ranges.push([from, to]);
  }
  return ranges;
}

/** into[j] = sum over chunks k, in order, of parts[k * stride + j], for j < into.length. */
export function sumChunks(parts: Float64Array, chunks: number, into: Float64Array, stride = PASS_PARTS): void {
  for (let j = 0; j < into.length; j++) {
    let s = 0;
    for (let k = 0; k < chunks; k++) s += parts[k * stride + j];
    into[j] = s;
  }
}

/** Checks the runs other threads take: whole chunks, contiguous, ending at the last atom; returns them. */
export function checkPassRanges(ranges: readonly PassRange[], n: number): readonly PassRange[] {
  for (let i = 0; i < ranges.length; i++) {
    const { from, to } = ranges[i];
    const next = i + 1 < ranges.length ? ranges[i + 1].from : n;
    if (!(from > 0 && from % PASS_CHUNK === 0 && to === next && to > from)) {
      throw new RangeError(`passRanges[${i}] = [${from}, ${to}) is not a run of whole ${PASS_CHUNK}-atom chunks continuing to atom ${next} of ${n}`);
    }
  }
  return ranges;
}

/** What decides whether threads pay for a run's passes: its kind, its size and its stretches between recorded generations. */
export interface SplitShape {
  /** Two generations per pass (m = 2); otherwise one (3 to 8 groups). */
  twoSteps: boolean;
  atoms: number;
  groups: number;
  generations: number;
  /** Recorded generations and snapshots, where p comes back whole. */
  stops: number;
}

/** The most values (atoms x (groups + 1): p and the weight rows) a one-generation pass shares with threads. */
export const SPLIT_MAX_VALUES = 28 * 2 ** 20;

/**
 * Whether sharing a run's passes with threads pays, as measured on a 2-core machine (the
 * engine's run alone, one thread against two).
 * - Two generations per pass: handing the grid over (the weights and p, and p back at every
 *   stop) costs about as much as 150 passes save (10^6 atoms: 1000 generations gain 0.17 s, 400
 *   break even; 10^7 atoms, 600 generations: 3.9 s against 5.2 s).
 * - One generation per pass is bound by memory traffic. Two threads gain nothing at 10^5 atoms,
 *   a third of the time from 10^6 to 3 x 10^6 atoms (m = 3 and 8), a quarter at 6 x 10^6 (m = 3),
 *   and lose once p and the weights pass about 250 MB (m = 3 at 8 x 10^6 atoms 6% slower, at
 *   10^7 10%; m = 8 at 10^7 20%; m = 8 at 6 x 10^6, 430 MB, about even); they also need some
 *   50 generations between stops.
 */
export function splitPays(s: SplitShape): boolean {
  if (s.twoSteps) return s.generations / 2 - 31 * s.stops >= 200;
  return s.atoms >= 4 * PASS_CHUNK && s.atoms * (s.groups + 1) <= SPLIT_MAX_VALUES && s.generations - 8 * s.stops >= 50;
}
