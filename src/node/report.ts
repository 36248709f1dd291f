// `plurisim report`: one self-contained HTML file (no scripts, no external assets, a
// Content-Security-Policy that forbids both) with the figures of src/core inlined as SVG and the
// metric tables beside them. Every string from an input reaches the page escaped. Also what
// `npm start` calls to write the report of its demonstration.
import { existsSync } from "node:fs";
import { compareSpec, groupNamesOf, metricValue, phaseDiagramSpec, replicatesSpec, runFigureSpec, sweepAxes, paramLabel, type ChartSpec, type FigureRow } from "../core/charts.js";
import type { ReplicatesResult } from "../core/engine.js";
import { isPlurisimError } from "../core/errors.js";
import { SCALAR_METRICS, type RunResult } from "../core/types.js";
import { formatNumber } from "../core/number-format.js";
import { checkSummaryRows, summaries, type Summary } from "../sweep/summary.js";
import { checkOneStdin, MAX_RESULT_BYTES, readTextFile, writeFileAtomic } from "./files.js";
import { geometryOfResult, readPlotInput, type PlotInput } from "./plot-input.js";
import type { PlotOptions } from "./plot.js";
import { checkOutPath, renderSvg, REPORT_EXTENSIONS } from "./render.js";

/** One section of a report: a run result, replicates, or the rows of a sweep, with a heading. */
export type ReportItem =
  | { kind: "run"; title: string; result: RunResult; note?: string }
  | { kind: "replicates"; title: string; result: ReplicatesResult; note?: string }
  | { kind: "sweep"; title: string; rows: FigureRow[]; metric?: string; note?: string; summary?: string; trajectories?: boolean };

export interface ReportOptions {
  title?: string;
  /** Default final metric of sweep figures. */
  metric?: string;
  /** Sweep figure options (axes, facet, filters, aggregate, line or heat map). */
  figure?: PlotOptions;
  /** A paragraph under the title. */
  intro?: string;
}

/** HTML-escapes text for element content and attribute values. */
export const esc = (s: unknown): string =>
  String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

/**
 * The report's Content-Security-Policy: nothing may load or run (no script, no fetch, no frame);
 * only the report's own <style> element and the data: images inside its SVG figures.
 */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/** A table cell: integers whole, other numbers in 6 significant digits (exponent form below 1e-4 and from 1e6). */
function fmt(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v !== "number") return v === undefined || v === null ? "" : JSON.stringify(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return formatNumber(v, { digits: 6, small: 1e-4, exponentDigits: 4 });
}

function table(head: string[], rows: unknown[][]): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(fmt(c))}</td>`).join("")}</tr>`).join("\n");
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** The SVG of a spec, ready to inline (vega escapes the text it draws). */
async function inlineSvg(spec: ChartSpec): Promise<string> {
  return `<figure>${await renderSvg(spec)}</figure>`;
}

/** A figure, or the reason it cannot be drawn (a sweep whose dimensions need --aggregate, say). */
async function figureOrNote(make: () => ChartSpec): Promise<string> {
  try {
    return await inlineSvg(make());
  } catch (err) {
    if (!isPlurisimError(err)) throw err;
    return `<p class="note">No figure: ${esc(err.message)}</p>`;
  }
}

async function runSection(item: Extract<ReportItem, { kind: "run" }>, options: ReportOptions): Promise<string> {
  const { result } = item;
  const { geometry, p0, landscape } = geometryOfResult(result);
  const names = groupNamesOf(result);
  const f = result.final;
  const q = ((result.scenario as { groups?: { weight?: number }[] } | null)?.groups ?? []).map((g) => g?.weight);
  const groupRows = names.map((name, i) => [
    name,
    q[i],
    f.expectedReward?.[i],
    f.rewardVariance?.[i],
    f.logPartition?.[i],
    f.basinMass[i],
    result.nash ? result.nash.basinMass[i] : "",
  ]);
  const scalarRows: unknown[][] = SCALAR_METRICS.filter((k) => f[k] !== undefined).map((k) => [k, f[k]]);
  if (result.nash) scalarRows.push(["Nash F*", result.nash.welfare], ["nashGap(p*)", result.nash.gap], ["F* - F(p_T)", result.nash.welfare - f.nashWelfare]);
  scalarRows.push(["largest mass defect", result.maxMassDefect], ["generations run", result.generationsRun]);
  // The trajectory, thinned to at most ~20 recorded generations (first and last kept).
  const traj = result.trajectory;
  const step = Math.max(1, Math.ceil(traj.length / 20));
  const shown = traj.filter((_, i) => i % step === 0 || i === traj.length - 1);
  const trajHead = ["generation", ...names.map((n) => `basinMass ${n}`), "outsideMass", "nashWelfare", "nashGap", "entropy"];
  const trajRows = shown.map((m) => [m.generation, ...m.basinMass, m.outsideMass, m.nashWelfare, m.nashGap, m.entropy]);
  const description = (result.scenario as { description?: unknown } | null)?.description;
  return [
    `<section><h2>${esc(item.title)}</h2>`,
    item.note ? `<p>${esc(item.note)}</p>` : typeof description === "string" ? `<p>${esc(description)}</p>` : "",
    await inlineSvg(runFigureSpec(result, geometry, p0, undefined, { logY: options.figure?.logY, landscape })),
    `<div class="tables"><div><h3>Final metrics by group</h3>`,
    table(["group", "q", "expectedReward", "rewardVariance", "logPartition", "basinMass", "Nash p* basin"], groupRows),
    `</div><div><h3>Final metrics</h3>`,
    table(["metric", "value"], scalarRows),
    `</div></div><h3>Trajectory</h3>`,
    table(trajHead, trajRows),
    `</section>`,
  ].join("\n");
}

