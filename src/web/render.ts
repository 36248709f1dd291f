// Draws the chart specs of src/core/charts.ts in the page with vega (SVG renderer), and turns a
// drawn chart into SVG text or a PNG data URL for export.
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { ChartSpec } from "../core/charts.js";

const views = new WeakMap<HTMLElement, vega.View>();

/** Replaces the chart in `el` with a fresh view of `spec`. */
export async function draw(el: HTMLElement, spec: ChartSpec): Promise<vega.View> {
  views.get(el)?.finalize();
  // A ChartSpec is Vega-Lite JSON built as plain objects; vega-lite checks it as it compiles.
  const view = new vega.View(vega.parse(compile(spec as unknown as TopLevelSpec).spec), { renderer: "svg", container: el, hover: true });
  views.set(el, view);
  await view.runAsync();
  return view;
}

/**
 * A drawing queue where the latest request wins: while one drawing runs, later requests replace
 * each other and the last one is drawn next; none queue up behind it.
 */
export function latestWins(): (paint: () => Promise<unknown>) => Promise<void> {
  let drawing = false;
  let next: (() => Promise<unknown>) | null = null;
  return async (paint) => {
    next = paint;
    if (drawing) return;
    drawing = true;
    try {
      while (next) {
        const job = next;
        next = null;
        await job();
      }
    } finally {
      drawing = false;
    }
  };
}

/** The view drawn in `el`, if any. */
export function viewOf(el: HTMLElement): vega.View | undefined {
  return views.get(el);
}

/** Saves a blob under a file name through a temporary link. */
export function download(name: string, data: Blob | string): void {
  const a = document.createElement("a");
  const url = typeof data === "string" ? data : URL.createObjectURL(data);
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  if (typeof data !== "string") setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Exports the chart in `el` as SVG or PNG. */
export async function exportChart(el: HTMLElement, name: string, format: "svg" | "png"): Promise<void> {
  const view = views.get(el);
  if (!view) return;
  if (format === "svg") download(`${name}.svg`, new Blob([await view.toSVG()], { type: "image/svg+xml" }));
  else download(`${name}.png`, await view.toImageURL("png", 2));
}
