// Node's renderer for the chart specs of src/core/charts.ts: vega headless (renderer "none")
// writes SVG, @resvg/resvg-js turns it into PNG with the system fonts. Also the `plot` and
// `report` commands of the CLI.
import { statSync } from "node:fs";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import {
  distributionSpec,
  metricsSpec,
  phaseDiagramSpec,
  resultSeries,
  groupNamesOf,
  runFigureSpec,
  type ChartSpec,
  type Geometry,
  type SweepRow,
} from "../core/charts.js";
import { compileScenario } from "../core/compile.js";
import { PlurisimError } from "../core/errors.js";
import { parseScenario } from "../core/scenario.js";
import type { RunResult } from "../core/types.js";
import { writeFileAtomic } from "./files.js";

/** A plot input: one run's result object, or the rows of a sweep. */
export type PlotInput = { kind: "run"; path: string; result: RunResult } | { kind: "sweep"; path: string; rows: SweepRow[] };

/** JSON.parse that restores the "Infinity" / "-Infinity" / "NaN" strings toJson writes for non-finite numbers. */
function parseJson(text: string): unknown {
  return JSON.parse(text, (_k, v) => (v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : v === "NaN" ? NaN : v));
}

/** Reads a result.json (what `plurisim run --json` writes) or a sweep .jsonl (one row per line). */
export async function readPlotInput(path: string): Promise<PlotInput> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new PlurisimError("INVALID_SCENARIO", `cannot read ${path}: ${(err as Error).message}`, { field: "input", value: path });
  }
  const trimmed = text.trim();
  const lines = trimmed.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (path.endsWith(".jsonl") || (lines.length > 1 && lines.every((l) => l.trimStart().startsWith("{")) && !trimmed.startsWith("{\n"))) {
    const rows: SweepRow[] = [];
    lines.forEach((line, i) => {
      let row: unknown;
      try {
        row = parseJson(line);
      } catch (err) {
        throw new PlurisimError("INVALID_SCENARIO", `${path} line ${i + 1} is not valid JSON: ${(err as Error).message}`, { field: "input", value: path });
      }
      if (row && typeof row === "object" && "cell" in row && "params" in row) rows.push(row as SweepRow);
    });
    if (rows.length === 0) throw new PlurisimError("INVALID_SCENARIO", `${path} has no sweep rows (lines with "cell" and "params")`, { field: "input", value: path });
    return { kind: "sweep", path, rows };
  }
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (err) {
    throw new PlurisimError("INVALID_SCENARIO", `${path} is not valid JSON: ${(err as Error).message}`, { field: "input", value: path });
  }
  if (!value || typeof value !== "object" || !Array.isArray((value as RunResult).trajectory) || !(value as RunResult).final) {
    throw new PlurisimError("INVALID_SCENARIO", `${path} is not a run result (no "trajectory" and "final"); write one with \`plurisim run <scenario> --json --out result.json\``, {
      field: "input",
      value: path,
    });
  }
  return { kind: "run", path, result: value as RunResult };
}

/** Atom geometry and p_0 of a result, from its echoed scenario (abstract atoms when it has none). */
export function geometryOfResult(result: RunResult): { geometry: Geometry; p0?: Float64Array } {
  try {
    const problem = compileScenario(parseScenario(result.scenario));
    return { geometry: problem, p0: problem.p0 };
  } catch {
    const n = result.final.p?.length ?? result.nash?.p.length ?? 0;
    return { geometry: { n, dim: 0, coords: new Float64Array(0), cellWidth: null, gridShape: null } };
  }
}

export type ChartName = "all" | "distribution" | "metrics" | "phase";

export interface PlotOptions {
  chart?: ChartName;
  /** Sweep phase diagram: parameter path on the x axis, on the y axis, and the final metric. */
  x?: string;
  y?: string;
  metric?: string;
  title?: string;
}

/** The chart spec of an input: a run's figure (or one of its parts), or a sweep's phase diagram. */
export function specFor(input: PlotInput, options: PlotOptions = {}): ChartSpec {
  if (input.kind === "sweep") return phaseDiagramSpec(input.rows, { x: options.x, y: options.y, metric: options.metric, title: options.title });
  const { result } = input;
  const { geometry, p0 } = geometryOfResult(result);
  const chart = options.chart ?? "all";
  if (chart === "distribution") {
    const series = resultSeries(result, p0);
    if (series.length === 0 && !result.nash) {
      throw new PlurisimError("INVALID_SCENARIO", `${input.path} has no distribution: run with --final (and --nash for the overlay)`, { field: "chart", value: chart });
    }
    return distributionSpec(geometry, series, result.nash?.p, options.title);
  }
  if (chart === "metrics") return metricsSpec(result.trajectory, groupNamesOf(result), result.nash, options.title);
  if (chart === "phase") throw new PlurisimError("INVALID_SCENARIO", `--chart phase needs a sweep .jsonl, and ${input.path} is a run result`, { field: "chart", value: chart });
  return runFigureSpec(result, geometry, p0, options.title);
}

