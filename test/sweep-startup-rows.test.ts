// A sweep run without --workers starts fast: its main thread runs cells at once and threads join
// only when the cells left are worth their start-up (src/node/pool.ts, createStartFastPool). The
// rows are those of --workers 0 and --workers 2 whatever ran where: a two-cell sweep through the
// CLI (which starts no thread), a start-fast pool made to start its threads after two cells, and
// one whose first cell looks heavy (a fitted model), which sends every cell to threads.
// Needs dist/ (npm run build): the CLI and the worker threads run the compiled code.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEngine, loadWasmSource } from "../src/node/index.js";
import { cellWork, createStartFastPool, MAIN_THREAD_WORK } from "../src/node/pool.js";
import { sweepPaths } from "../src/node/sweep-run.js";
import { parseSweep } from "../src/sweep/index.js";
import { runBatch, runBatchLines, type CellResult } from "../src/sweep/task.js";
import { runCli } from "./helpers.js";

const dir = resolve("test", "artifacts", `sweep-startup-${process.pid}`);
beforeAll(() => mkdirSync(dir, { recursive: true }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[]) => runCli(args, { timeout: 60_000 });
const withoutTiming = (text: string) => text.replace(/"durationMs":[0-9.e+-]+,?/g, "");
const rowsOf = (results: CellResult[]) => results.map(({ row: { durationMs, ...rest }, trajectory }) => ({ row: rest, trajectory }));

const two = {
  name: "two",
  base: "two-groups",
  axes: { "groups[0].weight": [0.3, 0.4] },
  derived: { "groups[1].weight": "1 - groups[0].weight" },
  keep: { final: true },
};

describe("a sweep without --workers", () => {
  it("two small cells: the default, --workers 0 and --workers 2 write the same rows; the default starts no thread", () => {
    const file = join(dir, "two.json");
    writeFileSync(file, JSON.stringify(two));
    const rows: Record<string, string> = {};
    const threads: Record<string, number> = {};
    for (const [name, flags] of [["default", []], ["w0", ["--workers", "0"]], ["w2", ["--workers", "2"]]] as const) {
      const out = join(dir, `two-${name}.jsonl`);
      const r = cli(["sweep", file, "--out", out, "--no-progress", "--no-summary", ...flags]);
      expect(r.code, r.stderr).toBe(0);
      rows[name] = withoutTiming(readFileSync(out, "utf8"));
      threads[name] = JSON.parse(readFileSync(sweepPaths(out).manifest, "utf8")).runs[0].workers;
    }
    expect(rows.default.split("\n").length).toBe(3);
    expect(rows.default).toBe(rows.w0);
    expect(rows.default).toBe(rows.w2);
    expect(threads).toEqual({ default: 0, w0: 0, w2: 2 });
  });

  it("a start-fast pool that starts its threads mid-run gives the main thread's rows, in every batch", async () => {
    const plan = parseSweep({
      name: "mid-run",
      base: {
        space: { kind: "grid1d", min: -6, max: 6, cells: 301 },
        groups: [
          { weight: 0.5, reward: { kind: "quadratic", center: -1 } },
          { weight: 0.5, reward: { kind: "quadratic", center: 1 } },
        ],
        generations: 40,
      },
      axes: { "groups[0].weight": { linspace: [0.1, 0.9, 9] }, "curation.temperature": [1, 0.5, 1e-4] },
      derived: { "groups[1].weight": "1 - groups[0].weight" },
      replicates: 2,
      seed: 5,
      keep: { final: true, generations: [0, 20], trajectory: true },
    });
    const cells = [...Array(plan.total).keys()];
    const batches = Array.from({ length: Math.ceil(cells.length / 3) }, (_, k) => cells.slice(3 * k, 3 * k + 3));
    const reference = runBatch(await createEngine(), plan, cells);
    const pool = await createStartFastPool({ plan, wasm: await loadWasmSource(), cells, cores: 2, startAfterMs: 0 });
    try {
      // Two batches in flight at a time, as the sweep's dispatcher sends them; the first two on
      // the main thread, which then starts the threads; the rest once a thread is ready.
      const results: CellResult[][] = [];
      for (let k = 0; k < batches.length; k += 2) {
        if (k === 2) await pool.threadsReady;
        results.push(...(await Promise.all(batches.slice(k, k + 2).map((b) => pool.run(b)))));
      }
      expect(pool.workers).toBe(2);
      // The first batch, and the second unless the first cell (compiling the JavaScript) was slow.
      expect(pool.onMain).toBeGreaterThanOrEqual(3);
      expect(pool.onMain).toBeLessThanOrEqual(6);
      expect(rowsOf(results.flat())).toEqual(rowsOf(reference));
    } finally {
      await pool.destroy();
    }
  });

  it("once threads are ready the main thread hands them the rest of its batch (lines, failed rows and trajectories in order)", async () => {
    // One batch of 60 cells of some 10 to 40 ms each (finite K on 301 atoms), a third of them
    // error rows: far more than the main thread runs before two threads are up.
    const plan = parseSweep({
      name: "hand-over",
      base: {
        space: { kind: "grid1d", min: -6, max: 6, cells: 301 },
        groups: [
          { weight: 0.5, reward: { kind: "quadratic", center: -1 } },
          { weight: 0.5, reward: { kind: "quadratic", center: 1 } },
        ],
        curation: { K: 4 },
        generations: 400,
      },
      axes: { "groups[0].weight": { linspace: [0.1, 0.9, 20] }, "curation.temperature": [1, 0.5, 1e-4] },
      derived: { "groups[1].weight": "1 - groups[0].weight" },
      seed: 5,
      keep: { final: true, trajectory: true },
    });
    const cells = [...Array(plan.total).keys()];
    const reference = runBatchLines(await createEngine(), plan, cells);
    expect(reference.failed.length).toBeGreaterThan(0);
    const pool = await createStartFastPool({ plan, wasm: await loadWasmSource(), cells, cores: 2, startAfterMs: 0 });
    try {
      const lines = await pool.runLines!(cells);
      expect(pool.workers).toBe(2);
      expect(pool.onMain).toBeGreaterThan(0);
      expect(pool.onMain).toBeLessThan(cells.length);
      const strip = (rows: string[]) => rows.map((r) => r.replace(/"durationMs":[0-9.e+-]+/, ""));
      expect(strip(lines.rows)).toEqual(strip(reference.rows));
      expect(lines.trajectories).toEqual(reference.trajectories);
      expect(lines.failed).toEqual(reference.failed);
    } finally {
      await pool.destroy();
    }
  });

  it("a first cell that looks heavy (a fitted model) runs on threads, as every later one", async () => {
    const plan = parseSweep({
      base: {
        space: { kind: "grid1d", min: -3, max: 3, cells: 31 },
        groups: [{ weight: 1, reward: { kind: "quadratic", center: 0 } }],
        generations: 2,
        retraining: { model: "gmm", samples: 50, components: 2 },
      },
      axes: { seed: [1, 2, 3, 4] },
    });
    const cells = [0, 1, 2, 3];
    const reference = runBatch(await createEngine(), plan, cells);
    const pool = await createStartFastPool({ plan, wasm: await loadWasmSource(), cells, cores: 2 });
    try {
      const results = await Promise.all([pool.run([0, 1]), pool.run([2, 3])]);
      expect(pool.onMain).toBe(0);
      expect(pool.workers).toBe(2);
      expect(rowsOf(results.flat())).toEqual(rowsOf(reference));
    } finally {
      await pool.destroy();
    }
  });

  it("cellWork: small K = infinity cells may start on the main thread; big grids, finite K at scale and fitted models go to threads at once", () => {
    const sweep = (base: Record<string, unknown>) => parseSweep({ base, axes: { seed: [1, 2] } });
    const grid = (cells: number) => ({ kind: "grid1d", min: -3, max: 3, cells });
    const groups = [{ weight: 1, reward: { kind: "quadratic", center: 0 } }];
    expect(cellWork(parseSweep(two), 0)).toBe(3001 * 2 * 400);
    expect(cellWork(parseSweep(two), 0)).toBeLessThanOrEqual(MAIN_THREAD_WORK);
    expect(cellWork(sweep({ space: grid(100_001), groups, generations: 1000 }), 0)).toBeGreaterThan(MAIN_THREAD_WORK);
    expect(cellWork(sweep({ space: grid(3001), groups, generations: 400, curation: { K: 4 } }), 0)).toBe(3001 * 32 * 400);
    expect(cellWork(sweep({ space: grid(301), groups, generations: 40, retraining: { model: "histogram", samples: 50 } }), 0)).toBe((301 + 200) * 40);
    expect(cellWork(sweep({ space: grid(31), groups, generations: 2, retraining: { model: "gmm", samples: 50, components: 2 } }), 0)).toBe(Infinity);
  });
});
