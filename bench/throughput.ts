// Throughput suite: what each speed-up buys, as ratios measured in the same run.
// - table5 cells (n = 3001, T = 400, K = infinity, the 36 cells of bench/numpy_sweep.py) on one
//   engine, zero blocks skipped and dense, against the NumPy loop over the same cells;
// - one exact finite-K step on the same grid against NumPy's vectorised trapezoid;
// - n = 1e6, m = 2: two generations per memory pass against one, and both against NumPy;
//   n = 1e6, m = 8 (dense weights) against NumPy;
// - the per-cell overhead of a sweep (everything but the generations) and its parts;
// - a cold `plurisim sweep` of two cells, whole process, beside a bare `node -e ""`.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileScenario, type Compiled } from "../src/core/compile.js";
import { twelveAtoms, twoWells } from "../src/core/presets.js";
import { parseScenario } from "../src/core/scenario.js";
import { createEngine } from "../src/node/index.js";
import { cellAt, parsedCellAt, parseSweep } from "../src/sweep/spec.js";
import { runCell } from "../src/sweep/task.js";
import { baselinesDir, root, runNumpy, timeMs } from "../src/bench/common.js";
import { chunkedFiniteK, chunkedWasmPath } from "../src/bench/finitek-baseline.js";
import { twins } from "../src/core/twins.js";

export interface ThroughputSuiteOutput {
  cases: Record<string, Record<string, number | string | null>>;
  notes: string[];
  meta: Record<string, unknown>;
}

const wall = (cmd: string, args: string[]): number | null => {
  const t = performance.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  return r.status === 0 ? performance.now() - t : null;
};
const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : null);
const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? a / b : null);

/** The 36 cells of bench/numpy_sweep.py: D in {1, 2, 3, 5}, q = 0.1..0.9, atoms at cell centres. */
function table5Cells(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const D of [1, 2, 3, 5]) {
    for (let k = 1; k <= 9; k++) out.push(twoWells([-D / 2, D / 2], k / 10, { record: { every: 400 } }));
  }
  return out;
}

