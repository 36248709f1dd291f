// Figures and Parquet at sweep scale, timed once each (end to end, as the CLI does them):
//   parse-only:rows=N       JSON.parse of every line of the rows file, nothing kept: the baseline
//   plot:rows=N,read=full   a side x side grid of rows read with JSON.parse per line, reduced, drawn as PNG
//   plot:rows=N,read=scan   the same as `plot` reads them: from line SCAN_FROM on, from their bytes (src/node/row-scan.ts)
//   plot:axis=1000          a 1,000-value axis x 3 (rect marks), SVG
//   export:rows=10000       a 10,000-row rows file to Parquet
// Each plot case runs in a child process of its own, so its peak resident memory (maxRssMiB) is its
// own and no case inherits another's heap. The rows are shaped like the runner's (full-precision
// metrics, about 800 bytes a line, as a real sweep writes them).
// Usage: node dist/bench/figures.js [rows]   (writes bench/figures.json beside this file)
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exportSweepParquet } from "../src/node/parquet.js";
import { readPlotInput } from "../src/node/plot-input.js";
import { specFor } from "../src/node/plot-spec.js";
import { writeChart } from "../src/node/render.js";
import { root } from "../src/bench/common.js";
import { writeFileAtomic } from "../src/node/files.js";

/** Writes a q x tau grid of sweep rows shaped like the runner's (final metrics of two groups, full precision). */
function writeRows(path: string, nx: number, ny: number): void {
  const fd = openSync(path, "w");
  let lines: string[] = [];
  let cell = 0;
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) {
      const q = 0.05 + (0.9 * i) / Math.max(1, nx - 1);
      const tau = 10 ** (-2 + (3 * j) / Math.max(1, ny - 1));
      const a = q ** (1 / (1 + tau));
      lines.push(
        JSON.stringify({
          cell,
          replicate: 0,
          params: { "groups[0].weight": q, "curation.tau": tau, "groups[1].weight": 1 - q },
          seed: (2654435761 * (cell + 1)) % 4294967296,
          status: "ok",
          durationMs: 3 + (cell % 97) * 0.123456789,
          final: {
            generation: 400,
            expectedReward: [-15.2 * a, -0.8 * (1 - a)],
            rewardVariance: [12.1676 + a, 12.1604 - a],
            logPartition: [-2.9969807136532842 * a, -0.05254173448684402],
            nashWelfare: -0.19976368344516604,
            nashGap: 0.0012447727035644895 * tau,
            entropy: 1.9525023813119635 + a,
            effectiveSupport: 7.04629806191867,
            basinMass: [a, 1 - a],
            outsideMass: 2.7602346561997675e-178,
            klFromInitial: 6.054198464128402,
            l1Step: 0.0012503927580788169,
            massDefect: 2.220446049250313e-16,
          },
          generationsRun: 400,
          stoppedEarly: false,
          maxMassDefect: 4.440892098500626e-16,
        }),
      );
      cell++;
      if (lines.length === 10_000) {
        writeSync(fd, lines.join("\n") + "\n");
        lines = [];
      }
    }
  }
  if (lines.length) writeSync(fd, lines.join("\n") + "\n");
  closeSync(fd);
}

/** Wall time and CPU time (user + system: on a shared machine, what the work itself cost) of one call. */
async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; cpuMs: number; value: T; rssMiB: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, value, rssMiB: process.memoryUsage().rss / 2 ** 20 };
}

