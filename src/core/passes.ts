// Two K = infinity generations per memory pass on large grids (assembly/update.ts kinfStep2x2),
// split across threads. A pass sums per chunk of PASS_CHUNK atoms and the engine adds the chunks'
// sums in chunk order, so a run has the same bits on one thread or on several, each running a
// contiguous run of whole chunks. Threads are the host's business (src/node/pass-split.ts): the
// engine sees a PassRange per other thread and calls it synchronously.

/** Atoms per chunk of a two-generation pass (assembly/update.ts PASS_CHUNK_SHIFT). */
export const PASS_CHUNK = 1 << 16;
/** Atoms per zero-block flag (assembly/blocks.ts ZB); a chunk is a whole number of blocks. */
export const ZERO_BLOCK = 64;
/** Partial sums per chunk: Z_0, Z_1, M00, M01, M11 (second moments of w) and the mass. */
export const PASS_PARTS = 6;

/** Atoms [from, to) of a grid whose two-generation passes another thread runs. */
export interface PassRange {
  readonly from: number;
  readonly to: number;
  /** Hands over the two weight rows w_0, w_1 on [from, to). */
  loadWeights(w0: Float64Array, w1: Float64Array): void;
  /** Hands over p on [from, to) and its zero-block flags (null: dense). */
  loadP(p: Float64Array, flags: Uint8Array | null): void;
  /** Starts a pass with c = q / Z_t and d = q / Z_{t+1} and returns at once. */
  start(c: Float64Array, d: Float64Array): void;
  /** Waits for the pass; writes its chunks' partial sums (PASS_PARTS each, in chunk order) into parts. */
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

/** into[j] = sum over chunks k, in order, of parts[k * PASS_PARTS + j], for j < into.length. */
export function sumChunks(parts: Float64Array, chunks: number, into: Float64Array): void {
  for (let j = 0; j < into.length; j++) {
    let s = 0;
    for (let k = 0; k < chunks; k++) s += parts[k * PASS_PARTS + j];
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
