// The `plot`, `compare`, `report` and `export` commands of the CLI. Reading inputs is
// plot-input.ts, the figure of an input is plot-spec.ts, drawing is render.ts, the figures
// themselves are src/core (charts.ts, sweep-figure.ts), the HTML is report.ts and Parquet is
// parquet.ts. Registering the commands (--help, completion) loads none of them: each loads when
// its command runs.
import { Option, type Command } from "commander";
import type { PhaseOptions } from "../core/charts.js";
import { PlurisimError } from "../core/errors.js";
import { sanitizeForTerminal } from "../core/text.js";
import { AGGREGATES, type Aggregate, type WhereClause } from "../core/sweep-figure.js";
import { checkOutPath, CHART_EXTENSIONS, REPORT_EXTENSIONS, writeChart } from "./render.js";
import type { RunResult } from "../core/types.js";

/** Figures of a run result (all, or one part) and of a sweep (heatmap, line; phase = heatmap). */
export const CHARTS = ["all", "distribution", "metrics", "landscape", "heatmap", "line", "phase"] as const;
export type ChartName = (typeof CHARTS)[number];

export interface PlotOptions extends Omit<PhaseOptions, "chart"> {
  chart?: ChartName;
  /** Distribution panel: a log mass axis. */
  logY?: boolean;
}

/** Throws the INVALID_SCENARIO of a flag or input a command cannot use; the message quotes file names and flag values, shown with control characters escaped. */
export function usage(field: string, message: string, value: unknown): never {
  throw new PlurisimError("INVALID_SCENARIO", sanitizeForTerminal(message), { field, value });
}

/** The line a command prints on stderr for the file it wrote. */
function wrote(path: string): void {
  process.stderr.write(`wrote ${sanitizeForTerminal(path)}\n`);
}

function collectWhere(value: string, previous: WhereClause[] = []): WhereClause[] {
  const eq = value.indexOf("=");
  if (eq <= 0) usage("where", `--where must be PATH=VALUE, e.g. curation.K=4 (got ${JSON.stringify(value)})`, value);
  return [...previous, { path: value.slice(0, eq), value: value.slice(eq + 1) }];
}

function parseAggregate(value: string): Aggregate {
  if (!(AGGREGATES as readonly string[]).includes(value)) usage("aggregate", `--aggregate must be one of ${AGGREGATES.join(", ")} (got ${JSON.stringify(value)})`, value);
  return value as Aggregate;
}

/** The sweep figure flags, shared by `plot` and `report`. */
function addSweepOptions(cmd: Command): Command {
  return cmd
    .option("--x <path>", "sweeps: parameter on the x axis (default: the first that varies)")
    .option("--y <path>", "sweeps: heat map parameter on the y axis (default: the second that varies)")
    .option("--series <path>", "sweeps, --chart line: one line per value of this parameter")
    .option("--facet <path>", "sweeps: one panel per value of this parameter")
    .addOption(new Option("--where <path=value>", "sweeps: keep rows whose parameter has this value (repeatable)").argParser(collectWhere))
    .addOption(new Option("--aggregate <how>", `sweeps: reduce rows that share a drawn cell: ${AGGREGATES.join(" | ")}`).argParser(parseAggregate))
    .option("--metric <name>", "sweeps: final metric, e.g. basinMass[0], nashGap, entropy", "basinMass[0]");
}

