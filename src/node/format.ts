// Readable tables for the terminal: fixed-width columns, numbers with sensible precision.
import type { Metrics, RunResult } from "../core/types.js";

/** A number in at most `digits` significant digits, exponent form for very small or large. */
export function num(v: number | undefined, digits = 4): string {
  if (v === undefined) return "-";
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(digits - 2);
  return Number(v.toPrecision(digits)).toString();
}

/** Lays rows out in columns, the first row a header underlined with dashes. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ");
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n");
}

/** At most `max` rows of a trajectory, evenly spaced, always the first and the last. */
export function thin<T>(rows: T[], max: number): T[] {
  if (rows.length <= max) return rows;
  const picked: T[] = [];
  for (let k = 0; k < max; k++) picked.push(rows[Math.round((k * (rows.length - 1)) / (max - 1))]);
  return picked;
}

/** The trajectory of a run as a table: basin masses per group, outside mass, entropy, welfare, gap. */
export function trajectoryTable(result: RunResult, groupNames: string[], maxRows = 12): string {
  const withNash = result.final.tvToNash !== undefined;
  const header = [
    "generation",
    ...groupNames.map((g) => `basin ${g}`),
    "outside",
    "entropy",
    "nashWelfare",
    "nashGap",
    "l1Step",
    ...(withNash ? ["tvToNash"] : []),
  ];
  const row = (m: Metrics) => [
    String(m.generation),
    ...m.basinMass.map((b) => num(b)),
    num(m.outsideMass),
    num(m.entropy),
    num(m.nashWelfare, 6),
    num(m.nashGap),
    num(m.l1Step),
    ...(withNash ? [num(m.tvToNash)] : []),
  ];
  return table([header, ...thin(result.trajectory, maxRows).map(row)]);
}