/** Runs the suite. */
export async function throughputSuite(): Promise<ThroughputSuiteOutput> {
  const notes: string[] = [
    "the machine is shared (2 cores, several agents): absolute times are noisy, ratios within one run less so",
  ];
  const cases: ThroughputSuiteOutput["cases"] = {};
  const engine = await createEngine();

  // Table 5 cells: whole cells through engine.run (parse, cached compile, generations, final metrics).
  const cells = table5Cells();
  const runAll = (zeroBlocks: boolean) => {
    let s = 0;
    for (const c of cells) s += engine.run(c, { trajectory: false, zeroBlocks }).final.basinMass[0];
    return s;
  };
  const skipMs = await timeMs("table5 36 cells, zero blocks skipped", () => runAll(true), { time: 3000, iterations: 5 });
  const denseMs = await timeMs("table5 36 cells, dense", () => runAll(false), { time: 3000, iterations: 5 });
  // The NumPy loop's own time for the 36 cells (weights hoisted, in-place ops), and its whole process.
  let numpyLoopMs: number | null = null;
  let numpyTable5: number | null = null;
  {
    const t = performance.now();
    const r = spawnSync("python3", [`${baselinesDir}numpy_sweep.py`], { cwd: root, encoding: "utf8", env: { ...process.env, OPENBLAS_NUM_THREADS: "1" } });
    if (r.status === 0) {
      numpyTable5 = performance.now() - t;
      numpyLoopMs = JSON.parse(r.stdout).loopSeconds * 1000;
    } else notes.push("table5: python3 with numpy not available; NumPy baseline skipped");
  }
  cases["table5:36 cells,n=3001,T=400,K=inf,one core"] = {
    zeroBlocksMs: skipMs,
    denseMs,
    denseOverZeroBlocks: denseMs / skipMs,
    cellsPerSecond: 36 / (skipMs / 1000),
    numpyLoopMs,
    numpyOverPlurisim: ratio(numpyLoopMs, skipMs),
    numpyOverDense: ratio(numpyLoopMs, denseMs),
    numpyWholeProcessMs: numpyTable5,
    target: 8,
  };

  // Finite K and n = 1e6 against NumPy (bench/numpy_baseline.py, one BLAS thread).
  const base = runNumpy("numpy_baseline.py", { kinf: [[1e6, 2], [1e6, 8]], finitek: { n: 3001, K: 4, centres: [-1, 1], q: [0.5, 0.5] } }, notes);
  {
    const n = 3001;
    const xs = Array.from({ length: n }, (_, x) => -12 + (24 * x) / (n - 1));
    const w = new Float64Array(2 * n);
    [-1, 1].forEach((c, i) => xs.forEach((x, k) => (w[i * n + k] = Math.exp(-((x - c) ** 2)))));
    const p = new Float64Array(n).fill(1 / n);
    const q = new Float64Array([0.5, 0.5]);
    const { instantiateKernels } = await import("../src/core/kernels.js");
    const { loadWasmBytes } = await import("../src/node/wasm.js");
    const kern = await instantiateKernels(new WebAssembly.Module((await loadWasmBytes()) as Uint8Array<ArrayBuffer>));
    const wp = kern.allocF64(2 * n);
    kern.write(wp, w);
    const pp = kern.allocF64(n);
    kern.write(pp, p);
    const qp = kern.allocF64(2);
    kern.write(qp, q);
    const op = kern.allocF64(n);
    const sp = kern.allocU8(kern.raw.finiteKScratchBytes(n, 2));
    const ms = await timeMs("finitek step", () => kern.raw.finiteKStep(pp, op, wp, n, 2, qp, 4, 0, 0, sp, 0, 0, 0), { time: 1500, iterations: 20 });
    const numpyMs = base["finitek:n=3001,K=4,m=2"] ?? null;
    cases["finitek:n=3001,K=4,m=2,one step"] = { wasmMs: ms, numpyMs, numpyOverWasm: ratio(numpyMs, ms) };
    const kphase = parseScenario(twoWells([-1, 1], 0.5, { curation: { K: 4, temperature: 1 }, generations: 20, record: { every: 20 } }));
    const kp = compileScenario(kphase);
    const runMs = await timeMs("finitek 20 generations", () => engine.runProblem(kp, { trajectory: false }).final.nashWelfare, { time: 1500, iterations: 5 });
    // The same 20 generations through the chunked kernel this one replaced, in this process.
    const chunked = await chunkedFiniteK(kp.p0, twins.computeWeightsArrays(kp.r, n, 2, kp.tau).w, kp.q, 4);
    let beforeMs: number | null = null;
    let maxRelP: number | null = null;
    if (chunked) {
      beforeMs = await timeMs("finitek 20 generations, chunked kernel", () => chunked.run(20), { time: 1500, iterations: 3 });
      const ours = engine.runProblem(kp, { trajectory: false, final: true }).final.p as number[];
      const theirs = chunked.p();
      maxRelP = 0;
      for (let x = 0; x < n; x++) if (theirs[x] > 1e-300) maxRelP = Math.max(maxRelP, Math.abs(ours[x] - theirs[x]) / theirs[x]);
    } else notes.push(`finite K: ${chunkedWasmPath} not built (npm run build): the chunked kernel's run skipped`);
    cases["finitek:n=3001,K=4,m=2,20 generations (engine)"] = {
      ms: runMs,
      msPerGeneration: runMs / 20,
      chunkedMsPerGeneration: beforeMs === null ? null : beforeMs / 20,
      chunkedOverEngine: ratio(beforeMs, runMs),
      maxRelP,
      target: 10,
    };
    console.log(`finite K, 20 generations: ${(runMs / 20).toFixed(3)} ms/generation, the chunked kernel ${beforeMs === null ? "-" : (beforeMs / 20).toFixed(3)} ms (${ratio(beforeMs, runMs)?.toFixed(1) ?? "-"}x), p_20 agrees to ${maxRelP?.toExponential(1) ?? "-"} relative`);
  }
  // One cell of the k-phase preset (12 atoms, K = 4, q = 1/2, 2000 generations), the same way.
  {
    const cell = compileScenario(parseScenario(twelveAtoms(4, { record: { every: 2000 } })));
    const runMs = await timeMs("k-phase cell", () => engine.runProblem(cell, { trajectory: false }).final.nashWelfare, { time: 1500, iterations: 5 });
    const chunked = await chunkedFiniteK(cell.p0, twins.computeWeightsArrays(cell.r, cell.n, cell.m, cell.tau).w, cell.q, 4);
    const beforeMs = chunked ? await timeMs("k-phase cell, chunked kernel", () => chunked.run(2000), { time: 1500, iterations: 3 }) : null;
    cases["finitek:k-phase cell,n=12,K=4,2000 generations (engine)"] = { ms: runMs, usPerGeneration: runMs / 2, chunkedUsPerGeneration: beforeMs === null ? null : beforeMs / 2, chunkedOverEngine: ratio(beforeMs, runMs) };
    console.log(`k-phase cell: ${(runMs / 2).toFixed(2)} us/generation, the chunked kernel ${beforeMs === null ? "-" : (beforeMs / 2).toFixed(2)} us (${ratio(beforeMs, runMs)?.toFixed(1) ?? "-"}x)`);
  }
  for (const m of [2, 8]) {
    const T = 40;
    const centres = m === 2 ? [-1, 1] : Array.from({ length: m }, (_, i) => -3 + (6 * i) / (m - 1));
    const s = parseScenario({
      space: { kind: "grid1d", min: -12, max: 12, cells: 1_000_000 },
      groups: centres.map((c) => ({ weight: 1 / m, reward: { kind: "quadratic", center: c, scale: 0.02 } })),
      curation: { K: "inf", temperature: 1 },
      generations: T,
      record: { every: T },
    });
    const prob = compileScenario(s);
    const one = await timeMs(`n=1e6 m=${m} one per pass`, () => engine.runProblem(prob, { trajectory: false, twoStep: false }).final.nashWelfare, { time: 3000, iterations: 3 });
    const two = m === 2 ? await timeMs(`n=1e6 m=${m} two per pass`, () => engine.runProblem(prob, { trajectory: false }).final.nashWelfare, { time: 3000, iterations: 3 }) : null;
    const perStep = base[`kinf:n=1000000,m=${m}`] ?? null;
    const numpyMs = perStep === null ? null : perStep * T;
    cases[`kinf:n=1e6,m=${m},T=${T},dense weights (engine)`] = {
      onePerPassMs: one,
      twoPerPassMs: two,
      onePerPassOverTwo: ratio(one, two),
      numpyMs,
      numpyOverPlurisim: ratio(numpyMs, two ?? one),
      target: m === 2 ? 3 : 1.5,
    };
  }
  notes.push("n = 1e6: NumPy is numpy_baseline.py's per-step time x T (one BLAS thread), plurisim the engine's whole run (weights, metrics at the end)");

  // Per-cell overhead of a sweep: a cell with no generations is all overhead.
  {
    const plan = (T: number) =>
      parseSweep({
        name: "overhead",
        base: twoWells([-1, 1], 0.5, { generations: T, record: { every: Math.max(T, 1) } }),
        axes: { "groups[0].weight": { linspace: [0.05, 0.95, 600] } },
        derived: { "groups[1].weight": "1 - groups[0].weight" },
        keep: { final: true, metrics: ["basinMass"] },
      });
    const p0 = plan(0);
    const p400 = plan(400);
    let i = 0;
    const cellMs = await timeMs("cell T=0", () => runCell(engine, p0, i++ % 600).row.durationMs + 1, { time: 1500, iterations: 200 });
    // A cell's validated scenario as a sweep builds it (the base's shape and each value checked
    // once, the checks across fields per cell), and the full build and parse it replaces.
    const parsedCellMs = await timeMs("parsedCellAt", () => parsedCellAt(p0, i++ % 600)!.seed + 1, { time: 800, iterations: 200 });
    const cellAtMs = await timeMs("cellAt", () => cellAt(p0, i++ % 600).seed + 1, { time: 800, iterations: 200 });
    const parseMs = await timeMs("parseScenario", () => parseScenario(cellAt(p0, i++ % 600).scenario).generations + 1, { time: 800, iterations: 200 }) - cellAtMs;
    const cell400Ms = await timeMs("cell T=400", () => runCell(engine, p400, i++ % 600).row.durationMs + 1, { time: 2000, iterations: 100 });
    // The same cells' generations and final metrics alone (compiled once, set-up resident): each
    // compiled from the one before, as the engine's cache does, so they share the reward arrays
    // and a run does not lay out the weights again.
    let prev: Compiled | undefined;
    const compiled = Array.from({ length: 600 }, (_, c) => {
      const scenario = parseScenario(cellAt(p400, c).scenario);
      prev = { scenario, problem: compileScenario(scenario, prev) };
      return prev.problem;
    });
    const run400Ms = await timeMs("runProblem T=400", () => engine.runProblem(compiled[i++ % 600], { trajectory: false }).final.basinMass[0] + 1, { time: 2000, iterations: 100 });
    // The difference of two means taken seconds apart is at the mercy of the machine's drift
    // (10-30% on a shared virtual machine): the overhead itself is the median, over rounds, of a
    // round's 20 cells minus the same 20 cells' engine runs, timed back to back.
    const rounds: number[] = [];
    for (let round = 0; round < 40; round++) {
      const first = (round * 20) % 600;
      let t = performance.now();
      for (let c = first; c < first + 20; c++) runCell(engine, p400, c);
      const cells = performance.now() - t;
      t = performance.now();
      for (let c = first; c < first + 20; c++) engine.runProblem(compiled[c], { trajectory: false });
      rounds.push((cells - (performance.now() - t)) / 20);
    }
    rounds.sort((a, b) => a - b);
    const overheadMs = rounds[rounds.length >> 1];
    cases["sweep cell overhead:n=3001"] = {
      cellT400Ms: cell400Ms,
      runProblemT400Ms: run400Ms,
      overheadMs,
      parsedCellAtMs: parsedCellMs,
      cellAtMs,
      parseScenarioMs: parseMs,
      cellT0Ms: cellMs,
      target: 0.05,
    };
    notes.push(
      "cell overhead = a sweep cell (T = 400) minus the engine's run of the same compiled problem (median over 40 rounds of 20 cells each way, back to back): cell expansion and validation (parsedCellAtMs), cached compile, row; cellAtMs + parseScenarioMs is the full build and parse a cell falls back to; cellT0Ms is a cell with no generations (adds the metrics of the dense p0)",
    );
  }

  // Cold sweep of two cells, whole process.
  {
    const dir = mkdtempSync(join(tmpdir(), "plurisim-cold-"));
    try {
      const file = join(dir, "two.json");
      writeFileSync(file, JSON.stringify({ name: "two", base: twoWells([-1, 1], 0.3), axes: { seed: [1, 2] }, keep: { final: true, metrics: ["basinMass"] } }));
      const args = ["bin/plurisim.js", "sweep", file, "--out", join(dir, "two.jsonl"), "--overwrite", "--no-progress", "--no-summary"];
      const t = { pool: [] as number[], main: [] as number[], node: [] as number[] };
      for (let k = 0; k < 3; k++) {
        const a = wall(process.execPath, args);
        if (a !== null) t.pool.push(a);
        const b = wall(process.execPath, [...args, "--workers", "0"]);
        if (b !== null) t.main.push(b);
        const c = wall(process.execPath, ["-e", ""]);
        if (c !== null) t.node.push(c);
      }
      cases["cold sweep:2 cells,whole process"] = { defaultWorkersMs: median(t.pool), mainThreadMs: median(t.main), bareNodeMs: median(t.node), target: 500 };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { cases, notes, meta: { node: process.version } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(JSON.stringify(await throughputSuite(), null, 2));
}
