// The Benchmark tab's suite: the kernel cases of bench/kernels.ts (the K = infinity step at
// n atoms and m groups, the exact finite-K step), timed the same way (tinybench, mean per call,
// the kernel's sum checked inside the timed loop) on this browser's Wasm engine, and named the
// same way (`kinf:n=1000,m=2`), so a Node result file lines up case by case. bench/kernels.ts
// itself reads the .wasm from disk and runs NumPy, so the page keeps this browser-side copy of
// the loop; the kernels and their inputs are the same.
import { Bench } from "tinybench";
import { instantiateKernels } from "../core/kernels.js";

/** One timed case: mean milliseconds per call. */
export interface BrowserCase {
  name: string;
  wasmMs: number;
}

const FINITE_K = { n: 3001, K: 4, centres: [-1, 1], q: [0.5, 0.5] };

/** The suite's sizes: "quick" stops at 1e5 atoms (a phone finishes it in seconds), "full" goes to 1e6. */
export function kernelCases(size: "quick" | "full"): { name: string; n: number; m: number; kind: "kinf" | "finitek" }[] {
  const sizes = size === "quick" ? [1e3, 1e4, 1e5] : [1e3, 1e4, 1e5, 1e6];
  const out: { name: string; n: number; m: number; kind: "kinf" | "finitek" }[] = [];
  for (const n of sizes) for (const m of [2, 8]) out.push({ name: `kinf:n=${n},m=${m}`, n, m, kind: "kinf" });
  out.push({ name: `finitek:n=${FINITE_K.n},K=${FINITE_K.K},m=${FINITE_K.centres.length}`, n: FINITE_K.n, m: FINITE_K.centres.length, kind: "finitek" });
  return out;
}

/** The landscapes of bench/kernels.ts: Gaussian weights around the centres on [-12, 12], uniform p. */
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

const linspace = (a: number, b: number, m: number) => Array.from({ length: m }, (_, i) => (m === 1 ? a : a + ((b - a) * i) / (m - 1)));

async function timeMs(name: string, fn: () => number, big: boolean): Promise<number> {
  const bench = new Bench({ name, time: big ? 1500 : 400, iterations: big ? 3 : 10, warmupIterations: 2, warmupTime: 50 });
  let sink = 0;
  bench.add(name, () => {
    const s = fn();
    if (!Number.isFinite(s)) throw new Error(`${name}: non-finite result ${s}`);
    sink += s;
  });
  await bench.run();
  const r = bench.tasks[0].result;
  if (r.state !== "completed") throw new Error(`${name}: ${r.state}`);
  if (sink === -1) console.log(sink);
  return r.latency.mean;
}

// The raw kernels take trailing block-skipping arguments that are off at 0; passing the zeros
// explicitly keeps this call valid whichever of them a build has.
type RawCall = (...args: number[]) => number;

/** Runs the suite on a fresh instance of `module`, reporting each case as it finishes. */
export async function runKernelSuite(module: WebAssembly.Module, size: "quick" | "full", onCase: (c: BrowserCase, done: number, total: number) => void): Promise<BrowserCase[]> {
  const k = await instantiateKernels(module);
  const cases = kernelCases(size);
  const out: BrowserCase[] = [];
  for (const c of cases) {
    k.reset();
    let wasmMs: number;
    if (c.kind === "kinf") {
      const { w, p } = grid(c.n, linspace(-3, 3, c.m));
      const coef = new Float64Array(c.m).map((_, i) => 0.5 + i / c.m);
      const wp = k.allocF64(c.n * c.m);
      k.write(wp, w);
      const pp = k.allocF64(c.n);
      k.write(pp, p);
      const cp = k.allocF64(c.m);
      k.write(cp, coef);
      const op = k.allocF64(c.n);
      const zp = k.allocF64(c.m);
      const step = k.raw.kinfStep as unknown as RawCall;
      wasmMs = await timeMs(c.name, () => step(pp, op, wp, c.n, c.m, cp, zp, 0, 0, 0, 0, 0), c.n >= 1e6);
    } else {
      const { w, p } = grid(c.n, FINITE_K.centres);
      const wp = k.allocF64(c.n * c.m);
      k.write(wp, w);
      const pp = k.allocF64(c.n);
      k.write(pp, p);
      const qp = k.allocF64(c.m);
      k.write(qp, FINITE_K.q);
      const op = k.allocF64(c.n);
      const sp = k.allocU8(k.raw.finiteKScratchBytes(c.n, c.m));
      const step = k.raw.finiteKStep as unknown as RawCall;
      wasmMs = await timeMs(c.name, () => step(pp, op, wp, c.n, c.m, qp, FINITE_K.K, 0, 0, sp, 0, 0, 0), false);
    }
    const result = { name: c.name, wasmMs };
    out.push(result);
    onCase(result, out.length, cases.length);
  }
  k.reset();
  return out;
}

/**
 * The Wasm milliseconds per case of a Node result file: bench/results.json (`kernels.cases`),
 * a `plurisim bench --json` output of the same shape, or a bare `{ cases }`. Throws with what
 * the file lacks.
 */
export function nodeKernelTimes(doc: unknown): Map<string, number> {
  const d = doc as Record<string, any> | null;
  const cases = d?.kernels?.cases ?? d?.suites?.kernels?.cases ?? d?.cases;
  if (!cases || typeof cases !== "object") throw new Error('the file has no kernel cases: expected bench/results.json (a "kernels" object with "cases")');
  const out = new Map<string, number>();
  for (const [name, c] of Object.entries(cases as Record<string, any>)) {
    const ms = typeof c?.wasmMs === "number" ? c.wasmMs : typeof c?.ms === "number" ? c.ms : null;
    if (ms !== null && Number.isFinite(ms)) out.set(name, ms);
  }
  if (out.size === 0) throw new Error("the file's kernel cases carry no wasmMs times");
  return out;
}
