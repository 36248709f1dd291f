// Node's renderer for the chart specs of src/core: vega headless (renderer "none") writes SVG,
// @resvg/resvg-js turns it into PNG with the system fonts.
import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import type { ChartSpec } from "../core/charts.js";
import { formatValue, PlurisimError } from "../core/errors.js";
import { writeFileAtomic } from "./files.js";

/** SVG text of a Vega-Lite spec, rendered headless. */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  // vega is loaded on first use: the CLI's other commands start without its hundreds of modules.
  const [vega, { compile }] = await Promise.all([import("vega"), import("vega-lite")]);
  // A ChartSpec is Vega-Lite JSON built as plain objects; vega-lite checks it as it compiles.
  const view = new vega.View(vega.parse(compile(spec as unknown as TopLevelSpec).spec), { renderer: "none" });
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
    throw new PlurisimError("INVALID_SCENARIO", `--out must end in ${list} (got ${formatValue(out)})`, { field: "out", value: out });
  }
  const dir = dirname(resolve(out));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    throw new PlurisimError("FILE", `--out ${formatValue(out)}: the directory ${formatValue(dir)} does not exist or is not a directory (create it first)`, { field: "out", value: out });
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
  await writeFileAtomic(out, out.toLowerCase().endsWith(".png") ? await renderPng(svg) : svg);
}
