// The preset summary of a sweep under its figure: the Table 5 analogue, the K x q phase diagram
// or the Lemma 3.5 counts, as `plurisim summarize` prints them and `plurisim report` shows them,
// from the same functions (src/sweep/summary.ts). Its table becomes an HTML table and its figure
// is drawn with vega. Text from the rows reaches the page as textContent only.
import { isPlurisimError } from "../core/errors.js";
import { summaries, summarize, type Summary, type SummaryCell, type SummaryTable } from "../sweep/summary.js";
import type { Row } from "../sweep/task.js";
import { draw, latestWins } from "./render.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** The summary the page shows for a sweep that names `name`: a preset summary, not the plain cell counts the status line already gives. */
export function pageSummaryName(name: string | undefined): string | undefined {
  return name !== undefined && name !== "counts" && Object.hasOwn(summaries, name) ? name : undefined;
}

/** The largest figure spec (JSON characters) the page draws: vega's SVG of a bigger one (a point per cell of a large sweep) stalls the page. */
const MAX_CHART_JSON = 2_000_000;

const requestChart = latestWins();
let chartRequests = 0;
/** The spec on show, as JSON: an unchanged figure is not drawn again. */
let chartJson = "";

/** Hides the summary (a sweep that names none, or a new sweep starting). */
export function hideSummary(): void {
  const section = $("sweep-summary");
  section.hidden = true;
  section.dataset.state = "";
  chartJson = "";
}

/**
 * Shows the summary `name` of the rows so far (in cell order), `total` cells in all. Rows the
 * summary cannot read (a swept parameter it needs is missing, a row without params) give its
 * refusal, as the CLI words it, instead of a table. data-state turns "drawn" once the figure
 * asked for last is on show.
 */
export function showSummary(name: string, rows: readonly Row[], total: number): void {
  const section = $("sweep-summary");
  const note = $("sweep-summary-note");
  const table = $<HTMLTableElement>("sweep-summary-table");
  const chart = $("sweep-summary-chart");
  section.hidden = false;
  $("sweep-summary-caption").textContent = rows.length < total ? `from the ${rows.length} of ${total} cells done so far` : `from all ${total} cells`;
  let summary: Summary;
  try {
    summary = summarize(name, rows);
  } catch (e) {
    if (!isPlurisimError(e)) throw e;
    $("sweep-summary-title").textContent = `No ${name} summary`;
    note.textContent = e.message;
    note.hidden = false;
    table.replaceChildren();
    chart.hidden = true;
    chartJson = "";
    section.dataset.state = "drawn";
    return;
  }
  $("sweep-summary-title").textContent = summary.title;
  note.hidden = true;
  fillTable(table, summary.table);
  if (!summary.chart) {
    chart.hidden = true;
    chartJson = "";
    section.dataset.state = "drawn";
    return;
  }
  const json = JSON.stringify(summary.chart);
  if (json.length > MAX_CHART_JSON) {
    chart.hidden = true;
    chartJson = "";
    note.textContent = `The summary's figure is too large to draw here (${(json.length / 1e6).toFixed(1)} MB of data); plurisim report draws it.`;
    note.hidden = false;
    section.dataset.state = "drawn";
    return;
  }
  chart.hidden = false;
  if (json === chartJson) return;
  chartJson = json;
  const spec = summary.chart;
  const ticket = ++chartRequests;
  section.dataset.state = "drawing";
  void requestChart(async () => {
    try {
      // vega names its container with the spec's description: the summary's title, for screen readers.
      await draw(chart, { ...spec, description: summary.title });
      if (ticket === chartRequests) section.dataset.state = "drawn";
    } catch (e) {
      section.dataset.state = "failed";
      note.textContent = `the summary's figure could not be drawn: ${(e as Error).message}`;
      note.hidden = false;
    }
  });
}

/** The summary's table: a header row, then one row per line of the printed table; numbers keep their full value in data-value. */
function fillTable(table: HTMLTableElement, cells: SummaryTable | undefined): void {
  if (!cells) return void table.replaceChildren();
  const head = document.createElement("thead");
  const tr = document.createElement("tr");
  for (const h of cells.head) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    tr.append(th);
  }
  head.append(tr);
  const body = document.createElement("tbody");
  for (const row of cells.rows) {
    const r = document.createElement("tr");
    row.forEach((c, j) => r.append(cellElement(c, j === 0)));
    body.append(r);
  }
  table.replaceChildren(head, body);
}

function cellElement(c: SummaryCell, rowHeader: boolean): HTMLTableCellElement {
  const td = rowHeader ? document.createElement("th") : document.createElement("td");
  if (rowHeader) td.scope = "row";
  if (typeof c === "string") {
    td.textContent = c;
    return td;
  }
  td.textContent = c.text;
  td.dataset.value = String(c.value);
  if (c.text !== String(c.value)) td.title = String(c.value);
  return td;
}
