// The learned velocity field of a flow run (docs/flow.md), sampled for drawing. The worker
// samples v(x, t) on a fixed set of points at every recorded generation (the engine's onRecord
// hands it the field only while that generation's weights are in place); the page draws it as
// arrows over the 2-D heat map of p_t, or as a curve v(x) under the 1-D density. No DOM here.
import { formatNumber } from "../core/number-format.js";
import type { ChartSpec } from "../core/charts.js";
import { geometryOf } from "../core/retrain/common.js";
import type { Problem } from "../core/types.js";

/**
 * The time at which the field is sampled: the middle of the path from the N(0, I) source
 * (t = 0) to the model's samples (t = 1), where v carries the noise halfway towards the data.
 * Near t = 0 the field is close to one mean displacement; near t = 1 it points into the modes.
 */
export const FIELD_T = 0.5;
/** Points per axis on a 2-D grid: 16 x 16 arrows. */
export const FIELD_GRID_2D = 16;
/** Points along a 1-D grid. */
export const FIELD_POINTS_1D = 64;
/** The longest arrow spans this fraction of the spacing between arrows, so no two overlap. */
const ARROW_FILL = 0.85;

/** The field of one generation at the points fieldPoints(box, shape) lists. */
export interface FieldSample {
  generation: number;
  t: number;
  dim: 1 | 2;
  /** The space's box as the network sees it: lo0, hi0, lo1, hi1 (lo1 = hi1 = 0 in 1-D). */
  box: number[];
  /** Points per axis: [64] or [16, 16]. */
  shape: number[];
  /** dx/dt at each point, in the space's units per unit t (x, y interleaved in 2-D). */
  v: Float64Array;
}

/** The sample points: centres of shape[0] (x shape[1]) equal cells of the box; in 2-D x-major, (x, y) interleaved. */
export function fieldPoints(box: readonly number[], shape: readonly number[]): Float64Array {
  const centre = (lo: number, hi: number, k: number, count: number) => lo + ((k + 0.5) * (hi - lo)) / count;
  if (shape.length === 1) return Float64Array.from({ length: shape[0] }, (_, i) => centre(box[0], box[1], i, shape[0]));
  const [nx, ny] = shape;
  const out = new Float64Array(2 * nx * ny);
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) {
      out[2 * (i * ny + j)] = centre(box[0], box[1], i, nx);
      out[2 * (i * ny + j) + 1] = centre(box[2], box[3], j, ny);
    }
  }
  return out;
}

/**
 * Samples `field` (onRecord's third argument) at FIELD_T for the grid of `problem`; null on a
 * space the flow model does not run on. Generation 0 is p_0, drawn before any training, so
 * callers skip it: its network is the random initialisation.
 */
export function sampleField(problem: Problem, generation: number, field: (points: Float64Array, t: number) => Float64Array): FieldSample | null {
  const dim = problem.dim;
  if (!((dim === 1 && problem.cellWidth !== null) || (dim === 2 && problem.gridShape !== null))) return null;
  const box = [...geometryOf(problem).box];
  const shape = dim === 1 ? [FIELD_POINTS_1D] : [FIELD_GRID_2D, FIELD_GRID_2D];
  return { generation, t: FIELD_T, dim, box, shape, v: field(fieldPoints(box, shape), FIELD_T) };
}

/** One line segment of an arrow, in data coordinates. */
interface Segment {
  x: number;
  y: number;
  x2: number;
  y2: number;
}

/**
 * Arrows of a 2-D sample for a plot of width x height pixels over its box: each centred on its
 * point (so it stays inside its cell of the sampling grid), lengths proportional to |v| with
 * the longest at 0.85 of the spacing, a two-stroke head at the tip. Lengths and heads are
 * worked out in pixels, so a box that is not square still shows the field's true directions.
 */
