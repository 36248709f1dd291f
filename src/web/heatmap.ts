// The sweep heat map on a canvas: one pixel per cell in an offscreen image, scaled to the panel,
// so 10,000 or 1,000,000 cells cost one drawImage instead of as many SVG nodes; labels thinned
// to what fits; never wider than its container. The same layout also writes an SVG for export.
import { formatNumber } from "../core/number-format.js";
import { viridis, VIRIDIS } from "../core/png.js";
import type { Grid } from "./sweep-grid.js";

const FAILED: [number, number, number] = [153, 153, 153];
const PENDING = "#f1f1f1";
const FONT = '11px "DejaVu Sans", Helvetica, Arial, sans-serif';
const TEXT = "#333";

/** A legend or tooltip value: four significant digits, exponent form below 1e-3 and from 1e5. */
export function formatValue(v: number): string {
  return formatNumber(v, { large: 1e5, exponentDigits: 2 });
}

interface PanelBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Where everything goes for a given width: panels, their plot areas, the legend. */
export interface Layout {
  width: number;
  height: number;
  boxes: PanelBox[];
  /** Every `xStep`-th x label and `yStep`-th y label is written. */
  xStep: number;
  yStep: number;
  yLabelWidth: number;
  legend: PanelBox;
}

type Measure = (text: string) => number;

/** Lays the grid out in `width` pixels: facet panels in columns that fit, square-ish cells, a legend underneath. */
export function layout(grid: Grid, width: number, measure: Measure): Layout {
  const w = Math.max(160, Math.floor(width));
  const nx = grid.xLabels.length || 1;
  const ny = grid.yLabels.length || 1;
  const nPanels = grid.panels.length;
  const cols = Math.max(1, Math.min(nPanels, Math.floor(w / 190)));
  const yLabelWidth = grid.yPath ? Math.min(70, Math.max(...grid.yLabels.slice(0, 200).map(measure), 10)) : 0;
  const left = grid.yPath ? yLabelWidth + 22 : 6;
  const panelW = Math.floor(w / cols);
  const plotW = Math.max(40, panelW - left - 8);
  const plotH = grid.yPath ? Math.round(Math.min(420, Math.max(80, (plotW * ny) / nx, Math.min(ny * 14, 420)))) : 36;
  const facetH = grid.facetPath ? 16 : 4;
  const below = 34;
  const boxes: PanelBox[] = [];
  for (let k = 0; k < nPanels; k++) {
    const c = k % cols;
    const r = Math.floor(k / cols);
    boxes.push({ left: c * panelW + left, top: r * (facetH + plotH + below) + facetH, width: plotW, height: plotH });
  }
  const rows = Math.ceil(nPanels / cols);
  const legendTop = rows * (facetH + plotH + below) + 4;
  const xLabelWidth = Math.max(...grid.xLabels.slice(0, 400).map(measure), 8) + 8;
  return {
    width: w,
    height: legendTop + 34,
    boxes,
    xStep: Math.max(1, Math.ceil((nx * xLabelWidth) / plotW)),
    yStep: Math.max(1, Math.ceil((ny * 13) / plotH)),
    yLabelWidth,
    legend: { left, top: legendTop, width: Math.min(plotW, 260), height: 10 },
  };
}

function color(grid: Grid, v: number): [number, number, number] {
  const span = grid.max - grid.min;
  return viridis(span > 0 ? (v - grid.min) / span : 0.5);
}

function clip(text: string, max: number, measure: Measure): string {
  if (measure(text) <= max) return text;
  let t = text;
  while (t.length > 1 && measure(`${t}...`) > max) t = t.slice(0, -1);
  return `${t}...`;
}

/** A panel's heading, `path = value`: when narrow, the path shortens to its last segment, then is cut; the value always shows. */
function facetText(path: string, value: string, max: number, measure: Measure): string {
  const full = `${path} = ${value}`;
  if (measure(full) <= max) return full;
  const short = `${path.split(/[.[]/).pop()!.replace(/\]$/, "")} = ${value}`;
  if (measure(short) <= max) return short;
  return measure(value) <= max ? value : clip(value, max, measure);
}

const layouts = new WeakMap<HTMLCanvasElement, { x: string[]; y: string[]; panels: number; width: number; L: Layout }>();

/** Widths of texts in FONT, measured once: a redraw while rows arrive writes the same labels again. */
const widths = new Map<string, number>();
const WIDTHS_KEPT = 20_000;

/** The offscreen image the cells are painted into, one pixel per cell, kept between redraws. */
let cellImage: { canvas: HTMLCanvasElement; pixels: ImageData } | null = null;