async function replicatesSection(item: Extract<ReportItem, { kind: "replicates" }>): Promise<string> {
  const r = item.result;
  const keys = Object.keys(r.mean);
  const rows: unknown[][] = [];
  for (const k of keys) {
    const mu = r.mean[k];
    const sd = r.std[k];
    if (Array.isArray(mu)) mu.forEach((v, i) => rows.push([`${k}[${i}]`, v, (sd as number[] | undefined)?.[i]]));
    else rows.push([k, mu, sd]);
  }
  return [
    `<section><h2>${esc(item.title)}</h2>`,
    `<p>${esc(r.finals.length)} replicates, seeds ${esc(r.seeds.slice(0, 6).join(", "))}${r.seeds.length > 6 ? ", ..." : ""}. Basin survival: ${esc((r.basinSurvival ?? []).map((s) => fmt(s)).join(", "))}.${r.trajectory?.length ? " Top row: the mean over replicates at each recorded generation, with a band of ± one sd; bottom row: the final values." : ""}</p>`,
    await inlineSvg(replicatesSpec(r)),
    table(["metric", "mean", "sd"], rows),
    `</section>`,
  ].join("\n");
}

/** The preset summary of a sweep (Table 5 analogue, k-phase, lemma35) with its figure, when its rows carry what it reads. */
async function summarySection(name: string, rows: FigureRow[]): Promise<string> {
  const entry = Object.hasOwn(summaries, name) ? summaries[name] : undefined;
  if (!entry || name === "counts") return "";
  let s: Summary;
  try {
    s = entry.summarize(checkSummaryRows(rows));
  } catch (err) {
    if (!isPlurisimError(err)) throw err;
    return `<p class="note">No ${esc(name)} summary: ${esc(err.message)}</p>`;
  }
  const figure = s.chart ? await figureOrNote(() => s.chart!) : "";
  return [`<h3>${esc(s.title)}</h3>`, figure, `<pre>${esc(s.text)}</pre>`].join("\n");
}

/** The summary a sweep's manifest names (x.manifest.json beside x.jsonl), or undefined. */
function manifestSummary(rowsPath: string): string | undefined {
  if (rowsPath === "-") return undefined; // rows piped in have no manifest beside them
  const path = `${rowsPath.endsWith(".jsonl") ? rowsPath.slice(0, -".jsonl".length) : rowsPath}.manifest.json`;
  if (!existsSync(path)) return undefined;
  try {
    const s = (JSON.parse(readTextFile(path, { field: "manifest", maxBytes: MAX_RESULT_BYTES, asInput: false })) as { plan?: { summary?: unknown } }).plan?.summary;
    return typeof s === "string" ? s : undefined;
  } catch {
    return undefined;
  }
}

