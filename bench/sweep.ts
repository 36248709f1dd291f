// Sweep throughput (issue 4, Performance): cells per second for small cells (n = 3001,
// T = 400, K = infinity) on 1 worker and on every core, the scaling efficiency and the per-cell
// overhead; and the table5 preset against a NumPy loop over the same grid (bench/numpy_sweep.py),
// whole process against whole process, in the same run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readRows, runSweep } from "../src/node/sweep-run.js";
import { parseSweep } from "../src/sweep/spec.js";

export interface SweepSuiteOutput {
  cases: Record<string, Record<string, number | string | null>>;
  notes: string[];
  meta: Record<string, unknown>;
}

const root = fileURLToPath(new URL(import.meta.url.includes("/dist/") ? "../../" : "../", import.meta.url));

function smallCells(cells: number) {
  return parseSweep({
    name: "bench-small",
    base: {
      space: { kind: "grid1d", min: -12, max: 12, cells: 3001 },
      initial: { kind: "uniform" },
      groups: [
        { weight: 0.5, reward: { kind: "quadratic", center: -1, scale: 1 } },
        { weight: 0.5, reward: { kind: "quadratic", center: 1, scale: 1 } },
      ],
      curation: { K: "inf", temperature: 1 },
      generations: 400,
      record: { every: 400 },
    },
    axes: { "groups[0].weight": { linspace: [0.05, 0.95, cells] } },
    derived: { "groups[1].weight": "1 - groups[0].weight" },
    keep: { final: true, metrics: ["basinMass"] },
  });
}

function wall(cmd: string, args: string[]): number | null {
  const t = performance.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (r.status !== 0) return null;
  return performance.now() - t;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The sweep suite: see the header comment. */
export async function sweepSuite(): Promise<SweepSuiteOutput> {
  const dir = mkdtempSync(join(tmpdir(), "plurisim-bench-"));
  const cores = availableParallelism();
  const cells = 48 * cores;
  const plan = smallCells(cells);
  const cases: SweepSuiteOutput["cases"] = {};
  const notes: string[] = [];
  const rates: Record<number, number> = {};
  try {
    for (const workers of [1, cores]) {
      await runSweep({ plan, out: join(dir, `warm-${workers}.jsonl`), workers, overwrite: true });
      const t = performance.now();
      const r = await runSweep({ plan, out: join(dir, `w${workers}.jsonl`), workers, overwrite: true });
      const ms = performance.now() - t;
      const rows = await readRows(join(dir, `w${workers}.jsonl`));
      if (r.counts.ok !== cells || rows.some((x) => !(x.final?.basinMass?.[0]! > 0))) throw new Error("bench sweep produced a bad row");
      const cellMs = rows.reduce((s, x) => s + x.durationMs, 0) / rows.length;
      rates[workers] = cells / (ms / 1000);
      cases[`sweep:n=3001,T=400,K=inf,workers=${workers}`] = {
        cells,
        wallMs: ms,
        cellsPerSecond: rates[workers],
        cellComputeMs: cellMs,
        // Wall time per cell per worker beyond the engine's own time for the cell: pool, messaging, JSON, disk.
        overheadMsPerCell: (ms * workers) / cells - cellMs,
      };
    }
    cases[`sweep:scaling,workers=${cores}`] = { efficiency: rates[cores] / (rates[1] * cores), target: 0.9 };

    const runs = 3;
    const node = [] as number[];
    const py = [] as number[];
    const out = join(dir, "t5.jsonl");
    for (let k = 0; k < runs; k++) {
      const a = wall(process.execPath, ["bin/plurisim.js", "sweep", "table5", "--out", out, "--overwrite", "--no-summary", "--no-progress"]);
      if (a !== null) node.push(a);
      const b = wall("python3", ["bench/numpy_sweep.py"]);
      if (b !== null) py.push(b);
    }
    if (node.length === 0) notes.push("table5: `node bin/plurisim.js sweep table5` failed (is dist/ built?)");
    if (py.length === 0) notes.push("table5: python3 with numpy not available; NumPy baseline skipped");
    cases["table5:whole-process"] = {
      plurisimMs: node.length ? median(node) : null,
      numpyMs: py.length ? median(py) : null,
      numpyOverPlurisim: node.length && py.length ? median(py) / median(node) : null,
      target: 10,
    };
    notes.push("table5: median of 3 whole-process runs each (node bin/plurisim.js sweep table5 on all cores vs python3 bench/numpy_sweep.py)");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { cases, notes, meta: { cores, node: process.version } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await sweepSuite();
  console.log(JSON.stringify(out, null, 2));
}