function cellPixels(nx: number, ny: number): { canvas: HTMLCanvasElement; pixels: ImageData } {
  const w = Math.max(1, nx);
  const h = Math.max(1, ny);
  if (cellImage?.canvas.width !== w || cellImage.canvas.height !== h) {
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    cellImage = { canvas, pixels: canvas.getContext("2d")!.createImageData(w, h) };
  }
  return cellImage;
}

/** Draws the grid into `canvas`, sized to `width` CSS pixels; returns the layout (for hover look-ups). */
export function drawHeatmap(canvas: HTMLCanvasElement, grid: Grid, width: number): Layout {
  const ctx0 = canvas.getContext("2d")!;
  ctx0.font = FONT;
  const measure: Measure = (t) => {
    let w = widths.get(t);
    if (w === undefined) {
      if (widths.size >= WIDTHS_KEPT) widths.clear();
      w = ctx0.measureText(t).width;
      widths.set(t, w);
    }
    return w;
  };
  // Measuring every label costs more than drawing the cells: reuse the layout while the labels,
  // panels and width are the same (the grid keeps its label arrays until a value is added).
  const memo = layouts.get(canvas);
  let L: Layout;
  if (memo && memo.x === grid.xLabels && memo.y === grid.yLabels && memo.panels === grid.panels.length && memo.width === width) L = memo.L;
  else {
    L = layout(grid, width, measure);
    layouts.set(canvas, { x: grid.xLabels, y: grid.yLabels, panels: grid.panels.length, width, L });
  }
  const dpr = Math.min(2, globalThis.devicePixelRatio || 1);
  // Resizing a canvas reallocates it: only when the layout changed.
  const w = Math.round(L.width * dpr);
  const h = Math.round(L.height * dpr);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
    canvas.style.width = `${L.width}px`;
    canvas.style.height = `${L.height}px`;
  }
  const ctx = canvas.getContext("2d")!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, L.width, L.height);
  ctx.font = FONT;
  const nx = grid.xLabels.length;
  const ny = grid.yLabels.length;
  const { canvas: image, pixels } = cellPixels(nx, ny);
  const ictx = image.getContext("2d")!;
  const d = pixels.data;
  grid.panels.forEach((panel, k) => {
    const box = L.boxes[k];
    d.fill(0);
    for (let at = 0; at < nx * ny; at++) {
      const v = panel.values[at];
      let rgb: [number, number, number] | null = null;
      if (!Number.isNaN(v)) rgb = color(grid, v);
      else if (panel.failed[at]) rgb = FAILED;
      if (!rgb) continue;
      d[4 * at] = rgb[0];
      d[4 * at + 1] = rgb[1];
      d[4 * at + 2] = rgb[2];
      d[4 * at + 3] = 255;
    }
    ictx.putImageData(pixels, 0, 0);
    ctx.fillStyle = PENDING;
    ctx.fillRect(box.left, box.top, box.width, box.height);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(image, box.left, box.top, box.width, box.height);
    ctx.strokeStyle = "#bbb";
    ctx.strokeRect(box.left - 0.5, box.top - 0.5, box.width + 1, box.height + 1);
    ctx.fillStyle = TEXT;
    if (panel.label !== null) {
      ctx.textAlign = "left";
      ctx.textBaseline = "bottom";
      ctx.fillText(facetText(grid.facetPath!, panel.label, box.width, measure), box.left, box.top - 2);
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const cw = box.width / Math.max(1, nx);
    for (let i = 0; i < nx; i += L.xStep) ctx.fillText(grid.xLabels[i], box.left + (i + 0.5) * cw, box.top + box.height + 3);
    ctx.fillText(clip(grid.xPath, box.width, measure), box.left + box.width / 2, box.top + box.height + 18);
    if (grid.yPath) {
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      const ch = box.height / Math.max(1, ny);
      for (let j = 0; j < ny; j += L.yStep) ctx.fillText(clip(grid.yLabels[j], L.yLabelWidth, measure), box.left - 4, box.top + (j + 0.5) * ch);
      ctx.save();
      ctx.translate(box.left - L.yLabelWidth - 10, box.top + box.height / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "center";
      ctx.fillText(clip(grid.yPath, box.height, measure), 0, 0);
      ctx.restore();
    }
  });
  const lg = L.legend;
  const steps = 64;
  for (let s = 0; s < steps; s++) {
    const [r, g, b] = viridis(s / (steps - 1));
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(lg.left + (s * lg.width) / steps, lg.top, lg.width / steps + 0.5, lg.height);
  }
  ctx.fillStyle = TEXT;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  const hasRange = Number.isFinite(grid.min);
  ctx.fillText(hasRange ? formatValue(grid.min) : "", lg.left, lg.top + lg.height + 3);
  ctx.textAlign = "right";
  ctx.fillText(hasRange ? formatValue(grid.max) : "", lg.left + lg.width, lg.top + lg.height + 3);
  ctx.textAlign = "left";
  ctx.fillText(clip(`${grid.metric}; grey: failed`, Math.max(60, L.width - lg.left - lg.width - 12), measure), lg.left + lg.width + 8, lg.top);
  return L;
}

/** The cell under a point of the canvas (CSS pixels): panel, x and y indices. */
export function cellAtPoint(L: Layout, grid: Grid, px: number, py: number): { panel: number; i: number; j: number } | null {
  for (let k = 0; k < L.boxes.length; k++) {
    const b = L.boxes[k];
    if (px < b.left || py < b.top || px >= b.left + b.width || py >= b.top + b.height) continue;
    const i = Math.floor(((px - b.left) / b.width) * grid.xLabels.length);
    const j = Math.floor(((py - b.top) / b.height) * grid.yLabels.length);
    return { panel: k, i, j };
  }
  return null;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The same picture as SVG text (one rect per drawn cell), with the title on top. */
export function heatmapSvg(grid: Grid, width: number, measure: Measure = (t) => t.length * 6.2): string {
  const L = layout(grid, width, measure);
  const top = 22;
  const out: string[] = [];
  const text = (x: number, y: number, s: string, anchor = "middle", extra = "") =>
    out.push(`<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" text-anchor="${anchor}"${extra}>${esc(s)}</text>`);
  const nx = grid.xLabels.length;
  const ny = grid.yLabels.length;
  text(4, 15, grid.title, "start", ' font-weight="bold"');
  grid.panels.forEach((panel, k) => {
    const b = { ...L.boxes[k], top: L.boxes[k].top + top };
    const cw = b.width / Math.max(1, nx);
    const ch = b.height / Math.max(1, ny);
    out.push(`<rect x="${b.left}" y="${b.top}" width="${b.width}" height="${b.height}" fill="${PENDING}" stroke="#bbb"/>`);
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const at = j * nx + i;
        const v = panel.values[at];
        const rgb = !Number.isNaN(v) ? color(grid, v) : panel.failed[at] ? FAILED : null;
        if (!rgb) continue;
        out.push(`<rect x="${(b.left + i * cw).toFixed(2)}" y="${(b.top + j * ch).toFixed(2)}" width="${cw.toFixed(2)}" height="${ch.toFixed(2)}" fill="rgb(${rgb.join(",")})"/>`);
      }
    }
    if (panel.label !== null) text(b.left, b.top - 3, facetText(grid.facetPath!, panel.label, b.width, measure), "start");
    for (let i = 0; i < nx; i += L.xStep) text(b.left + (i + 0.5) * cw, b.top + b.height + 13, grid.xLabels[i]);
    text(b.left + b.width / 2, b.top + b.height + 28, grid.xPath);
    if (grid.yPath) {
      for (let j = 0; j < ny; j += L.yStep) text(b.left - 4, b.top + (j + 0.5) * ch + 4, grid.yLabels[j], "end");
      const cx = b.left - L.yLabelWidth - 10;
      const cy = b.top + b.height / 2;
      text(cx, cy, grid.yPath, "middle", ` transform="rotate(-90 ${cx.toFixed(1)} ${cy.toFixed(1)})"`);
    }
  });
  const lg = { ...L.legend, top: L.legend.top + top };
  const stops = VIRIDIS.map((c, i) => `<stop offset="${(i / (VIRIDIS.length - 1)).toFixed(3)}" stop-color="${c}"/>`).join("");
  out.push(`<defs><linearGradient id="viridis">${stops}</linearGradient></defs>`);
  out.push(`<rect x="${lg.left}" y="${lg.top}" width="${lg.width}" height="${lg.height}" fill="url(#viridis)"/>`);
  if (Number.isFinite(grid.min)) {
    text(lg.left, lg.top + 22, formatValue(grid.min), "start");
    text(lg.left + lg.width, lg.top + 22, formatValue(grid.max), "end");
  }
  text(lg.left + lg.width + 8, lg.top + 9, `${grid.metric}; grey: failed`, "start");
  const h = L.height + top;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${h}" viewBox="0 0 ${L.width} ${h}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11" fill="${TEXT}"><rect width="100%" height="100%" fill="white"/>${out.join("")}</svg>`;
}
