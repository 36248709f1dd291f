// Merging shard outputs into one result ordered by cell, refusing missing or duplicated cells.
// Works on async streams of lines, so it runs anywhere; src/node/sweep-cli.ts feeds it files and
// checks each row against the plan (rowMismatch).
import { PlurisimError } from "../core/errors.js";
import { canonicalJson, cellAt, type Cell, type SweepPlan } from "./spec.js";

/** One line of a result file with its cell index. */
export interface CellLine {
  cell: number;
  line: string;
}

/** A named, cell-ordered stream of lines (one shard's rows or trajectories). */
export interface MergeSource {
  name: string;
  lines: AsyncIterable<CellLine>;
}

const MAX_LISTED = 10;

function listCells(cells: number[], more: number): string {
  return cells.join(", ") + (more > 0 ? `, ... (${more} more)` : "");
}

/**
 * Merges cell-ordered sources into one stream in cell order (a k-way merge, one line per source in
 * memory) and writes each line through `write`. Every cell 0..total-1 must appear exactly once:
 * a duplicate, a missing cell, a cell out of range or a source not in cell order throws
 * INVALID_SWEEP (after the whole input is read, so the message lists every missing cell it can).
 * `write` should go to a temporary file that the caller renames only on success.
 */
export async function mergeOrdered(sources: MergeSource[], total: number, write: (line: string) => void | Promise<void>): Promise<{ cells: number }> {
  const its = sources.map((s) => s.lines[Symbol.asyncIterator]());
  const heads: (CellLine | null)[] = await Promise.all(its.map(async (it) => ((await it.next()).value as CellLine | undefined) ?? null));
  const last = sources.map(() => -1);
  const missing: number[] = [];
  let missingMore = 0;
  let expected = 0;
  let count = 0;
  for (;;) {
    let best = -1;
    for (let k = 0; k < heads.length; k++) {
      const h = heads[k];
      if (h && (best < 0 || h.cell < heads[best]!.cell)) best = k;
    }
    if (best < 0) break;
    const head = heads[best]!;
    const { cell } = head;
    if (!Number.isSafeInteger(cell) || cell < 0 || cell >= total) {
      throw new PlurisimError("INVALID_SWEEP", `${sources[best].name}: cell ${cell} is outside the sweep's ${total} cells (is it from another sweep?)`, { field: "cell", value: cell });
    }
    if (cell <= last[best]) {
      throw new PlurisimError(
        "INVALID_SWEEP",
        `${sources[best].name}: cell ${cell} comes after cell ${last[best]}: the file is not in cell order (or repeats a cell), so it was not written by plurisim sweep`,
        { field: "cell", value: cell },
      );
    }
    last[best] = cell;
    if (cell < expected) {
      const others = sources.filter((_, k) => k !== best).map((s) => s.name);
      throw new PlurisimError("INVALID_SWEEP", `cell ${cell} appears more than once (in ${sources[best].name} and in one of ${others.join(", ") || "the same file"}); refusing to merge duplicated cells`, {
        field: "cell",
        value: cell,
      });
    }
    for (; expected < cell; expected++) {
      if (missing.length < MAX_LISTED) missing.push(expected);
      else missingMore++;
    }
    expected = cell + 1;
    if (missing.length === 0) await write(head.line);
    count++;
    const next = await its[best].next();
    heads[best] = next.done ? null : next.value;
  }
  for (; expected < total; expected++) {
    if (missing.length < MAX_LISTED) missing.push(expected);
    else missingMore++;
  }
  if (missing.length > 0) {
    throw new PlurisimError(
      "INVALID_SWEEP",
      `${missing.length + missingMore} of the sweep's ${total} cells are missing: ${listCells(missing, missingMore)}; merge every shard (or resume the unfinished ones) first`,
      { field: "cell", value: missing },
    );
  }
  return { cells: count };
}

/**
 * Why a row cannot be cell `row.cell` of `plan` (its replicate, seed or parameters differ from the
 * ones the plan gives that cell), or null when it can. This is the row's own identity, so rows of
 * another sweep are caught even when a matching manifest was put beside them.
 */
export function rowMismatch(plan: SweepPlan, row: { cell: number } & Record<string, unknown>): string | null {
  let cell: Cell;
  try {
    cell = cellAt(plan, row.cell);
  } catch {
    // A cell whose own parameters fail (a derived formula) has an error row with no parameters.
    return row.status === "error" || !Number.isSafeInteger(row.cell) || row.cell < 0 || row.cell >= plan.total ? null : "cannot be built from the sweep";
  }
  if (row.replicate !== cell.replicate) return `has replicate ${String(row.replicate)}, not ${cell.replicate}`;
  if (row.seed !== cell.seed) return `has seed ${String(row.seed)}, not ${cell.seed}`;
  // Both sides through JSON, as the row was written.
  const want = canonicalJson(JSON.parse(JSON.stringify(cell.params)));
  const got = canonicalJson(row.params ?? null);
  if (got !== want) return `has parameters ${got.slice(0, 120)}, not ${want.slice(0, 120)}`;
  return null;
}
