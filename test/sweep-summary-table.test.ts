// The preset summaries as cells for the page's HTML table: the same strings `summarize` prints
// (its text is the padded table of these cells), each number cell carrying the exact number of
// the summary's data; and the Lemma 3.5 figure, each landscape's a_T placed in its interval.
import { describe, expect, it } from "vitest";
import { createEngine } from "../src/node/index.js";
import { parseSweep, sweepPresetDocument } from "../src/sweep/index.js";
import { summarize, type SummaryCell, type SummaryTable } from "../src/sweep/summary.js";
import { runBatch } from "../src/sweep/task.js";

const text = (c: SummaryCell) => (typeof c === "string" ? c : c.text);
const value = (c: SummaryCell) => (typeof c === "string" ? c : c.value);

/** The printed table's lines, split on runs of two or more spaces (cells never hold two spaces in a row). */
function printedCells(printed: string): string[][] {
  return printed.split("\n").map((line) => line.trim().split(/ {2,}/));
}

function expectPrintedAs(table: SummaryTable | undefined, printed: string): void {
  expect(table).toBeDefined();
  expect(printedCells(printed)).toEqual([table!.head, ...table!.rows.map((r) => r.map(text))]);
}

describe("summary tables", () => {
  it("table5: the cells are the printed table, the numbers those of the data", async () => {
    const plan = parseSweep(sweepPresetDocument("table5"));
    const engine = await createEngine();
    const rows = runBatch(engine, plan, Array.from({ length: plan.total }, (_, c) => c)).map((r) => r.row);
    const s = summarize("table5", rows);
    expectPrintedAs(s.table, s.text);
    const data = s.data as { D: number; cells: number; meanSquaredDeviation: number; maxAbsDeviation: number }[];
    expect(s.table!.rows.map((r) => r.map(value))).toEqual(data.map((d) => [d.D, d.cells, d.meanSquaredDeviation, d.maxAbsDeviation]));
  });

  it("k-phase: K down the side, q across, outsideMass in the cells (a failed cell is NaN, printed as such)", () => {
    const row = (cell: number, K: unknown, q: number, outsideMass: number | null) =>
      outsideMass === null
        ? { cell, status: "error", params: { "curation.K": K, "groups[0].weight": q }, error: "boom" }
        : { cell, status: "ok", params: { "curation.K": K, "groups[0].weight": q }, final: { outsideMass, basinMass: [0, 0] } };
    const s = summarize("k-phase", [row(0, 2, 0.25, 0.5), row(1, 2, 0.75, 1e-9), row(2, "inf", 0.25, 0), row(3, "inf", 0.75, null)]);
    expectPrintedAs(s.table, s.text);
    expect(s.table!.head).toEqual(["K \\ q", "0.25", "0.75"]);
    const data = s.data as { K: unknown; outsideMass: (number | null)[] }[];
    expect(s.table!.rows.map((r) => r.map(value))).toEqual(data.map((d) => [String(d.K), ...d.outsideMass.map((v) => v ?? NaN)]));
  });
});

describe("the Lemma 3.5 summary", () => {
  const audited = (cell: number, a: number, interval: [number, number] | undefined, held: boolean, inside = true) => ({
    cell,
    status: "ok",
    params: { "groups[0].weight": 0.5 },
    final: { basinMass: [a, 1 - a] },
    audit: { applicable: true, held: { interval: held }, qWindow: { inside }, intervalWithSlack: interval },
  });
  const rows = [
    audited(0, 0.3, [0.2, 0.4], true),
    audited(1, 0.9, [0.2, 0.4], false, false),
    // A point interval that holds a_T, one with no interval recorded (no point), one that misses a_T.
    audited(2, 0.5, [0.5, 0.5], true),
    audited(3, 0.5, undefined, true),
    { cell: 4, status: "ok", params: { "groups[0].weight": 0.5 }, final: { basinMass: [0.5, 0.5] }, audit: { applicable: false } },
    audited(5, 0.6, [0.5, 0.5], false),
  ];

  it("prints the counts it always printed; the table holds them", () => {
    const s = summarize("lemma35", rows);
    expect(s.text.split("\n").slice(0, 3)).toEqual([
      "landscapes audited: 5 of 6",
      "a_T inside [L - m_T, U + m_T]: 3 of 5",
      "q inside the window (kappa_1, 1 - kappa_2): 4; of those inside the interval: 3",
    ]);
    expect(s.text).toMatch(/\n {2}outside: cell 1 a_T = 0\.900000 /);
    const d = s.data as { applicable: number; held: number; inWindow: number; heldInWindow: number };
    expect(s.table!.rows.map((r) => r.map(value))).toEqual([
      ["audited", d.applicable, 6],
      ["a_T inside [L - m_T, U + m_T]", d.held, d.applicable],
      ["q inside the window (kappa_1, 1 - kappa_2)", d.inWindow, d.applicable],
      ["q inside the window, a_T inside the interval", d.heldInWindow, d.inWindow],
    ]);
  });

  it("draws each audited landscape's a_T at its place in the interval, 0 at the lower end and 1 at the upper, coloured by the audit's verdict", () => {
    const chart = summarize("lemma35", rows).chart as { layer: { data: { values: Record<string, unknown>[] } }[] };
    expect(chart).toBeDefined();
    const points = chart.layer[1].data.values;
    expect(points.map((p) => p.cell)).toEqual([0, 1, 2, 5]);
    expect(points[0].position).toBeCloseTo(0.5, 12);
    expect(points[0].verdict).toBe("inside");
    // (0.9 - 0.2) / 0.2 = 3.5, drawn at the edge of the plot.
    expect(points[1].position).toBe(2);
    expect(points[1].verdict).toBe("outside");
    expect(points[2]).toEqual({ cell: 2, position: 0.5, verdict: "inside" });
    expect(points[3]).toEqual({ cell: 5, position: 2, verdict: "outside" });
    expect(chart.layer[0].data.values).toEqual([{ end: 0 }, { end: 1 }]);
  });

  it("no audited landscape: no figure", () => {
    expect(summarize("lemma35", [rows[4]]).chart).toBeUndefined();
  });
});