/** One plot of a rows file, in this process: what the child of plotCase runs and prints. */
async function plotHere(rows: string, read: string, out: string): Promise<void> {
  const t = await timed(async () => {
    const input = await readPlotInput(rows, { finalFields: ["basinMass"], whole: false, scanFrom: read === "scan" ? undefined : Infinity });
    await writeChart(specFor(input, { x: "groups[0].weight", y: "curation.tau" }), out);
    return input.kind === "sweep" ? input.rows.length : 0;
  });
  process.stdout.write(JSON.stringify({ rows: t.value, ms: t.ms, cpuMs: t.cpuMs, maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + "\n");
}

/** Runs plotHere in a child process: its wall and CPU time and its peak resident memory. */
function plotCase(rows: string, read: "full" | "scan", out: string): { rows: number; ms: number; cpuMs: number; maxRssMiB: number } {
  const text = execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--plot", rows, read, out], { encoding: "utf8", maxBuffer: 1 << 20 });
  return JSON.parse(text.trim().split("\n").pop()!);
}

if (process.argv[2] === "--plot") {
  await plotHere(process.argv[3], process.argv[4], process.argv[5]);
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), "plurisim-bench-figures-"));
const side = Math.round(Math.sqrt(Number(process.argv[2] ?? 1_000_000)));
const results: Record<string, unknown>[] = [];
try {
  for (const n of [side, Math.min(side, 100)]) {
    const rows = join(dir, `rows-${n}.jsonl`);
    writeRows(rows, n, n);
    // Baseline in the same run: JSON.parse of every line, nothing kept (the floor of reading JSONL with JSON.parse).
    const parse = await timed(async () => {
      let count = 0;
      const { createReadStream } = await import("node:fs");
      let carry = "";
      for await (const chunk of createReadStream(rows, { encoding: "utf8", highWaterMark: 4 << 20 }) as AsyncIterable<string>) {
        const lines = (carry + chunk).split("\n");
        carry = lines.pop() ?? "";
        for (const line of lines) if (line && (JSON.parse(line) as { cell: number }).cell >= 0) count++;
      }
      return count;
    });
    results.push({ name: `parse-only:rows=${parse.value}`, ms: Math.round(parse.ms), cpuMs: Math.round(parse.cpuMs), fileMiB: Number((statSync(rows).size / 2 ** 20).toFixed(1)) });
    const png = join(dir, `rows-${n}.png`);
    const full = plotCase(rows, "full", png);
    const scan = plotCase(rows, "scan", png);
    for (const [read, r] of [["full", full], ["scan", scan]] as const) {
      results.push({
        name: `plot:rows=${r.rows},read=${read}`,
        ms: Math.round(r.ms),
        cpuMs: Math.round(r.cpuMs),
        cpuVsParseOnly: Number((r.cpuMs / parse.cpuMs).toFixed(2)),
        cpuVsFullRead: Number((r.cpuMs / full.cpuMs).toFixed(2)),
        maxRssMiB: Math.round(r.maxRssMiB),
        pngKiB: Math.round(statSync(png).size / 1024),
      });
    }
    rmSync(rows);
  }

  const axis = join(dir, "axis.jsonl");
  writeRows(axis, 1000, 3);
  const a = await timed(async () => {
    const input = await readPlotInput(axis);
    await writeChart(specFor(input, { x: "groups[0].weight", y: "curation.tau" }), join(dir, "axis.svg"));
    return statSync(join(dir, "axis.svg")).size;
  });
  results.push({ name: "plot:axis=1000,cells=3000", ms: Math.round(a.ms), cpuMs: Math.round(a.cpuMs), svgKiB: Math.round(a.value / 1024) });

  const mid = join(dir, "mid.jsonl");
  writeRows(mid, 100, 100);
  const e = await timed(() => exportSweepParquet(mid, join(dir, "mid.parquet")));
  results.push({ name: `export:rows=${e.value.rows}`, ms: Math.round(e.ms), cpuMs: Math.round(e.cpuMs), parquetKiB: Math.round(statSync(join(dir, "mid.parquet")).size / 1024), jsonlKiB: Math.round(statSync(mid).size / 1024) });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
for (const r of results) console.log(JSON.stringify(r));
// The machine is shared: its load average beside the numbers says how much the wall times are worth.
await writeFileAtomic(join(root, "bench", "figures.json"), JSON.stringify({ date: new Date().toISOString(), loadAverage: loadavg().map((l) => Number(l.toFixed(2))), results }, null, 2) + "\n");
