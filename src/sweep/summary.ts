// Per-preset summaries of a finished sweep's rows: the Table 5 analogue, the Lemma 3.5 check
// and the K x q phase diagram, each as data, as a printable table (and its cells, for the page's
// HTML table) and as a figure. Runs anywhere.
import { phaseDiagramSpec, type ChartSpec } from "../core/charts.js";
import { PlurisimError } from "../core/errors.js";
import { formatNumber } from "../core/number-format.js";
import type { ErrorRow, Row } from "./task.js";

export interface Summary {
  title: string;
  text: string;
  data: unknown;
  /** A figure of the summary (Vega-Lite), for reports and the page. */
  chart?: ChartSpec;
  /** The summary's table as cells, for the page's HTML table. */
  table?: SummaryTable;
}

/** A table cell: its text as `text` prints it, and the number behind it when it shows one. */
export type SummaryCell = string | { text: string; value: number };

/** A header row and the body rows of a summary's table. */
export interface SummaryTable {
  head: string[];
  rows: SummaryCell[][];
}

const cellText = (c: SummaryCell): string => (typeof c === "string" ? c : c.text);

/** A number cell shown in `digits` significant digits (fmt), the full number kept beside it. */
const numberCell = (value: number, digits = 3): SummaryCell => ({ text: fmt(value, digits), value });

/** A table number: `digits` significant digits with trailing zeros, so columns line up; exponent form below 1e-3 and from 1e5. */
const fmt = (v: number, digits = 3): string => formatNumber(v, { digits, large: 1e5, exponentDigits: digits - 1, trailingZeros: true });

function table(cells: SummaryTable): string {
  const rows = [cells.head, ...cells.rows.map((r) => r.map(cellText))];
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => (r[j] ?? "").length)));
  return rows.map((r) => r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join("  ")).join("\n");
}

const num = (v: unknown): number => (typeof v === "number" ? v : v === "inf" ? Infinity : Number(v));

/** Table 5 analogue: per basin distance D, the mean over q of (a_T - q)^2 (docs/model.md, section 5). */
export function summarizeTable5(rows: Row[]): Summary {
  const byD = new Map<number, { q: number; a: number }[]>();
  let errors = 0;
  for (const r of rows) {
    if (r.status !== "ok" || !r.final?.basinMass) {
      errors++;
      continue;
    }
    const D = Math.round((num(r.params["groups[1].reward.center"]) - num(r.params["groups[0].reward.center"])) * 1e9) / 1e9;
    const q = num(r.params["groups[0].weight"]);
    const list = byD.get(D) ?? [];
    list.push({ q, a: r.final.basinMass[0] });
    byD.set(D, list);
  }
  const data = [...byD.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([D, list]) => ({
      D,
      cells: list.length,
      meanSquaredDeviation: list.reduce((s, { q, a }) => s + (a - q) ** 2, 0) / list.length,
      maxAbsDeviation: Math.max(...list.map(({ q, a }) => Math.abs(a - q))),
    }));
  const cells: SummaryTable = {
    head: ["D", "cells", "mean_q (a_T - q)^2", "max |a_T - q|"],
    rows: data.map((d) => [{ text: String(d.D), value: d.D }, { text: String(d.cells), value: d.cells }, numberCell(d.meanSquaredDeviation), numberCell(d.maxAbsDeviation)]),
  };
  const text = table(cells);
  const chart: ChartSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Table 5 analogue: mean over q of (a_T - q)^2 against the basin distance D",
    width: 420,
    height: 240,
    data: { values: data.filter((d) => Number.isFinite(d.meanSquaredDeviation)) },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "D", type: "quantitative", title: "basin distance D", scale: { zero: false } },
      y: { field: "meanSquaredDeviation", type: "quantitative", title: "mean_q (a_T - q)^2" },
    },
  };
  return { title: "Table 5 analogue: basin mass of group 1 against q (docs/model.md, section 5)", text: errors ? `${text}\n(${errors} cells failed)` : text, data, chart, table: cells };
}