/** Adds `plot`, `compare`, `report` and `export` to the CLI. */
export function registerPlotCommands(program: Command): void {
  addSweepOptions(
    program
      .command("plot")
      .description("draw a run result (result.json), replicates, a sweep (sweep.jsonl) or its trajectories (sweep.trajectories.jsonl) as SVG or PNG")
      .argument("<input>", "result.json from `plurisim run --json --out`, `run --replicates --json` output, a sweep's .jsonl or .trajectories.jsonl")
      .requiredOption("--out <file>", "output figure: .svg or .png (its directory must exist)")
      .option("--chart <name>", `${CHARTS.join(" | ")} (run results: all, distribution, metrics, landscape; sweeps: heatmap, line)`, "all")
      .option("--log-y", "distribution panel: log scale for the mass")
      .option("--title <text>", "figure title"),
  ).action(async (input: string, flags: PlotOptions & { out: string }) => {
    const chart = flags.chart ?? "all";
    if (!(CHARTS as readonly string[]).includes(chart)) usage("chart", `--chart must be one of ${CHARTS.join(", ")} (got ${JSON.stringify(chart)})`, chart);
    checkOutPath(flags.out, CHART_EXTENSIONS);
    const [{ readPlotInput }, { specFor }] = await Promise.all([import("./plot-input.js"), import("./plot-spec.js")]);
    const data = await readPlotInput(input, { finalFields: [flags.metric ?? "basinMass"], whole: false });
    await writeChart(specFor(data, flags), flags.out);
    wrote(flags.out);
  });
  program
    .command("compare")
    .description("overlay several run results (result.json) in one figure: basin masses, Nash welfare, nashGap, entropy")
    .argument("<results...>", "result.json files from `plurisim run --json --out`")
    .requiredOption("--out <file>", "output figure: .svg or .png")
    .option("--title <text>", "figure title")
    .action(async (paths: string[], flags: { out: string; title?: string }) => {
      checkOutPath(flags.out, CHART_EXTENSIONS);
      const [runs, { compareSpec }] = await Promise.all([readRuns(paths), import("../core/charts.js")]);
      await writeChart(compareSpec(runs, flags.title), flags.out);
      wrote(flags.out);
    });
  addSweepOptions(
    program
      .command("report")
      .description("write a self-contained HTML report (figures inlined as SVG, metric tables) of run results, replicates and sweeps")
      .argument("<inputs...>", "result.json files, replicates results and/or sweep .jsonl files")
      .requiredOption("--out <file>", "output .html or .htm (its directory must exist)")
      .option("--title <text>", "report title", "plurisim report")
      .option("--chart <name>", "sweeps: heatmap | line"),
  ).action(async (inputs: string[], flags: PlotOptions & { out: string; title: string }) => {
    checkOutPath(flags.out, REPORT_EXTENSIONS);
    const { writeReportFromFiles } = await import("./report.js");
    const { out, title, chart, ...figure } = flags;
    if (chart !== undefined && chart !== "heatmap" && chart !== "line") usage("chart", `report --chart must be heatmap or line (got ${JSON.stringify(chart)})`, chart);
    await writeReportFromFiles(inputs, out, { title, metric: figure.metric, figure: { ...figure, chart } });
    wrote(out);
  });
  program
    .command("export")
    .description("write a sweep's rows (and its trajectories, when kept) as Parquet")
    .argument("<rows>", "rows file (JSONL) of a sweep, or - for standard input")
    .requiredOption("--out <file>", "rows.parquet; trajectories go to <stem>.trajectories.parquet beside it")
    .action(async (rows: string, flags: { out: string }) => {
      const [{ exportSweepParquet }, { reportParquet }, { MAX_RESULT_BYTES, stdinAsFile }] = await Promise.all([import("./parquet.js"), import("./sweep-cli.js"), import("./files.js")]);
      // Rows piped in are exported from a private copy (the export reads them twice); no trajectories come with them.
      const source = rows === "-" ? stdinAsFile("stdin.jsonl", { field: "rows", maxBytes: MAX_RESULT_BYTES }) : rows;
      reportParquet(await exportSweepParquet(source, flags.out), flags.out);
    });
}

/** Reads result.json files for an overlay; a file of another kind is an error naming it. */
export async function readRuns(paths: string[]): Promise<{ label: string; result: RunResult }[]> {
  const [{ readPlotInput }, { checkOneStdin }] = await Promise.all([import("./plot-input.js"), import("./files.js")]);
  checkOneStdin(paths, "results");
  const runs = [];
  for (const p of paths) {
    const input = await readPlotInput(p);
    if (input.kind !== "run") usage("input", `${p} is not a run result (it holds ${input.kind}); compare overlays run results (result.json)`, p);
    runs.push({ label: p, result: input.result });
  }
  return runs;
}
