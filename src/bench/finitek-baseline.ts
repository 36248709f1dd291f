// The bench's "before" for exact finite K: the chunked trapezoid kernel that assembly/finitek.ts
// replaced (assembly/baselines/finitek-chunked.ts, built into src/bench/baselines/
// finitek-chunked.wasm), driven the simple way: one step, then p <- out / sum. Old and new
// kernels run on the same input in one process, so their ratio does not depend on how fast the
// machine happens to be that day.
import { existsSync, readFileSync } from "node:fs";
import { baselinesDir } from "./common.js";

interface ChunkedExports {
  memory: WebAssembly.Memory;
  dataStart(): number;
  finiteKScratchBytes(n: number, m: number): number;
  finiteKStep(p: number, out: number, w: number, n: number, m: number, q: number, K: number, lambda: number, pData: number, scratch: number): number;
}

/** The chunked kernel on one problem: `step` advances p by one renormalised generation. */
export interface ChunkedRun {
  /** One generation: out = step(p), p <- out / sum (unless `advance` is false); returns the sum before renormalising. */
  step(advance?: boolean): number;
  /** A copy of the current p. */
  p(): Float64Array;
  /** Puts p back to the given vector. */
  reset(p: Float64Array): void;
  /** From the p it was made with, `generations` steps; returns the sum of their sums (a value to check). */
  run(generations: number): number;
}

export const chunkedWasmPath = `${baselinesDir}finitek-chunked.wasm`;

/** Instantiates the chunked kernel for p (n atoms), weights w (m rows of n), q and K; null when its .wasm was not built. */
export async function chunkedFiniteK(p0: Float64Array, w: Float64Array, q: Float64Array, K: number): Promise<ChunkedRun | null> {
  if (!existsSync(chunkedWasmPath)) return null;
  const { instance } = await WebAssembly.instantiate(readFileSync(chunkedWasmPath), {
    env: {
      abort() {
        throw new Error("finitek-chunked: abort");
      },
    },
  });
  const x = instance.exports as unknown as ChunkedExports;
  const n = p0.length;
  const m = q.length;
  const align = (b: number) => (b + 15) & ~15;
  const wAt = align(x.dataStart());
  const pAt = align(wAt + 8 * m * n);
  const outAt = align(pAt + 8 * n);
  const qAt = align(outAt + 8 * n);
  const scratchAt = align(qAt + 8 * m);
  const end = scratchAt + x.finiteKScratchBytes(n, m) + 16;
  if (x.memory.buffer.byteLength < end) x.memory.grow(Math.ceil((end - x.memory.buffer.byteLength) / 65536));
  const f64 = (at: number, len: number) => new Float64Array(x.memory.buffer, at, len);
  f64(wAt, m * n).set(w);
  f64(qAt, m).set(q);
  const start = p0.slice();
  f64(pAt, n).set(start);
  const run: ChunkedRun = {
    step(advance = true) {
      const sum = x.finiteKStep(pAt, outAt, wAt, n, m, qAt, K, 0, 0, scratchAt);
      if (!advance) return sum;
      const p = f64(pAt, n);
      const out = f64(outAt, n);
      for (let i = 0; i < n; i++) p[i] = out[i] / sum;
      return sum;
    },
    p: () => f64(pAt, n).slice(),
    reset: (p) => f64(pAt, n).set(p),
    run(generations) {
      run.reset(start);
      let s = 0;
      for (let t = 0; t < generations; t++) s += run.step();
      return s;
    },
  };
  return run;
}