/** Lemma 3.5: how many landscapes end with a_T inside the audit's interval [L - c m_T, U + c m_T]. */
export function summarizeLemma35(rows: Row[]): Summary {
  let applicable = 0;
  let held = 0;
  let inWindow = 0;
  let heldInWindow = 0;
  const violations: { cell: number; params: Record<string, unknown>; a: number; interval: unknown }[] = [];
  const points: { cell: number; position: number; verdict: "inside" | "outside" }[] = [];
  for (const r of rows) {
    if (r.status !== "ok" || !r.audit?.applicable) continue;
    const audit = r.audit;
    applicable++;
    const ok = audit.held?.interval === true;
    const win = audit.qWindow?.inside === true;
    if (ok) held++;
    if (win) inWindow++;
    if (ok && win) heldInWindow++;
    const a = r.final?.basinMass?.[0] ?? NaN;
    if (!ok) violations.push({ cell: r.cell, params: r.params, a, interval: audit.intervalWithSlack });
    const position = intervalPosition(a, audit.intervalWithSlack);
    if (!Number.isNaN(position)) points.push({ cell: r.cell, position, verdict: ok ? "inside" : "outside" });
  }
  const lines = [
    `landscapes audited: ${applicable} of ${rows.length}`,
    `a_T inside [L - m_T, U + m_T]: ${held} of ${applicable}`,
    `q inside the window (kappa_1, 1 - kappa_2): ${inWindow}; of those inside the interval: ${heldInWindow}`,
  ];
  for (const v of violations.slice(0, 10)) lines.push(`  outside: cell ${v.cell} a_T = ${fmt(v.a, 6)} interval ${JSON.stringify(v.interval)} ${JSON.stringify(v.params)}`);
  const count = (n: number): SummaryCell => ({ text: String(n), value: n });
  const cells: SummaryTable = {
    head: ["landscapes", "count", "of"],
    rows: [
      ["audited", count(applicable), count(rows.length)],
      ["a_T inside [L - m_T, U + m_T]", count(held), count(applicable)],
      ["q inside the window (kappa_1, 1 - kappa_2)", count(inWindow), count(applicable)],
      ["q inside the window, a_T inside the interval", count(heldInWindow), count(inWindow)],
    ],
  };
  return {
    title: "Lemma 3.5 interval over a grid of landscapes (audit)",
    text: lines.join("\n"),
    data: { applicable, held, inWindow, heldInWindow, violations },
    chart: points.length > 0 ? lemma35Spec(points) : undefined,
    table: cells,
  };
}

/** Where a lies in [lo, hi]: 0 at lo, 1 at hi (0.5 for a point interval that holds a, +-Infinity for one that does not); NaN without an interval. */
function intervalPosition(a: number, interval: [number, number] | undefined): number {
  if (!interval) return NaN;
  const [lo, hi] = interval;
  if (hi > lo) return (a - lo) / (hi - lo);
  return a === lo ? 0.5 : a < lo ? -Infinity : Infinity;
}

/**
 * Each landscape's a_T placed in its own interval: the intervals range from tenths to 1e-7 wide,
 * so a common a_T axis would hide most of them; on this scale every interval runs from 0 to 1.
 * Points far outside are drawn at the edge of the plot (the scale clamps).
 */
function lemma35Spec(points: { cell: number; position: number; verdict: "inside" | "outside" }[]): ChartSpec {
  const y = { type: "quantitative", title: "a_T in its interval", scale: { domain: [-0.25, 1.25], clamp: true } };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Lemma 3.5: a_T of each landscape placed in its interval [L - m_T, U + m_T]",
      subtitle: "0 = L - m_T, 1 = U + m_T: a point between the dashed lines is a landscape where the lemma held",
    },
    width: 480,
    height: 200,
    layer: [
      { data: { values: [{ end: 0 }, { end: 1 }] }, mark: { type: "rule", strokeDash: [4, 3], color: "#888" }, encoding: { y: { field: "end", ...y } } },
      {
        data: { values: points.map((p) => ({ ...p, position: Math.max(-1, Math.min(2, p.position)) })) },
        mark: { type: "point", filled: true, size: 24 },
        encoding: {
          x: { field: "cell", type: "quantitative", title: "landscape (cell)" },
          y: { field: "position", ...y },
          color: { field: "verdict", type: "nominal", title: "a_T", scale: { domain: ["inside", "outside"], range: ["#4c78a8", "#d62728"] } },
        },
      },
    ],
  };
}

