// Kernel benchmark suite: the K = infinity step and the finite-K step, Wasm vs the TS twin vs
// NumPy (src/bench/baselines/numpy_baseline.py, run in a child process); finite K also against the
// chunked kernel the Wasm one replaced (src/bench/finitek-baseline.ts). Case names carry their sizes.
import { instantiateKernels } from "../core/kernels.js";
import { twins } from "../core/twins.js";
import { loadWasmBytes } from "../node/wasm.js";
import { runNumpy, timeMs } from "./common.js";
import { chunkedFiniteK, chunkedWasmPath } from "./finitek-baseline.js";
import { nativeKinf, simdOpsPerAtomPair } from "./native.js";

/** Mean milliseconds per call of each implementation, and the NumPy/Wasm and TS/Wasm ratios. */
export interface CaseResult {
  wasmMs: number;
  tsMs: number | null;
  numpyMs: number | null;
  numpyOverWasm: number | null;
  tsOverWasm: number | null;
  /** K = infinity only: the same step in C (-O3 -march=native), plurisim's ns per atom-generation and the ratio. */
  nativeMs?: number | null;
  wasmOverNative?: number | null;
  nsPerAtomGen?: number;
  /** f64x2 Wasm SIMD arithmetic ops per two atoms, and the measured ns per such op. */
  simdOpsPerAtomPair?: number;
  nsPerSimdOp?: number;
  /** Finite K only: the same step by the chunked kernel the Wasm one replaced (src/bench/finitek-baseline.ts), and its time over the kernel's. */
  chunkedMs?: number | null;
  chunkedOverWasm?: number | null;
}

export interface SuiteOutput {
  cases: Record<string, CaseResult>;
  notes: string[];
  meta: Record<string, unknown>;
}

const KINF_SIZES = [1e3, 1e4, 1e5, 1e6, 1e7];
const KINF_GROUPS = [2, 8];
/** tinybench budgets: big cases run few, long iterations. */
const BIG = { time: 1500, iterations: 3 };
const SMALL = { time: 400, iterations: 10 };
const FINITE_K = { n: 3001, K: 4, centres: [-1, 1], q: [0.5, 0.5] };

function grid(n: number, centres: number[]): { w: Float64Array; p: Float64Array } {
  const m = centres.length;
  const w = new Float64Array(n * m);
  for (let i = 0; i < m; i++) {
    for (let x = 0; x < n; x++) {
      const t = -12 + (24 * x) / (n - 1);
      w[i * n + x] = Math.exp(-((t - centres[i]) ** 2));
    }
  }
  return { w, p: new Float64Array(n).fill(1 / n) };
}

function linspace(a: number, b: number, m: number): number[] {
  return Array.from({ length: m }, (_, i) => (m === 1 ? a : a + ((b - a) * i) / (m - 1)));
}


/** Sizes and tinybench budgets: `quick` keeps one small K = infinity size and short budgets. */
function plan(quick: boolean) {
  return quick
    ? { sizes: [1e4], groups: [2], big: { time: 100, iterations: 3 }, small: { time: 100, iterations: 3 } }
    : { sizes: KINF_SIZES, groups: KINF_GROUPS, big: BIG, small: SMALL };
}

function result(wasmMs: number, tsMs: number | null, numpyMs: number | null): CaseResult {
  return {
    wasmMs,
    tsMs,
    numpyMs,
    numpyOverWasm: numpyMs === null ? null : numpyMs / wasmMs,
    tsOverWasm: tsMs === null ? null : tsMs / wasmMs,
  };
}

