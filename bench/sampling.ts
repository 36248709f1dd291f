// Sampling benchmark suite: one generation of histogram curation in the Wasm (alias
// table rebuilt, Ncur curated samples with K candidates each, cumulative-weight choice,
// histogram counts) against a vectorised NumPy sampler doing the same work
// (bench/numpy_sampling.py). Reports curated samples and candidate draws per second.
import { instantiateKernels } from "../src/core/kernels.js";
import { loadWasmBytes } from "../src/node/wasm.js";
import { runNumpy, timeMs } from "../src/bench/common.js";
import type { CaseResult, SuiteOutput } from "../src/bench/kernels.js";

const N_ATOMS = 3001;
const CENTRES = [-2, 2];
const Q = [0.4, 0.6];
/** [K, Ncur]: about 4 million candidate draws per generation. */
const CASES: [number, number][] = [
  [4, 1_000_000],
  [16, 250_000],
  [256, 16_000],
  [1024, 4_000],
];

type SamplingCase = CaseResult & { curatedPerSec: number; candidatesPerSec: number; numpyCandidatesPerSec: number | null };


function numpySampling(notes: string[]): Record<string, number> {
  return runNumpy("numpy_sampling.py", { n: N_ATOMS, centres: CENTRES, q: Q, cases: CASES }, notes);
}

/** Runs the sampling suite: cases keyed `curate:n=3001,K=<K>,Ncur=<Ncur>`. */
export async function samplingSuite(): Promise<SuiteOutput> {
  const notes: string[] = ["NumPy draws candidates by inverse CDF (searchsorted), its idiomatic vectorised sampler; the Wasm uses a Vose alias table rebuilt each generation"];
  const numpy = numpySampling(notes);
  const k = await instantiateKernels(new WebAssembly.Module((await loadWasmBytes()) as Uint8Array<ArrayBuffer>));
  const n = N_ATOMS;
  const m = CENTRES.length;
  const x = Float64Array.from({ length: n }, (_, i) => -12 + (24 * i) / (n - 1));
  const w = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) w[i * n + j] = Math.exp(-((x[j] - CENTRES[i]) ** 2));
  const p = x.map((v) => Math.exp(-(v * v) / 32));
  const s = p.reduce((a, b) => a + b, 0);
  p.forEach((v, i) => (p[i] = v / s));
  const cases: Record<string, SamplingCase> = {};
  for (const [K, Ncur] of CASES) {
    const name = `curate:n=${n},K=${K},Ncur=${Ncur}`;
    k.reset();
    const pp = k.allocF64(n);
    k.write(pp, p);
    const wp = k.allocF64(m * n);
    k.write(wp, w);
    const qc = k.allocF64(m);
    k.write(qc, [Q[0], 1]);
    const t = { prob: k.allocF64(n), atom: k.allocU8(4 * n), alias: k.allocU8(4 * n) };
    const scratch = k.allocU8(8 * n);
    const cs = k.allocU8(12 * K + 16);
    const counts = k.allocF64(n);
    let gen = 0;
    const wasmMs = await timeMs(name, () => {
      k.raw.zeroF64(counts, n);
      const nPos = k.raw.aliasBuild(pp, n, t.prob, t.atom, t.alias, scratch);
      k.raw.curateAtoms(7, gen++, 0, Ncur, nPos, t.prob, t.atom, t.alias, wp, n, qc, m, -1, K, cs, counts, 0);
      const total = k.raw.sum(counts, n);
      if (total !== Ncur) throw new Error(`${name}: counts sum to ${total}`);
      return total;
    }, { time: 1000, iterations: 5 });
    const numpyMs = numpy[name] ?? null;
    cases[name] = {
      wasmMs,
      tsMs: null,
      numpyMs,
      numpyOverWasm: numpyMs === null ? null : numpyMs / wasmMs,
      tsOverWasm: null,
      curatedPerSec: Ncur / (wasmMs / 1000),
      candidatesPerSec: (Ncur * K) / (wasmMs / 1000),
      numpyCandidatesPerSec: numpyMs === null ? null : (Ncur * K) / (numpyMs / 1000),
    };
    console.log(`${name}: wasm ${wasmMs.toFixed(2)} ms (${((Ncur * K) / wasmMs / 1000).toFixed(1)} M candidates/s), numpy ${numpyMs?.toFixed(2) ?? "-"} ms`);
  }
  return { cases, notes, meta: { n, m, q: Q, centres: CENTRES } };
}