export function fieldArrows(sample: FieldSample, width: number, height: number): { segments: Segment[]; longest: number } {
  const [x0, x1, y0, y1] = sample.box;
  const [nx, ny] = sample.shape;
  const kx = width / (x1 - x0);
  const ky = height / (y1 - y0);
  const points = fieldPoints(sample.box, sample.shape);
  const count = nx * ny;
  let maxPx = 0;
  let longest = 0;
  for (let k = 0; k < count; k++) {
    const vx = sample.v[2 * k];
    const vy = sample.v[2 * k + 1];
    maxPx = Math.max(maxPx, Math.hypot(vx * kx, vy * ky));
    longest = Math.max(longest, Math.hypot(vx, vy));
  }
  const segments: Segment[] = [];
  if (!(maxPx > 0) || !Number.isFinite(maxPx)) return { segments, longest };
  const s = (ARROW_FILL * Math.min(width / nx, height / ny)) / maxPx;
  const head = Math.PI / 7;
  for (let k = 0; k < count; k++) {
    // The arrow in pixels (y up, as the data's axis), centred on its point.
    const ax = s * sample.v[2 * k] * kx;
    const ay = s * sample.v[2 * k + 1] * ky;
    const len = Math.hypot(ax, ay);
    if (len < 0.5) continue;
    const px = points[2 * k];
    const py = points[2 * k + 1];
    const tip = { x: px + ax / 2 / kx, y: py + ay / 2 / ky };
    segments.push({ x: px - ax / 2 / kx, y: py - ay / 2 / ky, x2: tip.x, y2: tip.y });
    const h = Math.min(0.4 * len, 6);
    const back = Math.atan2(-ay, -ax);
    for (const turn of [head, -head]) {
      segments.push({ x: tip.x, y: tip.y, x2: tip.x + (h * Math.cos(back + turn)) / kx, y2: tip.y + (h * Math.sin(back + turn)) / ky });
    }
  }
  return { segments, longest };
}

/** The legend of the arrows, in two lines (a long line would widen the figure): what they are, when, and how long the longest is. */
export function fieldLegend(sample: FieldSample, longest: number): string[] {
  const [nx, ny] = sample.shape;
  return [
    `arrows: the network's learned velocity v(x, t = ${sample.t}) at generation ${sample.generation},`,
    `dx/dt at ${nx} x ${ny} points, centred on each, length proportional to |v| (longest ${formatSpeed(longest)} per unit t)`,
  ];
}

const formatSpeed = (v: number) => formatNumber(v, { digits: 3, large: 1e5, exponentDigits: 2 });

/**
 * The 2-D heat map `spec` (charts.ts distributionSpec) with the field's arrows over it and a
 * legend line as its subtitle; with `note` instead of a sample, only that line (a generation
 * with no sampled field).
 */
export function withFieldArrows(spec: ChartSpec, sample: FieldSample | null, note?: string): ChartSpec {
  const title = spec.title as string | undefined;
  if (!sample) return note ? { ...spec, title: { text: title ?? "", subtitle: note } } : spec;
  const { segments, longest } = fieldArrows(sample, spec.width as number, spec.height as number);
  const encoding = { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" }, x2: { field: "x2" }, y2: { field: "y2" } };
  // A dark halo under a white stroke: visible on every colour of viridis. No per-item ARIA: hundreds of segments.
  const arrows: ChartSpec = {
    name: "field_arrows",
    data: { values: segments },
    layer: [
      { mark: { type: "rule", color: "#000", opacity: 0.55, strokeWidth: 2.6, strokeCap: "round", aria: false }, encoding },
      { mark: { type: "rule", color: "#fff", strokeWidth: 1.1, strokeCap: "round", aria: false }, encoding },
    ],
  };
  return { ...spec, title: { text: title ?? "", subtitle: fieldLegend(sample, longest) }, layer: [...(spec.layer as ChartSpec[]), arrows] };
}

/** A small chart of v(x, t) along a 1-D grid, for under the density. */
export function fieldCurveSpec(sample: FieldSample, config: Record<string, unknown> = {}): ChartSpec {
  const xs = fieldPoints(sample.box, sample.shape);
  const values = Array.from(xs, (x, i) => ({ x, v: Number.isFinite(sample.v[i]) ? sample.v[i] : null }));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config,
    title: {
      text: `learned velocity v(x, t = ${sample.t}) at generation ${sample.generation}`,
      subtitle: `dx/dt of the network's flow at ${sample.shape[0]} points: where v > 0 mass moves right, where v < 0 left`,
    },
    width: 560,
    height: 110,
    layer: [
      { data: { values: [{ zero: 0 }] }, mark: { type: "rule", color: "#999", strokeDash: [3, 3] }, encoding: { y: { field: "zero", type: "quantitative" } } },
      {
        data: { values },
        mark: { type: "line", color: "#ff7f0e", strokeWidth: 1.6 },
        encoding: {
          x: { field: "x", type: "quantitative", title: "x", scale: { domain: [sample.box[0], sample.box[1]], nice: false } },
          y: { field: "v", type: "quantitative", title: "v(x, t)" },
        },
      },
    ],
  };
}

/** The field sampled at a frame's generation, if any; a note for the legend when a flow run has none there. */
export function fieldAt(fields: readonly FieldSample[], generation: number): { sample: FieldSample | null; note?: string } {
  const sample = fields.find((f) => f.generation === generation) ?? null;
  if (sample || fields.length === 0) return { sample };
  return { sample, note: generation === 0 ? "no learned field at generation 0: p_0 comes before any training" : `no learned field at generation ${generation}: it is sampled at the recorded generations` };
}

