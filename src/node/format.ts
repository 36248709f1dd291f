// Readable tables for the terminal: fixed-width columns, numbers with sensible precision.
import type { Audit, AuditCheck } from "../core/audit.js";
import { formatNumber } from "../core/number-format.js";
import type { Metrics, RunResult } from "../core/types.js";
import { sanitizeForTerminal } from "../core/text.js";

/** A number in at most `digits` significant digits, exponent form below 1e-3 and from 1e6; "-" for none. */
export function num(v: number | undefined, digits = 4): string {
  return v === undefined ? "-" : formatNumber(v, { digits });
}

/** Lays rows out in columns, the first row a header underlined with dashes; numbers align right, text columns (`textColumns`) left. */
export function table(rows: string[][], textColumns: readonly number[] = [0]): string {
  // Cells carry group names and other strings from input files: no control characters reach the terminal.
  rows = rows.map((r) => r.map((cell) => sanitizeForTerminal(cell ?? "")));
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const cellAt = (cell: string, c: number) => (textColumns.includes(c) ? cell.padEnd(widths[c]) : cell.padStart(widths[c]));
  const line = (r: string[]) => r.map(cellAt).join("  ").trimEnd();
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
  const withExact = result.final.tvToExact !== undefined;
  const header = [
    "generation",
    ...groupNames.map((g) => `basin ${g}`),
    "outside",
    "entropy",
    "nashWelfare",
    "nashGap",
    "l1Step",
    ...(withNash ? ["tvToNash"] : []),
    ...(withExact ? ["tvToExact"] : []),
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
    ...(withExact ? [num(m.tvToExact)] : []),
  ];
  return table([header, ...thin(result.trajectory, maxRows).map(row)]);
}

/** What each audit assumption means, in one line (docs/model.md, section 5). */
const AUDIT_MEANINGS: Record<string, string> = {
  "bounded-rewards": "every reward is finite (Assumption 2.1 i)",
  "basins-disjoint": "no atom is within eps of both groups' best rewards (Assumption 2.1 ii)",
  "p0-positive-on-basins": "the initial model puts mass in both basins (Assumption 2.1 ii)",
  "outside-gap": "outside the basins every reward is delta > 0 below its best (Assumption 2.1 iii)",
  "cross-gaps": "each basin is more than 2 eps below the other group's best, so kappa_i < 1",
  "q-window": "kappa_1 < q < 1 - kappa_2: the Lemma 3.5 interval pins the limit near q",
  "outside-domination-constants": "the assumption constants alone imply outside decay (Appendix B.4)",
  "outside-domination-at-limit": "near this landscape's Nash limit the outside mass decays (sup_O W < 1)",
};

/** The audit as a held/failed table with one-line meanings, its quantities, and after a run which predictions held. */
export function auditTable(audit: Audit, check?: AuditCheck): string {
  const lines: string[] = [];
  const basins = audit.basins.map((b) => `S_${b.group + 1}: ${b.size} atoms, p0 mass ${num(b.p0Mass)}`).join("; ");
  lines.push(`basins (eps = ${num(audit.eps)}, tau = ${num(audit.tau)}): ${basins}; outside O: ${audit.outside.size} atoms, p0 mass ${num(audit.outside.p0Mass)}`);
  if (!audit.applicable) {
    lines.push(`not applicable: ${audit.reason ?? "the two-basin analysis needs exactly 2 groups"}`);
    return lines.join("\n");
  }
  lines.push(
    "",
    table([
      ["assumption", "held", "what it means"],
      ...audit.assumptions.map((a) => [a.id, a.held ? "held" : "FAILED", AUDIT_MEANINGS[a.id] ?? ""]),
    ], [0, 1, 2]),
    "",
    "on this landscape:",
    ...audit.assumptions.map((a) => `  ${a.id}: ${a.reason}`),
    "",
  );
  const vec = (v: readonly number[] | undefined) => (v ? v.map((x) => num(x)).join(", ") : "-");
  if (audit.delta !== undefined) lines.push(`delta = ${num(audit.delta)}   Delta = [${vec(audit.Delta)}]   kappa = [${vec(audit.kappa)}]`);
  if (audit.interval) lines.push(`Lemma 3.5: the limit basin mass a lies in [L, U] = [${num(audit.interval.L, 6)}, ${num(audit.interval.U, 6)}] (up to ${num(audit.interval.c)} x outside mass)`);
  if (audit.nash) lines.push(`Nash limit p*: basin mass ${vec(audit.nash.basinMass)}, outside ${num(audit.nash.outsideMass)} (nashGap ${num(audit.nash.gap)})`);
  if (audit.outsideDomination) {
    const od = audit.outsideDomination;
    lines.push(`Appendix B.4: 2e^{-delta/tau} > 1 + e^{-Delta/tau} is ${od.counterexampleCondition}; sup_O W at the Nash limit = ${num(od.supOutsideMultiplierAtNash)}`);
  }
  if (audit.varianceBound) lines.push(`Theorem 3.6: Var[r_i] at the limit >= [${vec(audit.varianceBound.bound)}] (a = q_1), >= [${vec(audit.varianceBound.boundOverInterval)}] over a in [L, U]`);
  if (check) {
    const said = (v: boolean | null) => (v === null ? "n/a" : v ? "held" : "FAILED");
    lines.push(
      "",
      table([
        ["prediction, after the run", "held", "observed"],
        ["a_T in [L - c m_T, U + c m_T]", said(check.held.interval), check.details.intervalWithSlack ? `a_T = ${num(check.details.a, 6)} in [${num(check.details.intervalWithSlack[0], 6)}, ${num(check.details.intervalWithSlack[1], 6)}]` : ""],
        ["outside mass decays (sup_O W_t < 1 late)", said(check.held.outsideDecays), check.details.lateSupOutsideMultiplier !== undefined ? `sup_O W_t = ${num(check.details.lateSupOutsideMultiplier)}` : ""],
        ...check.held.varianceBound.map((v, i) => [`Var[r_${i + 1}] >= Theorem 3.6 bound`, said(v), check.details.varianceBound ? `bound ${num(check.details.varianceBound[i])}` : ""]),
      ], [0, 1, 2]),
    );
  }
  return lines.join("\n");
}
