// Built-in scenarios: `plurisim run <preset>` and the web page's picker. Each is a plain
// scenario document (docs/scenario.md), validated like any file.
import { PlurisimError } from "./errors.js";

export interface Preset {
  description: string;
  scenario: Record<string, unknown>;
}

const grid = { kind: "grid1d", min: -12, max: 12, cells: 3001 } as const;
const quadratic = (center: number) => ({ kind: "quadratic", center, scale: 1 });

/**
 * Two quadratic wells r_i = -(x - c_i)^2 on the 3001-cell grid of [-12, 12], uniform p_0,
 * K = infinity, tau = 1, 400 generations: the landscape of docs/model.md, section 5 (with centres
 * -D/2 and D/2). Shared by the run presets and the sweep presets.
 */
export function twoWells(centres: [number, number], q: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    space: grid,
    initial: { kind: "uniform" },
    groups: [
      { name: "left", weight: q, reward: quadratic(centres[0]) },
      { name: "right", weight: 1 - q, reward: quadratic(centres[1]) },
    ],
    curation: { K: "inf", temperature: 1, mixing: "per-sample" },
    generations: 400,
    record: { every: 10 },
    basinEpsilon: 0.1,
    seed: 1,
    ...overrides,
  };
}

/**
 * The worked finite-K example of docs/model.md, section 4: 12 atoms at x = linspace(-3, 3, 12),
 * r_1 = -(x - 2)^2, r_2 = -(x + 2)^2, q = (1/2, 1/2), p_0 proportional to exp(-x^2/2) (a
 * Gaussian evaluated at the coordinates, so no host Math.exp is involved), tau = 1.
 */
export function twelveAtoms(K: number | "inf", overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const coords = Array.from({ length: 12 }, (_, k) => -3 + (6 * k) / 11);
  return {
    space: { kind: "atoms", count: 12, coords },
    initial: { kind: "gaussian", mean: 0, sd: 1 },
    groups: [
      { name: "right", weight: 0.5, reward: { kind: "formula", expr: "-(x - 2)^2" } },
      { name: "left", weight: 0.5, reward: { kind: "formula", expr: "-(x + 2)^2" } },
    ],
    curation: { K, temperature: 1 },
    generations: 2000,
    record: { every: 100 },
    seed: 1,
    ...overrides,
  };
}

// docs/model.md, section 5: the 4-atom counterexample to Lemma 3.3, as log-weights with tau = 1.
// Atoms A, B, C, D; w_1 = {1, 1/100, 4/5, 1/1000}, w_2 swaps A and B. The rewards are written
// as the decimal literals of log(w), which parse to the same doubles in every engine.
const lemma33 = {
  w1: [0, -4.605170185988091, -0.2231435513142097, -6.907755278982137],
  w2: [-4.605170185988091, 0, -0.2231435513142097, -6.907755278982137],
};

// Drift: 30 cells on [-3, 3], wells at +2 and -2 with q = (0.93, 0.07), K = infinity,
// histogram retraining on N = 50 samples. The minority basin gets Binomial(50, ~0.07) samples a
// generation and is lost for good the first time that is 0 (0.93^50 = 2.6% a generation).
function drift(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    space: { kind: "grid1d", min: -3, max: 3, cells: 30 },
    groups: [
      { name: "majority", weight: 0.93, reward: quadratic(2) },
      { name: "minority", weight: 0.07, reward: quadratic(-2) },
    ],
    curation: { K: "inf", temperature: 1 },
    retraining: { model: "histogram", samples: 50 },
    generations: 400,
    record: { every: 20 },
    basinEpsilon: 1,
    seed: 1,
    ...overrides,
  };
}

// The flow model on 80 cells of [-4, 4], K = infinity, tau = 1: an MLP vector field (default
// [64, 64], 500 Adam steps a generation) retrained on N = 2048 curated samples for 10
// generations. Basins |x - c| <= 1 (basinEpsilon 1 on r = -(x - c)^2).
function flowWells(groups: Record<string, unknown>[], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    space: { kind: "grid1d", min: -4, max: 4, cells: 80 },
    groups,
    curation: { K: "inf", temperature: 1 },
    retraining: { model: "flow", samples: 2048, lr: 0.003 },
    generations: 10,
    basinEpsilon: 1,
    seed: 1,
    ...overrides,
  };
}

