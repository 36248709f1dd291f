// Figures and Parquet at sweep scale, timed once each (end to end, as the CLI does them):
//   parse-only         JSON.parse of every line of that file, the baseline
//   plot:rows=1000000  a 1000 x 1000 grid of rows read from JSONL, reduced, drawn as PNG
//   plot:axis=1000     a 1,000-value axis x 3 (rect marks), SVG
//   export:rows=10000  a 10,000-row rows file to Parquet
// Usage: node dist/bench/figures.js [rows]   (writes bench/figures.json beside this file)
import { mkdtempSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportSweepParquet } from "../src/node/parquet.js";
import { readPlotInput } from "../src/node/plot-input.js";
import { specFor } from "../src/node/plot.js";
import { writeChart } from "../src/node/render.js";
import { root } from "../src/bench/common.js";

/** Writes a q x tau grid of sweep rows shaped like the runner's (final metrics of two groups). */
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
          seed: 12345 + cell,
          status: "ok",
          final: { generation: 400, expectedReward: [-0.1, -0.2], rewardVariance: [0.01, 0.02], logPartition: [0, 0], basinMass: [a, 1 - a], nashWelfare: -0.5, nashGap: 1e-6 * tau, entropy: 2.1, effectiveSupport: 8.2, outsideMass: 1e-9, klFromInitial: 1.2, l1Step: 1e-12, massDefect: 1e-16 },
          generationsRun: 400,
          stoppedEarly: false,
          maxMassDefect: 2e-16,
          durationMs: 3.2,
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

const dir = mkdtempSync(join(tmpdir(), "plurisim-bench-figures-"));
const side = Math.round(Math.sqrt(Number(process.argv[2] ?? 1_000_000)));
const results: Record<string, unknown>[] = [];
try {
  const big = join(dir, "big.jsonl");
  writeRows(big, side, side);
  // Baseline in the same run: JSON.parse of every line, nothing kept (the floor of reading JSONL).
  const parse = await timed(async () => {
    let n = 0;
    const { createReadStream } = await import("node:fs");
    let carry = "";
    for await (const chunk of createReadStream(big, { encoding: "utf8", highWaterMark: 4 << 20 }) as AsyncIterable<string>) {
      const lines = (carry + chunk).split("\n");
      carry = lines.pop() ?? "";
      for (const line of lines) if (line && (JSON.parse(line) as { cell: number }).cell >= 0) n++;
    }
    return n;
  });
  results.push({ name: `parse-only:rows=${parse.value}`, ms: Math.round(parse.ms), cpuMs: Math.round(parse.cpuMs) });
  const plot = await timed(async () => {
    const input = await readPlotInput(big, { finalFields: ["basinMass"], whole: false });
    await writeChart(specFor(input, { x: "groups[0].weight", y: "curation.tau" }), join(dir, "big.png"));
    return input.kind === "sweep" ? input.rows.length : 0;
  });
  results.push({ name: `plot:rows=${plot.value}`, ms: Math.round(plot.ms), cpuMs: Math.round(plot.cpuMs), cpuVsParseOnly: Number((plot.cpuMs / parse.cpuMs).toFixed(2)), rssMiB: Math.round(plot.rssMiB), fileMiB: Math.round(statSync(big).size / 2 ** 20), pngKiB: Math.round(statSync(join(dir, "big.png")).size / 1024) });

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
writeFileSync(join(root, "bench", "figures.json"), JSON.stringify({ date: new Date().toISOString(), results }, null, 2) + "\n");