async function sweepSection(item: Extract<ReportItem, { kind: "sweep" }>, metric: string, options: ReportOptions): Promise<string> {
  const rows = item.rows;
  const axes = sweepAxes(rows);
  const keys = axes.length > 0 ? axes : Object.keys(rows[0]?.params ?? {});
  const shownMetrics = [metric, "nashGap", "entropy", "outsideMass"].filter((m, i, a) => a.indexOf(m) === i);
  const ok = rows.filter((r) => r.status === "ok").length;
  const cap = 300;
  const body = rows
    .slice(0, cap)
    .map((r) => [r.cell, ...keys.map((k) => paramLabel(r.params?.[k])), ("seed" in r ? r.seed : undefined) ?? "", r.status, ...shownMetrics.map((m) => (r.status === "ok" ? (metricValue(r.final, m) ?? "") : String(("error" in r ? r.error : undefined) ?? ("message" in r ? r.message : undefined) ?? "")))]);
  const { logY: _l, chart, ...figure } = options.figure ?? {};
  if (item.trajectories) Object.assign(figure, { x: figure.x ?? "generation", series: figure.series ?? (figure.aggregate ? undefined : "cell") });
  return [
    `<section><h2>${esc(item.title)}</h2>`,
    item.note ? `<p>${esc(item.note)}</p>` : "",
    `<p>${rows.length} cells, ${ok} ok, ${rows.length - ok} failed.</p>`,
    await inlineSvg(phaseDiagramSpec(rows, { ...figure, chart: item.trajectories ? "line" : chart === "line" || chart === "heatmap" ? chart : undefined, metric })),
    item.summary ? await summarySection(item.summary, rows) : "",
    table(["cell", ...keys, "seed", "status", ...shownMetrics], body),
    rows.length > cap ? `<p>First ${cap} of ${rows.length} rows shown.</p>` : "",
    `</section>`,
  ].join("\n");
}

const CSS = `body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}h3{font-size:1em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{border:1px solid #ddd;padding:.2em .5em;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}figure{margin:1em 0;overflow-x:auto}
.tables{display:flex;gap:2em;flex-wrap:wrap}code{background:#f4f4f4;padding:0 .2em}.stamp{color:#666;font-size:.85em}.note{color:#a33}`;

/** The HTML text of a report over run results, replicates and sweeps. */
export async function buildReportHtml(items: ReportItem[], options: ReportOptions = {}): Promise<string> {
  const title = options.title ?? "plurisim report";
  const engines = new Map<string, string>();
  for (const item of items) {
    const e = item.kind === "sweep" ? ((item.rows[0] as { engine?: { version: unknown; wasmSha256: unknown } })?.engine ?? null) : item.result.engine;
    if (e) engines.set(`${e.version} ${e.wasmSha256}`, `plurisim ${esc(e.version)}, Wasm SHA-256 <code>${esc(e.wasmSha256)}</code>`);
  }
  const sections: string[] = [];
  const runs = items.filter((i): i is Extract<ReportItem, { kind: "run" }> => i.kind === "run");
  if (runs.length > 1) {
    sections.push(`<section><h2>${runs.length} runs overlaid</h2>`, await inlineSvg(compareSpec(runs.map((r) => ({ label: r.title, result: r.result })), "")), `</section>`);
  }
  for (const item of items) {
    if (item.kind === "run") sections.push(await runSection(item, options));
    else if (item.kind === "replicates") sections.push(await replicatesSection(item));
    else sections.push(await sweepSection(item, item.metric ?? options.metric ?? "basinMass[0]", options));
  }
  return [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}"><title>${esc(title)}</title><style>${CSS}</style></head><body>`,
    `<h1>${esc(title)}</h1>`,
    engines.size > 0 ? `<p class="stamp">${[...engines.values()].join("<br>")}</p>` : "",
    options.intro ? `<p>${esc(options.intro)}</p>` : "",
    ...sections,
    `<p class="stamp">Written ${new Date().toISOString()} by plurisim report. Symbols follow docs/model.md: q, tau, K, nashGap, basinMass.</p>`,
    "</body></html>",
    "",
  ].join("\n");
}

/** Writes a report of run results, e.g. the demonstration of `npm start`: [{ title, result }]. */
export async function writeRunReport(runs: { title: string; result: RunResult; note?: string }[], out: string, options: ReportOptions = {}): Promise<void> {
  checkOutPath(out, REPORT_EXTENSIONS);
  await writeFileAtomic(out, await buildReportHtml(runs.map((r) => ({ kind: "run" as const, ...r })), options));
}

/** Reads result.json, replicates and sweep .jsonl files and writes their report to `out`. */
export async function writeReportFromFiles(paths: string[], out: string, options: ReportOptions = {}): Promise<void> {
  checkOutPath(out, REPORT_EXTENSIONS);
  checkOneStdin(paths, "inputs");
  const inputs: PlotInput[] = [];
  for (const p of paths) inputs.push(await readPlotInput(p));
  const items: ReportItem[] = inputs.map((input) =>
    input.kind === "trajectories"
      ? { kind: "sweep", title: input.path, rows: input.rows, trajectories: true }
      : input.kind === "sweep"
        ? { kind: "sweep", title: input.path, rows: input.rows, summary: manifestSummary(input.path) } : input.kind === "run" ? { kind: "run", title: input.path, result: input.result } : { kind: "replicates", title: input.path, result: input.result },
  );
  await writeFileAtomic(out, await buildReportHtml(items, options));
}