export const presets: Record<string, Preset> = {
  "two-groups": {
    description: "Two groups (q = 0.3 / 0.7) with wells at -2 and +2: both basins survive, at mass q.",
    scenario: twoWells([-2, 2], 0.3, {
      // The scenario document of the README, written as it is: one reward as a formula, one as a quadratic.
      groups: [
        { name: "left", weight: 0.3, reward: { kind: "formula", expr: "-(x + 2)^2" } },
        { name: "right", weight: 0.7, reward: quadratic(2) },
      ],
      realData: { fraction: 0 },
    }),
  },
  "one-reward-collapse": {
    description: "One reward, K = infinity: the model collapses onto the reward's best outputs (Ferbach et al.).",
    scenario: twoWells([2, 2], 1, { groups: [{ name: "only", weight: 1, reward: quadratic(2) }] }),
  },
  "finite-k-compromise": {
    description: "K = 2 on the 12-atom example of docs/model.md, section 4: settles on the two centre atoms, a compromise no group ranks first.",
    scenario: twelveAtoms(2),
  },
  "finite-k-nash": {
    description: "K = 16 on the same 12 atoms: close to the Nash solution, half the mass on each group's best atom.",
    scenario: twelveAtoms(16),
  },
  "mixing-per-sample": {
    description: "Wells at -1 and +1, q = 1/2, per-sample mixing: the population mixture keeps both basins (Nash).",
    scenario: twoWells([-1, 1], 0.5),
  },
  "mixing-per-generation": {
    description: "The same landscape, one group per generation (seeded): tilts compose, mass goes to the utilitarian compromise x = 0.",
    scenario: twoWells([-1, 1], 0.5, { curation: { K: "inf", temperature: 1, mixing: "per-generation" } }),
  },
  "real-data-stabilises": {
    description: "One reward with 20% real data each generation: no collapse, a stable mixture of p_data and the reward's best outputs.",
    scenario: twoWells([2, 2], 1, {
      initial: { kind: "gaussian", mean: 0, sd: 3 },
      groups: [{ name: "only", weight: 1, reward: quadratic(2) }],
      realData: { fraction: 0.2 },
    }),
  },
  "drift-loses-basin": {
    description: "Histogram retraining on N = 50 samples: sampling noise empties the 7% group's basin for good, where the exact dynamics keep it.",
    scenario: drift({}),
  },
  "drift-real-data": {
    description: "The same with 20% real data each generation (lambda = 0.2): both basins survive.",
    scenario: drift({ realData: { fraction: 0.2 } }),
  },
  "drift-smoothing": {
    description: "The same with additive smoothing alpha = 0.1 in the histogram refit: both basins survive.",
    scenario: drift({ retraining: { model: "histogram", samples: 50, smoothing: 0.1 } }),
  },
  "histogram-collapse": {
    description: "One reward with histogram retraining on 1000 samples, K = 4: the finite-sample model collapses too (Ferbach et al.).",
    scenario: {
      space: { kind: "grid1d", min: -4, max: 4, cells: 161 },
      groups: [{ name: "only", weight: 1, reward: quadratic(1) }],
      curation: { K: 4, temperature: 1 },
      retraining: { model: "histogram", samples: 1000 },
      generations: 200,
      record: { every: 10 },
      seed: 1,
    },
  },
  "gmm-2d": {
    description: "A 2-D landscape, three groups preferring three different modes, refitted as a 4-component Gaussian mixture by EM (N = 4000, K = 8).",
    scenario: {
      space: { kind: "grid2d", min: [-4, -4], max: [4, 4], cells: [60, 60] },
      initial: { kind: "gaussian", mean: [0, 0], sd: 2 },
      groups: [
        { name: "west", weight: 0.4, reward: { kind: "quadratic", center: [-2, 0], scale: 1 } },
        { name: "north-east", weight: 0.3, reward: { kind: "quadratic", center: [2, 1], scale: 1 } },
        { name: "south", weight: 0.3, reward: { kind: "formula", expr: "-(x^2 + (y + 2)^2)" } },
      ],
      curation: { K: 8, temperature: 1 },
      retraining: { model: "gmm", components: 4, samples: 4000 },
      generations: 40,
      record: { every: 5 },
      seed: 1,
    },
  },
  "lemma33-counterexample": {
    description: "The 4-atom counterexample to Lemma 3.3 of Falahati et al.: the outside atom C takes all the mass (docs/model.md, section 5).",
    scenario: {
      space: { kind: "atoms", count: 4 },
      initial: { kind: "uniform" },
      groups: [
        { name: "g1", weight: 0.5, reward: { kind: "vector", values: lemma33.w1 } },
        { name: "g2", weight: 0.5, reward: { kind: "vector", values: lemma33.w2 } },
      ],
      curation: { K: "inf", temperature: 1 },
      generations: 200,
      record: { every: 10 },
      basinEpsilon: 0.1,
      seed: 1,
    },
  },
  "flow-two-groups": {
    description: "A learned generator (flow matching, retrained each generation): two groups (q = 0.3 / 0.7) keep both basins, near the Nash masses.",
    scenario: flowWells([
      { name: "left", weight: 0.3, reward: quadratic(-2) },
      { name: "right", weight: 0.7, reward: quadratic(2) },
    ]),
  },
  "flow-collapse": {
    description: "A learned generator with one reward: its support shrinks onto the reward's basin within a few generations.",
    scenario: flowWells([{ name: "only", weight: 1, reward: quadratic(1.5) }]),
  },
  "flow-real-data": {
    description: "A learned generator with one reward and 20% real data each generation: no collapse, mass stays outside the basin.",
    scenario: flowWells([{ name: "only", weight: 1, reward: quadratic(1.5) }], {
      initial: { kind: "gaussian", mean: 0, sd: 1.5 },
      realData: { fraction: 0.2 },
    }),
  },
};

/** The scenario object of a preset, as a fresh copy; throws UNKNOWN_PRESET with the valid names. */
export function presetScenario(name: string): Record<string, unknown> {
  const preset = Object.hasOwn(presets, name) ? presets[name] : undefined;
  if (!preset) {
    throw new PlurisimError(
      "UNKNOWN_PRESET",
      `unknown preset "${name}"; the presets are: ${Object.keys(presets).join(", ")}`,
      { field: "preset", value: name },
    );
  }
  return structuredClone(preset.scenario);
}