/** SVG text of a Vega-Lite spec, rendered headless. */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  // vega is loaded on first use: the CLI's other commands start without its hundreds of modules.
  const [vega, { compile }] = await Promise.all([import("vega"), import("vega-lite")]);
  const view = new vega.View(vega.parse(compile(spec as never).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG bytes of an SVG, drawn by resvg with the system fonts (DejaVu Sans on Debian) on white. */
export async function renderPng(svg: string, scale = 2): Promise<Buffer> {
  const { Resvg } = await import("@resvg/resvg-js");
  const resvg = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
  });
  return resvg.render().asPng();
}

/**
 * Checks an output path before any rendering: its extension is one of `extensions`
 * (INVALID_SCENARIO otherwise) and its directory exists (FILE otherwise), both with field "out".
 */
export function checkOutPath(out: string, extensions: string[]): void {
  const lower = out.toLowerCase();
  if (!extensions.some((e) => lower.endsWith(e))) {
    const list = extensions.length === 2 ? `${extensions[0]} or ${extensions[1]}` : extensions.join(", ");
    throw new PlurisimError("INVALID_SCENARIO", `--out must end in ${list} (got ${JSON.stringify(out)})`, { field: "out", value: out });
  }
  const dir = dirname(resolve(out));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    throw new PlurisimError("FILE", `--out ${JSON.stringify(out)}: the directory ${JSON.stringify(dir)} does not exist or is not a directory (create it first)`, { field: "out", value: out });
  }
}

/** The extensions `plot --out` accepts. */
export const CHART_EXTENSIONS = [".svg", ".png"];
/** The extensions `report --out` accepts: the report is HTML whatever the name says. */
export const REPORT_EXTENSIONS = [".html", ".htm"];

/** Writes a chart spec as SVG or PNG, chosen by the file's extension. */
export async function writeChart(spec: ChartSpec, out: string): Promise<void> {
  checkOutPath(out, CHART_EXTENSIONS);
  const svg = await renderSvg(spec);
  if (out.toLowerCase().endsWith(".png")) {
    // Whole or not at all, like writeFileAtomic (which takes text).
    const tmp = `${out}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, await renderPng(svg));
      await rename(tmp, out);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  } else {
    await writeFileAtomic(out, svg);
  }
}

/** Adds `plot` and `report` to the CLI. */
export function registerPlotCommands(program: Command): void {
  program
    .command("plot")
    .description("draw a run result (result.json) or a sweep (sweep.jsonl) as SVG or PNG")
    .argument("<input>", "result.json from `plurisim run --json --out`, or a sweep's .jsonl")
    .requiredOption("--out <file>", "output figure: .svg or .png (its directory must exist)")
    .option("--chart <name>", "run results: all | distribution | metrics", "all")
    .option("--x <path>", "sweeps: parameter on the x axis (default: the first that varies)")
    .option("--y <path>", "sweeps: parameter on the y axis (default: the second that varies)")
    .option("--metric <name>", "sweeps: final metric to colour by, e.g. basinMass[0], nashGap, entropy", "basinMass[0]")
    .option("--title <text>", "figure title")
    .action(async (input: string, flags: PlotOptions & { out: string }) => {
      const chart = flags.chart ?? "all";
      if (!["all", "distribution", "metrics", "phase"].includes(chart)) {
        throw new PlurisimError("INVALID_SCENARIO", `--chart must be all, distribution, metrics or phase (got ${JSON.stringify(chart)})`, { field: "chart", value: chart });
      }
      checkOutPath(flags.out, CHART_EXTENSIONS);
      const data = await readPlotInput(input);
      await writeChart(specFor(data, flags), flags.out);
      process.stderr.write(`wrote ${flags.out}\n`);
    });
  program
    .command("report")
    .description("write a self-contained HTML report (figures inlined as SVG, metric tables) of run results and sweeps")
    .argument("<inputs...>", "result.json files and/or sweep .jsonl files")
    .requiredOption("--out <file>", "output .html or .htm (its directory must exist)")
    .option("--title <text>", "report title", "plurisim report")
    .option("--metric <name>", "sweeps: final metric of the phase diagram", "basinMass[0]")
    .action(async (inputs: string[], flags: { out: string; title: string; metric: string }) => {
      checkOutPath(flags.out, REPORT_EXTENSIONS);
      const { writeReportFromFiles } = await import("./report.js");
      await writeReportFromFiles(inputs, flags.out, { title: flags.title, metric: flags.metric });
      process.stderr.write(`wrote ${flags.out}\n`);
    });
}
