// `plurisim report`: one self-contained HTML file (no scripts, no external assets) with the
// figures of src/core/charts.ts inlined as SVG and the metric tables beside them. Also what
// `npm start` calls to write the report of its demonstration.
import { groupNamesOf, metricValue, phaseDiagramSpec, runFigureSpec, sweepAxes, paramLabel, type SweepRow } from "../core/charts.js";
import { SCALAR_METRICS, type RunResult } from "../core/types.js";
import { writeFileAtomic } from "./files.js";
import { checkOutPath, geometryOfResult, readPlotInput, renderSvg, REPORT_EXTENSIONS, type PlotInput } from "./plot.js";

/** One section of a report: a run result or the rows of a sweep, with a heading. */
export type ReportItem =
  | { kind: "run"; title: string; result: RunResult; note?: string }
  | { kind: "sweep"; title: string; rows: SweepRow[]; metric?: string; note?: string };

export interface ReportOptions {
  title?: string;
  /** Default final metric of sweep phase diagrams. */
  metric?: string;
  /** A paragraph under the title. */
  intro?: string;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Numbers as the CLI tables show them: 6 significant digits, exponent form when tiny or huge. */
function fmt(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v !== "number") return v === undefined || v === null ? "" : JSON.stringify(v);
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-4 || a >= 1e6) ? v.toExponential(4) : String(Number(v.toPrecision(6)));
}

function table(head: string[], rows: unknown[][]): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(fmt(c))}</td>`).join("")}</tr>`).join("\n");
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** The SVG of a spec, ready to inline (the XML prolog-free root element). */
async function inlineSvg(spec: Record<string, unknown>): Promise<string> {
  return `<figure>${await renderSvg(spec)}</figure>`;
}


async function runSection(item: Extract<ReportItem, { kind: "run" }>): Promise<string> {
  const { result } = item;
  const { geometry, p0 } = geometryOfResult(result);
  const names = groupNamesOf(result);
  const f = result.final;
  const q = ((result.scenario as { groups?: { weight?: number }[] } | null)?.groups ?? []).map((g) => g.weight);
  const groupRows = names.map((name, i) => [
    name,
    q[i],
    f.expectedReward[i],
    f.rewardVariance[i],
    f.logPartition[i],
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
  const description = (result.scenario as { description?: string } | null)?.description;
  return [
    `<section><h2>${esc(item.title)}</h2>`,
    item.note ? `<p>${esc(item.note)}</p>` : description ? `<p>${esc(description)}</p>` : "",
    await inlineSvg(runFigureSpec(result, geometry, p0)),
    `<div class="tables"><div><h3>Final metrics by group</h3>`,
    table(["group", "q", "expectedReward", "rewardVariance", "logPartition", "basinMass", "Nash p* basin"], groupRows),
    `</div><div><h3>Final metrics</h3>`,
    table(["metric", "value"], scalarRows),
    `</div></div><h3>Trajectory</h3>`,
    table(trajHead, trajRows),
    `</section>`,
  ].join("\n");
}

async function sweepSection(item: Extract<ReportItem, { kind: "sweep" }>, metric: string): Promise<string> {
  const rows = item.rows;
  const axes = sweepAxes(rows);
  const keys = axes.length > 0 ? axes : Object.keys(rows[0]?.params ?? {});
  const shownMetrics = [metric, "nashGap", "entropy", "outsideMass"].filter((m, i, a) => a.indexOf(m) === i);
  const ok = rows.filter((r) => r.status === "ok").length;
  const cap = 300;
  const body = rows.slice(0, cap).map((r) => [r.cell, ...keys.map((k) => paramLabel(r.params?.[k])), r.seed ?? "", r.status, ...shownMetrics.map((m) => (r.status === "ok" ? metricValue(r.final as Record<string, unknown>, m) ?? "" : String(r.error ?? r.message ?? "")))]);
  return [
    `<section><h2>${esc(item.title)}</h2>`,
    item.note ? `<p>${esc(item.note)}</p>` : "",
    `<p>${rows.length} cells, ${ok} ok, ${rows.length - ok} failed.</p>`,
    await inlineSvg(phaseDiagramSpec(rows, { metric })),
    table(["cell", ...keys, "seed", "status", ...shownMetrics], body),
    rows.length > cap ? `<p>First ${cap} of ${rows.length} rows shown.</p>` : "",
    `</section>`,
  ].join("\n");
}

const CSS = `body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}h3{font-size:1em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{border:1px solid #ddd;padding:.2em .5em;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}figure{margin:1em 0;overflow-x:auto}
.tables{display:flex;gap:2em;flex-wrap:wrap}code{background:#f4f4f4;padding:0 .2em}.stamp{color:#666;font-size:.85em}`;

/** The HTML text of a report over run results and sweeps. */
export async function buildReportHtml(items: ReportItem[], options: ReportOptions = {}): Promise<string> {
  const title = options.title ?? "plurisim report";
  const engines = new Map<string, string>();
  for (const item of items) {
    const e = item.kind === "run" ? item.result.engine : ((item.rows[0] as { engine?: { version: string; wasmSha256: string } })?.engine ?? null);
    if (e) engines.set(`${e.version} ${e.wasmSha256}`, `plurisim ${e.version}, Wasm SHA-256 <code>${esc(e.wasmSha256)}</code>`);
  }
  const sections: string[] = [];
  for (const item of items) sections.push(item.kind === "run" ? await runSection(item) : await sweepSection(item, item.metric ?? options.metric ?? "basinMass[0]"));
  return [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${CSS}</style></head><body>`,
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

/** Reads result.json and sweep .jsonl files and writes their report to `out`. */
export async function writeReportFromFiles(paths: string[], out: string, options: ReportOptions = {}): Promise<void> {
  checkOutPath(out, REPORT_EXTENSIONS);
  const inputs: PlotInput[] = [];
  for (const p of paths) inputs.push(await readPlotInput(p));
  const items: ReportItem[] = inputs.map((input) =>
    input.kind === "run" ? { kind: "run", title: input.path, result: input.result } : { kind: "sweep", title: input.path, rows: input.rows },
  );
  await writeFileAtomic(out, await buildReportHtml(items, options));
}
