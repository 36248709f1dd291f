// Sweep presets reproducing the paper (issue 4, point 7): `plurisim sweep <name>`. Each is a
// sweep document in the file form of docs/sweep.md, validated like any file.
import { PlurisimError } from "../core/errors.js";

export interface SweepPreset {
  description: string;
  sweep: Record<string, unknown>;
}

const quadratic = (center: number) => ({ kind: "quadratic", center, scale: 1 });

/** The two-basin landscape of MODEL.md section 5: 3001 cells on [-12, 12], r_1 = -(x + D/2)^2, r_2 = -(x - D/2)^2. */
const twoBasins = {
  space: { kind: "grid1d", min: -12, max: 12, cells: 3001 },
  initial: { kind: "uniform" },
  groups: [
    { name: "g1", weight: 0.5, reward: quadratic(-0.5) },
    { name: "g2", weight: 0.5, reward: quadratic(0.5) },
  ],
  curation: { K: "inf", temperature: 1, mixing: "per-sample" },
  generations: 400,
  record: { every: 400 },
  basinEpsilon: 0.1,
  seed: 1,
};

/** Basin distances D of the Table 5 analogue. */
export const TABLE5_D = [1, 2, 3, 5];

/** The worked finite-K example of MODEL.md section 4: x = linspace(-3, 3, 12), p_0 ~ exp(-x^2/2). */
const twelve = Array.from({ length: 12 }, (_, k) => -3 + (6 * k) / 11);

export const sweepPresets: Record<string, SweepPreset> = {
  table5: {
    description:
      "Table 5 analogue (MODEL.md section 5): basin mass a_400 of group 1 against q = 0.1..0.9 for D in {1, 2, 3, 5}; prints the mean over q of (a_400 - q)^2 per D.",
    sweep: {
      name: "table5",
      summary: "table5",
      base: twoBasins,
      axes: { "groups[0].weight": { linspace: [0.1, 0.9, 9] } },
      zip: [{ "groups[0].reward.center": TABLE5_D.map((D) => -D / 2), "groups[1].reward.center": TABLE5_D.map((D) => D / 2) }],
      derived: { "groups[1].weight": "1 - groups[0].weight" },
      seed: 5,
      keep: { final: true, metrics: ["basinMass", "outsideMass", "nashGap"] },
    },
  },
  lemma35: {
    description:
      "The Lemma 3.5 interval [L - m_T, U + m_T] checked by the audit over 180 two-basin landscapes (D x tau x width of r_2 x q).",
    sweep: {
      name: "lemma35",
      summary: "lemma35",
      base: twoBasins,
      axes: {
        "curation.temperature": [0.5, 1, 2],
        "groups[1].reward.scale": [0.5, 1, 2],
        "groups[0].weight": [0.1, 0.3, 0.5, 0.7, 0.9],
      },
      zip: [{ "groups[0].reward.center": [-0.75, -1, -1.5, -2], "groups[1].reward.center": [0.75, 1, 1.5, 2] }],
      derived: { "groups[1].weight": "1 - groups[0].weight" },
      seed: 35,
      keep: { final: true, audit: true, metrics: ["basinMass", "outsideMass"] },
    },
  },
  "k-phase": {
    description:
      "K x q phase diagram on the 12-atom example of MODEL.md section 4: where the finite-K limit keeps both basins and where it settles on compromise atoms (outside mass).",
    sweep: {
      name: "k-phase",
      summary: "k-phase",
      base: {
        space: { kind: "atoms", count: 12, coords: twelve },
        initial: { kind: "vector", values: twelve.map((x) => Math.exp(-(x * x) / 2)) },
        groups: [
          { name: "right", weight: 0.5, reward: { kind: "formula", expr: "-(x - 2)^2" } },
          { name: "left", weight: 0.5, reward: { kind: "formula", expr: "-(x + 2)^2" } },
        ],
        curation: { K: 2, temperature: 1 },
        generations: 2000,
        record: { every: 2000 },
        normalize: true,
        seed: 1,
      },
      axes: {
        "curation.K": [2, 3, 4, 6, 8, 12, 16, 32, "inf"],
        "groups[0].weight": { linspace: [0.1, 0.9, 9] },
      },
      derived: { "groups[1].weight": "1 - groups[0].weight" },
      seed: 11,
      keep: { final: true, metrics: ["basinMass", "outsideMass", "entropy", "nashGap"] },
    },
  },
};

/** A fresh copy of a sweep preset's document; throws INVALID_SWEEP listing the presets. */
export function sweepPresetDocument(name: string): Record<string, unknown> {
  const p = Object.hasOwn(sweepPresets, name) ? sweepPresets[name] : undefined;
  if (!p) {
    throw new PlurisimError("INVALID_SWEEP", `unknown sweep preset "${name}" (and no such file); the sweep presets are: ${Object.keys(sweepPresets).join(", ")}`, {
      field: "sweep",
      value: name,
    });
  }
  return structuredClone(p.sweep);
}