/** Runs the kernel suite and returns its cases keyed by name (e.g. `kinf:n=1000000,m=2`). */
export async function kernelsSuite(opts: { quick?: boolean } = {}): Promise<SuiteOutput> {
  const notes: string[] = [];
  const { sizes, groups, big: BIG, small: SMALL } = plan(opts.quick ?? false);
  const kinfCases = sizes.flatMap((n) => groups.map((m): [number, number] => [n, m]));
  const numpy = runNumpy("numpy_baseline.py", { kinf: kinfCases, finitek: FINITE_K }, notes);
  const native = nativeKinf(kinfCases, notes);
  const k = await instantiateKernels(new WebAssembly.Module((await loadWasmBytes()) as Uint8Array<ArrayBuffer>));
  const cases: Record<string, CaseResult> = {};

  for (const n of sizes) {
    for (const m of groups) {
      const name = `kinf:n=${n},m=${m}`;
      const { w, p } = grid(n, linspace(-3, 3, m));
      const c = new Float64Array(m).map((_, i) => 0.5 + i / m);
      k.reset();
      const wp = k.allocF64(n * m);
      k.write(wp, w);
      const pp = k.allocF64(n);
      k.write(pp, p);
      const cp = k.allocF64(m);
      k.write(cp, c);
      const op = k.allocF64(n);
      const zp = k.allocF64(m);
      const big = n >= 1e6;
      const wasmMs = await timeMs(`${name} wasm`, () => k.raw.kinfStep(pp, op, wp, n, m, cp, zp, 0, 0, 0, 0, 0), big ? BIG : SMALL);
      const tsMs = await timeMs(`${name} ts`, () => twins.kinfStepArrays(p, w, n, m, c, 0).sum, big ? BIG : SMALL);
      const nativeMs = native[name] ?? null;
      const ops = simdOpsPerAtomPair(m);
      cases[name] = {
        ...result(wasmMs, tsMs, numpy[name] ?? null),
        nativeMs,
        wasmOverNative: nativeMs === null ? null : wasmMs / nativeMs,
        nsPerAtomGen: (wasmMs * 1e6) / n,
        simdOpsPerAtomPair: ops,
        nsPerSimdOp: (wasmMs * 1e6) / (n / 2) / ops,
      };
      console.log(`${name}: wasm ${wasmMs.toFixed(3)} ms, ts ${tsMs.toFixed(3)} ms, numpy ${numpy[name]?.toFixed(3) ?? "-"} ms`);
    }
  }
  k.reset();

  {
    const { n, K, centres, q } = FINITE_K;
    const m = centres.length;
    const name = `finitek:n=${n},K=${K},m=${m}`;
    const { w, p } = grid(n, centres);
    const qa = new Float64Array(q);
    const wp = k.allocF64(n * m);
    k.write(wp, w);
    const pp = k.allocF64(n);
    k.write(pp, p);
    const qp = k.allocF64(m);
    k.write(qp, qa);
    const op = k.allocF64(n);
    const sp = k.allocU8(k.raw.finiteKScratchBytes(n, m));
    // A run's steps: the scratch keeps per pair what depends on the weights only (assembly/finitek.ts).
    const wasmMs = await timeMs(`${name} wasm`, () => k.raw.finiteKStep(pp, op, wp, n, m, qp, K, 0, 0, sp, 0, 0, 0), SMALL);
    const tsMs = await timeMs(`${name} ts`, () => twins.finiteKStepArrays(p, w, n, m, qa, K, 0).sum, BIG);
    const chunked = await chunkedFiniteK(p, w, qa, K);
    const chunkedMs = chunked ? await timeMs(`${name} chunked`, () => chunked.step(false), SMALL) : null;
    if (!chunked) notes.push(`${chunkedWasmPath} not built: the chunked finite-K kernel skipped`);
    cases[name] = { ...result(wasmMs, tsMs, numpy[name] ?? null), chunkedMs, chunkedOverWasm: chunkedMs === null ? null : chunkedMs / wasmMs };
    console.log(`${name}: wasm ${wasmMs.toFixed(3)} ms, ts ${tsMs.toFixed(3)} ms, numpy ${numpy[name]?.toFixed(3) ?? "-"} ms, the chunked kernel ${chunkedMs?.toFixed(3) ?? "-"} ms`);
    // A first step: two weight arrays one ulp apart in one atom, alternated, so every step
    // finds its kept values stale and recomputes them (and copies the weights).
    const w2 = w.slice();
    w2[0] = w[0] * (1 + 2 ** -52);
    const wp2 = k.allocF64(n * m);
    k.write(wp2, w2);
    let flip = false;
    const coldMs = await timeMs(`${name},cold wasm`, () => {
      flip = !flip;
      return k.raw.finiteKStep(pp, op, flip ? wp2 : wp, n, m, qp, K, 0, 0, sp, 0, 0, 0);
    }, SMALL);
    cases[`${name},cold`] = result(coldMs, null, numpy[name] ?? null);
    console.log(`${name},cold: wasm ${coldMs.toFixed(3)} ms`);
    k.reset();
  }
  return { cases, notes, meta: { node: process.version } };
}
