// The figure of a plot input: a run's figure (or one of its parts), replicates, a sweep figure
// or a sweep's trajectories, as a Vega-Lite spec. Kept apart from plot.ts, which registers the
// commands: this needs the figures of src/core and the result reader (the scenario schema, zod).
import {
  distributionSpec,
  landscapeSpec,
  metricsSpec,
  phaseDiagramSpec,
  replicatesSpec,
  resultSeries,
  groupNamesOf,
  isFiniteK,
  runFigureSpec,
  type ChartSpec,
} from "../core/charts.js";
import { geometryOfResult, type PlotInput } from "./plot-input.js";
import { usage, type PlotOptions } from "./plot.js";

/** The chart spec of an input: a run's figure (or one of its parts), replicates, or a sweep figure. */
export function specFor(input: PlotInput, options: PlotOptions = {}): ChartSpec {
  const chart = options.chart ?? "all";
  if (input.kind === "trajectories") {
    if (!["all", "line"].includes(chart)) usage("chart", `--chart ${chart}: trajectories are drawn as lines (--chart line)`, chart);
    return phaseDiagramSpec(input.rows, { ...options, chart: "line", x: options.x ?? "generation", series: options.series ?? (options.aggregate ? undefined : "cell") });
  }
  if (input.kind === "sweep") {
    if (!["all", "heatmap", "line", "phase"].includes(chart)) usage("chart", `--chart ${chart} draws a run result, and ${input.path} is a sweep: use heatmap or line`, chart);
    const sweepChart = chart === "line" ? "line" : chart === "all" ? undefined : "heatmap";
    return phaseDiagramSpec(input.rows, { ...options, chart: sweepChart });
  }
  if (["heatmap", "line", "phase"].includes(chart)) usage("chart", `--chart ${chart} needs a sweep .jsonl, and ${input.path} is a ${input.kind === "run" ? "run result" : "replicates result"}`, chart);
  if (input.kind === "replicates") return replicatesSpec(input.result, options.title);
  const { result } = input;
  const { geometry, p0, landscape } = geometryOfResult(result);
  if (chart === "distribution") {
    const series = resultSeries(result, p0);
    if (series.length === 0 && !result.nash) usage("chart", `${input.path} has no distribution: run with --final (and --nash for the overlay)`, chart);
    return distributionSpec(geometry, series, result.nash?.p, options.title, { logY: options.logY, finiteK: isFiniteK(result) });
  }
  if (chart === "metrics") return metricsSpec(result.trajectory, groupNamesOf(result), result.nash, options.title);
  if (chart === "landscape") {
    const spec = landscape ? landscapeSpec(landscape, options.title) : null;
    if (!spec) usage("chart", `${input.path} has no reward landscape to draw: it needs its scenario on a 1-D grid`, chart);
    return spec;
  }
  return runFigureSpec(result, geometry, p0, options.title, { logY: options.logY, landscape });
}
