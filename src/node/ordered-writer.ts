// The reorder buffer between a sweep's workers and its files. Results arrive in any order; rows
// go out in the order of the cells given, as whole lines, the trajectory line of a batch before
// its row lines, so the rows file is always a prefix of the cells (docs/sweep.md, "Resume").
import { toJson } from "../core/json.js";
import { rowLine, trajectoryLine, type BatchLines, type CellResult } from "../sweep/task.js";

/** Where whole lines go; each call gets one or more complete lines, newline-terminated. */
export interface RowSinks {
  rows(text: string): void;
  /** Set when trajectories are kept. */
  trajectories?: (text: string) => void;
}

export interface OrderedWriterOptions {
  /** The cells to write, in the order they must appear. */
  order: readonly number[];
  sinks: RowSinks;
  /** Stop writing after the first failed row (--fail-fast: a resume runs everything after it again). */
  haltOnFailure?: boolean;
}

/** A cell's lines, held until every earlier cell is written. */
interface Held {
  row: string;
  trajectory: string | null;
  ok: boolean;
}

/** Buffers results that arrive out of order and writes each contiguous run of them as whole lines. */
export class OrderedWriter {
  readonly #order: readonly number[];
  readonly #sinks: RowSinks;
  readonly #haltOnFailure: boolean;
  readonly #buffer = new Map<number, Held>();
  #written = 0;
  #ok = 0;
  #failed = 0;
  #halted = false;

  constructor(options: OrderedWriterOptions) {
    this.#order = options.order;
    this.#sinks = options.sinks;
    this.#haltOnFailure = options.haltOnFailure ?? false;
  }

  /** Position in `order` of the next cell to write (= rows written so far). */
  get written(): number {
    return this.#written;
  }

  /** Rows written with status "ok", and the others. */
  get ok(): number {
    return this.#ok;
  }

  get failed(): number {
    return this.#failed;
  }

  /** True once a failed row was written with haltOnFailure set: nothing more is written. */
  get halted(): boolean {
    return this.#halted;
  }

  /** Results held back, waiting for an earlier cell. */
  get buffered(): number {
    return this.#buffer.size;
  }

  /** True when every cell of `order` is written. */
  get finished(): boolean {
    return this.#written >= this.#order.length;
  }

  /** Holds a result until every earlier cell is written. */
  add(result: CellResult): void {
    this.#buffer.set(result.row.cell, { row: rowLine(result), trajectory: this.#sinks.trajectories ? trajectoryLine(result) : null, ok: result.row.status === "ok" });
  }

  /** Holds the lines of a batch of `cells` (in that order) until every earlier cell is written. */
  addLines(cells: readonly number[], lines: BatchLines): void {
    let f = 0;
    for (let i = 0; i < cells.length; i++) {
      const failed = f < lines.failed.length && lines.failed[f] === i;
      if (failed) f++;
      this.#buffer.set(cells[i], { row: lines.rows[i], trajectory: lines.trajectories?.[i] ?? null, ok: !failed });
    }
  }

  /**
   * Writes every result that continues the written prefix; returns how many rows it wrote. A sink
   * that throws (a full disk) leaves the counts at the last complete write, and the error goes to
   * the caller.
   */
  flush(): number {
    const rowLines: string[] = [];
    const trajLines: string[] = [];
    let ok = 0;
    let failed = 0;
    let halted = this.#halted;
    let at = this.#written;
    while (!halted && at < this.#order.length && this.#buffer.has(this.#order[at])) {
      const r = this.#buffer.get(this.#order[at])!;
      if (this.#sinks.trajectories) trajLines.push(r.trajectory ?? toJson({ cell: this.#order[at], trajectory: null }));
      rowLines.push(r.row);
      if (r.ok) ok++;
      else {
        failed++;
        if (this.#haltOnFailure) halted = true;
      }
      at++;
    }
    if (rowLines.length === 0) return 0;
    // Trajectories first: a stop between the two writes leaves an extra trajectory, which resume drops.
    if (this.#sinks.trajectories) this.#sinks.trajectories(trajLines.join("\n") + "\n");
    this.#sinks.rows(rowLines.join("\n") + "\n");
    for (let k = this.#written; k < at; k++) this.#buffer.delete(this.#order[k]);
    this.#written = at;
    this.#ok += ok;
    this.#failed += failed;
    this.#halted = halted;
    return rowLines.length;
  }
}