/** K x q phase diagram: the final mass outside both basins (compromise atoms) for each K and q. */
export function summarizeKPhase(rows: Row[]): Summary {
  const Ks: unknown[] = [];
  const qs: number[] = [];
  const cell = new Map<string, number>();
  for (const r of rows) {
    const K = r.params["curation.K"];
    const q = num(r.params["groups[0].weight"]);
    if (!Ks.includes(K)) Ks.push(K);
    if (!qs.includes(q)) qs.push(q);
    cell.set(`${K}|${q}`, r.status === "ok" && r.final ? (r.final.outsideMass ?? NaN) : NaN);
  }
  qs.sort((a, b) => a - b);
  Ks.sort((a, b) => num(a) - num(b));
  const cells: SummaryTable = {
    head: ["K \\ q", ...qs.map((q) => fmt(q, 2))],
    rows: Ks.map((K) => [String(K), ...qs.map((q) => numberCell(cell.get(`${K}|${q}`) ?? NaN, 2))]),
  };
  const text = table(cells);
  let chart: ChartSpec | undefined;
  try {
    // Replicates or other swept parameters share a (K, q) cell: the figure says it shows their mean.
    const repeated = new Set(rows.map((r) => `${r.params["curation.K"]}|${r.params["groups[0].weight"]}`)).size < rows.length;
    chart = phaseDiagramSpec(rows, { x: "groups[0].weight", y: "curation.K", metric: "outsideMass", aggregate: repeated ? "mean" : undefined });
  } catch {
    chart = undefined;
  }
  return {
    title: "K x q phase diagram: final mass outside both basins (compromise atoms); ~0 = both basins kept (Nash), large = compromise",
    text,
    data: Ks.map((K) => ({ K, outsideMass: qs.map((q) => cell.get(`${K}|${q}`) ?? null), q: qs })),
    chart,
    table: cells,
  };
}

/** Counts of any sweep: cells, ok, failed. */
export function summarizeCounts(rows: Row[]): Summary {
  const ok = rows.filter((r) => r.status === "ok").length;
  const failed = rows.length - ok;
  const failure = rows.find((r): r is ErrorRow => r.status === "error");
  const text = `${rows.length} cells: ${ok} ok, ${failed} failed` + (failure ? `\nfirst failure: cell ${failure.cell}: ${failure.error}` : "");
  return { title: "sweep", text, data: { cells: rows.length, ok, failed } };
}

/** Each summary and the swept parameters it reads from the rows. */
export const summaries: Record<string, { summarize: (rows: Row[]) => Summary; params: string[] }> = {
  table5: { summarize: summarizeTable5, params: ["groups[0].reward.center", "groups[1].reward.center", "groups[0].weight"] },
  lemma35: { summarize: summarizeLemma35, params: [] },
  "k-phase": { summarize: summarizeKPhase, params: ["curation.K", "groups[0].weight"] },
  counts: { summarize: summarizeCounts, params: [] },
};

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object";

/**
 * Rows read back from a file, checked for what the summaries read: every row an object with a
 * params object, every "ok" row with a final metrics object. Throws INVALID_SWEEP naming the row.
 */
export function checkSummaryRows(rows: readonly unknown[]): Row[] {
  rows.forEach((r, i) => {
    const where = `row ${i + 1}${isObject(r) && typeof r.cell === "number" ? ` (cell ${r.cell})` : ""}`;
    if (!isObject(r) || !isObject(r.params)) throw new PlurisimError("INVALID_SWEEP", `${where} has no params object`, { field: "params", value: r });
    if (r.status === "ok" && !isObject(r.final)) throw new PlurisimError("INVALID_SWEEP", `${where} is "ok" but has no final metrics object`, { field: "final", value: r.final });
  });
  return rows as Row[];
}

/** The summary named by a plan (or the counts when it names none); INVALID_SWEEP when the rows lack its parameters. */
export function summarize(name: string | undefined, input: readonly unknown[]): Summary {
  const entry = (name && Object.hasOwn(summaries, name) ? summaries[name] : undefined) ?? summaries.counts;
  const rows = checkSummaryRows(input);
  const sample = rows.find((r) => r.status === "ok") ?? rows[0];
  const missing = sample ? entry.params.filter((p) => rows.some((r) => !Object.hasOwn(r.params, p))) : [];
  if (missing.length > 0) {
    throw new PlurisimError("INVALID_SWEEP", `the ${name} summary needs the swept parameters ${missing.join(", ")}, which these rows do not have (they sweep ${Object.keys(sample.params).join(", ") || "nothing"})`, {
      field: "summary",
      value: name,
    });
  }
  return entry.summarize(rows);
}
