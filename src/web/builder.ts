// The sweep builder beside the raw JSON: pick scenario parameters (every number of the base
// scenario, and K), give each a list of values, a linspace or a logspace, set replicates and the
// seed. The builder writes the document's `axes`, `replicates` and `seed`; the rest of the JSON
// (zip, derived, keep, ...) is left as typed. Loading JSON or a sweep preset fills the builder.
import { presetScenario } from "../core/presets.js";

type Json = Record<string, unknown>;

export type AxisKind = "values" | "linspace" | "logspace";

/** One builder row: a parameter path and how its values are given. */
export interface BuilderAxis {
  path: string;
  kind: AxisKind;
  /** Comma-separated values for "values"; start, stop, count for the spaces. */
  values: string;
  start: string;
  stop: string;
  count: string;
}

/** Paths of the numbers (and K = "inf") of a scenario: what an axis can vary. Arrays over 16 long are skipped. */
export function scenarioParameterPaths(scenario: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown, prefix: string) => {
    if (typeof v === "number" || v === "inf") out.push(prefix);
    else if (Array.isArray(v)) {
      if (v.length <= 16) v.forEach((e, i) => walk(e, `${prefix}[${i}]`));
    } else if (v && typeof v === "object") {
      for (const [k, e] of Object.entries(v)) if (/^[A-Za-z_]\w*$/.test(k)) walk(e, prefix ? `${prefix}.${k}` : k);
    }
  };
  walk(scenario, "");
  if (!out.includes("curation.K")) out.push("curation.K");
  if (!out.includes("curation.temperature")) out.push("curation.temperature");
  return out;
}

/** The base scenario object of a sweep document (a preset name resolved), or null. */
export function baseScenario(doc: Json): Json | null {
  if (typeof doc.base === "string") {
    try {
      return presetScenario(doc.base) as Json;
    } catch {
      return null;
    }
  }
  return doc.base && typeof doc.base === "object" ? (doc.base as Json) : null;
}

/** A value typed in a list: numbers as numbers, "inf" and anything else as text. */
function parseValue(s: string): unknown {
  const t = s.trim();
  if (t === "") return undefined;
  const n = Number(t);
  return Number.isNaN(n) ? t.replace(/^"(.*)"$/, "$1") : n;
}

/** The document's axis for one builder row (numbers that do not parse reach parseSweep and are named there). */
export function axisSpec(a: BuilderAxis): unknown {
  if (a.kind === "values") return a.values.split(",").map(parseValue).filter((v) => v !== undefined);
  return { [a.kind]: [Number(a.start), Number(a.stop), Number(a.count)] };
}

/** Builder rows for a document's axes; an axis in another form (a range) comes back as its list of values when it is short. */
export function builderAxes(doc: Json): BuilderAxis[] {
  const axes = doc.axes && typeof doc.axes === "object" ? (doc.axes as Json) : {};
  return Object.entries(axes).map(([path, spec]) => {
    const row: BuilderAxis = { path, kind: "values", values: "", start: "", stop: "", count: "" };
    if (Array.isArray(spec)) row.values = spec.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", ");
    else if (spec && typeof spec === "object") {
      const [kind, args] = Object.entries(spec as Json)[0] ?? [];
      if ((kind === "linspace" || kind === "logspace") && Array.isArray(args)) {
        row.kind = kind;
        [row.start, row.stop, row.count] = args.map(String);
      } else if (kind === "range" && Array.isArray(args)) {
        const [start, stop, step = 1] = args as number[];
        const vals: number[] = [];
        for (let v = start; step > 0 ? v < stop : v > stop; v += step) if (vals.push(v) > 10_000) break;
        row.values = vals.join(", ");
      }
    }
    return row;
  });
}

/** The document with the builder's axes, replicates and seed written in (other keys kept, in order). */
export function applyBuilder(doc: Json, axes: BuilderAxis[], replicates: string, seed: string): Json {
  const out: Json = { ...doc };
  out.axes = Object.fromEntries(axes.filter((a) => a.path).map((a) => [a.path, axisSpec(a)]));
  const num = (s: string) => (s.trim() === "" ? undefined : Number(s));
  if (num(replicates) === undefined) delete out.replicates;
  else out.replicates = num(replicates);
  if (num(seed) === undefined) delete out.seed;
  else out.seed = num(seed);
  return out;
}
