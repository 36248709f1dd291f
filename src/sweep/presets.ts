// Sweep presets reproducing the paper: `plurisim sweep <name>`. Each is a
// sweep document in the file form of docs/sweep.md, validated like any file.
import { PlurisimError } from "../core/errors.js";
import { twelveAtoms, twoWells } from "../core/presets.js";

export interface SweepPreset {
  description: string;
  sweep: Record<string, unknown>;
}

/** The two-basin landscape of docs/model.md, section 5, recorded only at the end (the wells are set by the axes). */
const twoBasins = twoWells([-0.5, 0.5], 0.5, { record: { every: 400 } });

/** Basin distances D of the Table 5 analogue. */
export const TABLE5_D = [1, 2, 3, 5];

export const sweepPresets: Record<string, SweepPreset> = {
  table5: {
    description:
      "Table 5 analogue (docs/model.md, section 5): basin mass a_400 of group 1 against q = 0.1..0.9 for D in {1, 2, 3, 5}; prints the mean over q of (a_400 - q)^2 per D.",
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
      "K x q phase diagram on the 12-atom example of docs/model.md, section 4: where the finite-K limit keeps both basins and where it settles on compromise atoms (outside mass).",
    sweep: {
      name: "k-phase",
      summary: "k-phase",
      base: twelveAtoms(2, { record: { every: 2000 } }),
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
