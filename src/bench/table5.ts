// A large Table-5 sweep (docs/model.md, section 5): the table5 preset with q on a fine grid,
// 20,000 cells (n = 3001, 400 generations, K = infinity), cells per second with one worker and
// with every core, against the NumPy loop of src/bench/baselines/numpy_sweep.py on a slice of the
// same grid (cells are independent and cost the same, so its rate carries over).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { TABLE5_D, sweepPresets } from "../sweep/presets.js";
import { parseSweep } from "../sweep/spec.js";
import { runSweep } from "../node/sweep-run.js";
import { baselinesDir } from "./common.js";
import type { SuiteResult } from "./runner.js";

/** Runs the large Table-5 sweep; `quick` runs 400 cells and a 20-cell NumPy slice. */
export async function table5Suite(opts: { quick?: boolean } = {}): Promise<SuiteResult> {
  const quick = opts.quick ?? false;
  const perD = quick ? 100 : 5000;
  const numpyPerD = quick ? 5 : 50;
  const cells = perD * TABLE5_D.length;
  const notes: string[] = [];
  const cases: Record<string, Record<string, number | null>> = {};
  const preset = sweepPresets.table5.sweep;
  const plan = parseSweep({ ...preset, name: "bench-table5", axes: { "groups[0].weight": { linspace: [0.1, 0.9, perD] } } });

  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const py = spawnSync("python3", [`${baselinesDir}numpy_sweep.py`, "--q", String(numpyPerD)], { env, encoding: "utf8" });
  let numpyRate: number | null = null;
  if (py.status === 0) {
    const out = JSON.parse(py.stdout) as { cells: number; loopSeconds: number };
    numpyRate = out.cells / out.loopSeconds;
    notes.push(`table5: NumPy (one BLAS thread) timed on ${out.cells} cells of the same grid`);
  } else {
    notes.push(`table5: NumPy baseline skipped (${py.error ? "no python3" : (py.stderr || "").trim().split("\n").pop()})`);
  }

  const dir = mkdtempSync(join(tmpdir(), "plurisim-bench-t5-"));
  try {
    const cores = availableParallelism();
    // Rounds of 1 worker then all, interleaved, and the median of each: on a shared virtual
    // machine one pair of runs can differ by a fifth from the next.
    const rounds = quick ? 1 : 3;
    const seconds = new Map<number, number[]>();
    for (let round = 0; round < rounds; round++) {
      for (const workers of [...new Set([1, cores])]) {
        const t = performance.now();
        const r = await runSweep({ plan, out: join(dir, `w${workers}.jsonl`), workers, overwrite: true });
        if (r.counts.ok !== cells) throw new Error(`table5 bench: ${r.counts.ok} of ${cells} cells ran`);
        seconds.set(workers, [...(seconds.get(workers) ?? []), (performance.now() - t) / 1000]);
      }
    }
    for (const [workers, times] of seconds) {
      const s = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
      const rate = cells / s;
      cases[`table5:cells=${cells},workers=${workers}`] = {
        cells,
        wallMs: s * 1000,
        cellsPerSecond: rate,
        numpyCellsPerSecond: numpyRate,
        overNumpy: numpyRate === null ? null : rate / numpyRate,
        runs: times.length,
      };
    }
    notes.push(`table5: plurisim wall time includes starting the worker pool and writing the result rows; median of ${quick ? 1 : 3} interleaved runs per worker count`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { cases, notes };
}
