// Command-line option parsers shared by every command: integer flags and `--set path=value`.
// Errors are PlurisimErrors with code USAGE naming the flag and the value given.
import { Option } from "commander";
import { isPlurisimError, PlurisimError } from "../core/errors.js";
import { presetScenario } from "../core/presets.js";
import { cloneJson, parsePath, setPath, type PathKey } from "../sweep/paths.js";

/** A commander argParser for an integer flag in [min, max]; refuses "abc", "2.5", "1e3x" and out-of-range values with USAGE. */
export function intOption(flag: string, min = 1, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
      throw new PlurisimError("USAGE", `${flag} must be ${range} (got ${JSON.stringify(value)})`, { field: flag, value });
    }
    return n;
  };
}

/** One `--set path=value` override: the parameter path (sweep path syntax), its keys and the value. */
export interface SetOverride {
  path: string;
  keys: PathKey[];
  value: unknown;
}

/**
 * A commander argParser for the repeatable `--set path=value`: the value is JSON when it parses
 * as JSON (numbers, true, null, arrays, objects, quoted strings) and a plain string otherwise, so
 * `--set curation.K=inf` and `--set groups[1].reward.expr=-(x-1)^2` need no quoting.
 */
export function collectSet(text: string, previous: SetOverride[] = []): SetOverride[] {
  const eq = text.indexOf("=");
  if (eq <= 0) {
    throw new PlurisimError("USAGE", `--set must be path=value, e.g. curation.K=4 (got ${JSON.stringify(text)})`, { field: "--set", value: text });
  }
  const path = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  let keys: PathKey[];
  try {
    keys = parsePath(path, "--set");
  } catch (e) {
    throw asUsage(e);
  }
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // Not JSON: the text itself (a formula, a preset name, "inf").
  }
  return [...previous, { path, keys, value }];
}

/** A copy of `doc` with every override applied in order; a path that cannot exist in it is a USAGE error. */
export function applySets<T>(doc: T, sets: readonly SetOverride[] | undefined): T {
  if (!sets || sets.length === 0) return doc;
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new PlurisimError("USAGE", "--set needs a JSON object to change", { field: "--set", value: doc });
  }
  const copy = cloneJson(doc) as Record<string, unknown>;
  for (const s of sets) {
    try {
      setPath(copy, s.keys, s.value, s.path, "--set");
    } catch (e) {
      throw asUsage(e);
    }
  }
  return copy as T;
}

/** The repeatable `--set path=value` of run, nash, audit and sweep. */
export function setOption(): Option {
  return new Option("--set <path=value>", "override a scenario parameter, e.g. --set curation.K=4 --set groups[0].weight=0.4 (repeatable)").argParser(collectSet);
}

/**
 * A sweep document whose base scenario carries the overrides (a preset name as base is
 * resolved first). The axes, zips and derived parameters still apply on top of it.
 */
export function applySetsToSweepBase(doc: unknown, sets: readonly SetOverride[] | undefined): unknown {
  if (!sets || sets.length === 0 || doc === null || typeof doc !== "object" || Array.isArray(doc)) return doc;
  const sweep = doc as Record<string, unknown>;
  const base = typeof sweep.base === "string" ? presetScenario(sweep.base) : sweep.base;
  return { ...sweep, base: applySets(base, sets) };
}

function asUsage(e: unknown): unknown {
  if (!isPlurisimError(e) || e.code === "USAGE") return e;
  return new PlurisimError("USAGE", e.message, { field: e.field ?? "--set", value: e.value, cause: e });
}
