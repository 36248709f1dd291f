// What the benchmark suites share: one timed case through tinybench, and running a NumPy
// baseline script in a child process with one BLAS thread (the Wasm kernels run on one core).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Bench } from "tinybench";
import { twoWells } from "../core/presets.js";
import { parseSweep, type SweepPlan } from "../sweep/spec.js";

/** The package root, from src/bench/ (tsx) or dist/src/bench/ (compiled, also in the installed package). */
export const root = fileURLToPath(new URL(import.meta.url.includes("/dist/") ? "../../../" : "../../", import.meta.url));

/** The shipped baseline sources (NumPy scripts, the C step), read from src/ which the package includes. */
export const baselinesDir = `${root}src/bench/baselines/`;

/**
 * The "small cells" of the sweep benchmark: n = 3001, 400 generations, K = infinity, wells at
 * -1 and +1, q swept over `cells` values (recorded only at the end, basin masses kept).
 */
export function smallCellsSweep(name: string, cells: number): SweepPlan {
  return parseSweep({
    name,
    base: twoWells([-1, 1], 0.5, { record: { every: 400 } }),
    axes: { "groups[0].weight": { linspace: [0.05, 0.95, cells] } },
    derived: { "groups[1].weight": "1 - groups[0].weight" },
    keep: { final: true, metrics: ["basinMass"] },
  });
}

/** Mean milliseconds per call of `fn`; its result is checked inside the timed loop so nothing is optimised away. */
export async function timeMs(name: string, fn: () => number, opts: { time?: number; iterations?: number } = {}): Promise<number> {
  const bench = new Bench({ name, time: opts.time ?? 400, iterations: opts.iterations ?? 10, warmupIterations: 2, warmupTime: 50 });
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

/**
 * Runs src/bench/baselines/<script> (or the dev-only bench/<script>) with python3 and a JSON config argument; returns the numbers it prints
 * (seconds) as milliseconds, or {} with a note when python3 or NumPy is missing. Unsets
 * OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE in that child only (they slow a current NumPy).
 */
export function runNumpy(script: string, config: unknown, notes: string[]): Record<string, number> {
  const path = [`${baselinesDir}${script}`, `${root}bench/${script}`].find((p) => existsSync(p));
  if (!path) {
    notes.push(`${script} not found: NumPy skipped`);
    return {};
  }
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const run = spawnSync("python3", [path, JSON.stringify(config)], { env, encoding: "utf8", maxBuffer: 1 << 24 });
  if (run.status !== 0) {
    notes.push(`${script} failed: ${(run.stderr || run.error?.message || "").trim().slice(0, 300)}`);
    return {};
  }
  const out = JSON.parse(run.stdout) as Record<string, unknown>;
  if (typeof out.skipped === "string") {
    notes.push(`NumPy skipped: ${out.skipped}`);
    console.log(`note: NumPy skipped (${out.skipped})`);
    return {};
  }
  const ms: Record<string, number> = {};
  for (const [k, v] of Object.entries(out)) {
    if (typeof v === "number") ms[k] = v * 1000;
    else notes.push(`numpy ${k}: ${JSON.stringify(v)}`);
  }
  return ms;
}
