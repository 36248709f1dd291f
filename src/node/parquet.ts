// Sweep rows as Parquet (hyparquet-writer: pure JavaScript, no native build, one small
// dependency). The JSONL rows file stays the crash-safe journal that resume, shards and merge
// read; the Parquet files are written from it, whole, at the end of a sweep or by `export`:
//   rows.parquet               one row per cell: cell, replicate, seed, status, one column per
//                              parameter path (params.<path>) and per metric component
//                              (final.basinMass[0], at.100.entropy, nash.welfare, ...)
//   rows.trajectories.parquet  tidy long form: cell, generation, metric, index, value
import { existsSync } from "node:fs";
import type { ColumnSource } from "hyparquet-writer";
import { PlurisimError } from "../core/errors.js";
import { VERSION } from "../core/version.js";
import { MAX_RESULT_BYTES, readTextFile, writeFileAtomic } from "./files.js";
import { parseJson } from "./plot-input.js";
import { flattenRow, scanLines, sweepPaths } from "./sweep-run.js";

/** Columns written as 64-bit integers; every other numeric column is a double. */
const INTEGER_COLUMNS = new Set(["cell", "replicate", "seed", "generationsRun", "final.generation"]);
/** Text that stands for a number: the non-finite values toJson writes, and K = "inf". */
const NUMERIC_TEXT: Record<string, number> = { Infinity: Infinity, "-Infinity": -Infinity, NaN: NaN, inf: Infinity };

type Kind = "int" | "double" | "bool" | "string";

interface Column {
  name: string;
  /** Kinds seen: a column of numbers and "inf" is a double; of numbers and other text, a string. */
  numbers: boolean;
  texts: boolean;
  numericText: boolean;
  bools: boolean;
  objects: boolean;
  integers: boolean;
}

function kindOf(c: Column): Kind {
  if (c.objects || (c.texts && !c.numericText) || (c.bools && (c.numbers || c.texts))) return "string";
  if (c.bools) return "bool";
  if (c.numbers || c.numericText) return INTEGER_COLUMNS.has(c.name) && c.integers && !c.numericText ? "int" : "double";
  return "string";
}

/** The file names of a Parquet export: rows.parquet and rows.trajectories.parquet beside it. */
export function parquetPaths(out: string): { rows: string; trajectories: string } {
  const stem = out.replace(/\.parquet$/i, "");
  return { rows: out, trajectories: `${stem}.trajectories.parquet` };
}

/** True when an --out path asks for Parquet. */
export const isParquetPath = (out: string): boolean => /\.parquet$/i.test(out);

function checkOut(out: string): void {
  if (!isParquetPath(out)) throw new PlurisimError("INVALID_SWEEP", `--out must end in .parquet (got ${JSON.stringify(out)})`, { field: "--out", value: out });
}

function parseLine(path: string, line: string, n: number): unknown {
  try {
    return parseJson(line);
  } catch (err) {
    throw new PlurisimError("INVALID_SWEEP", `${path}: line ${n} is not valid JSON: ${(err as Error).message}`, { field: "rows", value: path });
  }
}

/** Writes the rows of a JSONL rows file as Parquet; returns how many rows it wrote. */
export async function writeRowsParquet(rowsPath: string, out: string): Promise<number> {
  checkOut(out);
  if (!existsSync(rowsPath)) throw new PlurisimError("FILE", `cannot read ${rowsPath}: no such file`, { field: "rows", value: rowsPath });
  // Pass 1: the union of columns (in order of first appearance) and what each holds.
  const columns = new Map<string, Column>();
  let n = 0;
  await scanLines(rowsPath, (line) => {
    if (line.trim() === "") return true;
    n++;
    const row = parseLine(rowsPath, line, n);
    if (!row || typeof row !== "object" || typeof (row as { cell?: unknown }).cell !== "number") {
      throw new PlurisimError("INVALID_SWEEP", `${rowsPath}: line ${n} is not a sweep row (no cell index)`, { field: "rows", value: rowsPath });
    }
    for (const [k, v] of flattenRow(row)) {
      let c = columns.get(k);
      if (!c) columns.set(k, (c = { name: k, numbers: false, texts: false, numericText: false, bools: false, objects: false, integers: true }));
      if (v === null || v === undefined) continue;
      if (typeof v === "number") {
        c.numbers = true;
        if (!Number.isSafeInteger(v)) c.integers = false;
      } else if (typeof v === "string") {
        if (Object.hasOwn(NUMERIC_TEXT, v)) c.numericText = true;
        else c.texts = true;
      } else if (typeof v === "boolean") c.bools = true;
      else c.objects = true;
    }
    return true;
  });
  if (n === 0) throw new PlurisimError("INVALID_SWEEP", `${rowsPath} has no rows to export`, { field: "rows", value: rowsPath });
  // Pass 2: fill the columns.
  const cols = [...columns.values()].map((c) => ({ c, kind: kindOf(c), data: new Array<unknown>(n).fill(null) }));
  let i = 0;
  await scanLines(rowsPath, (line) => {
    if (line.trim() === "") return true;
    const flat = flattenRow(parseJson(line));
    for (const col of cols) {
      const v = flat.get(col.c.name);
      if (v === null || v === undefined) continue;
      if (col.kind === "int") col.data[i] = BigInt(v as number);
      else if (col.kind === "double") col.data[i] = typeof v === "number" ? v : NUMERIC_TEXT[v as string];
      else if (col.kind === "bool") col.data[i] = v;
      else col.data[i] = typeof v === "string" ? v : JSON.stringify(v);
    }
    i++;
    return true;
  });
  const type = { int: "INT64", double: "DOUBLE", bool: "BOOLEAN", string: "STRING" } as const;
  await writeParquet(out, cols.map((col) => ({ name: col.c.name, data: col.data, type: type[col.kind] })), manifestMetadata(rowsPath));
  return n;
}

/** Writes a trajectories JSONL file ({cell, trajectory}) as tidy long Parquet; returns the number of values. */
export async function writeTrajectoriesParquet(trajPath: string, out: string): Promise<number> {
  checkOut(out);
  let cap = 1 << 16;
  let cell = new BigInt64Array(cap);
  let generation = new BigInt64Array(cap);
  let value = new Float64Array(cap);
  const metric: string[] = [];
  const index: (number | null)[] = [];
  let n = 0;
  const push = (c: number, g: number, m: string, k: number | null, v: number) => {
    if (n === cap) {
      cap *= 2;
      const growBig = (a: BigInt64Array<ArrayBuffer>): BigInt64Array<ArrayBuffer> => {
        const b = new BigInt64Array(cap);
        b.set(a);
        return b;
      };
      cell = growBig(cell);
      generation = growBig(generation);
      const grownValue = new Float64Array(cap);
      grownValue.set(value);
      value = grownValue;
    }
    cell[n] = BigInt(c);
    generation[n] = BigInt(g);
    value[n] = v;
    metric.push(m);
    index.push(k);
    n++;
  };
  let line = 0;
  await scanLines(trajPath, (text) => {
    if (text.trim() === "") return true;
    line++;
    const rec = parseLine(trajPath, text, line) as { cell?: unknown; trajectory?: unknown };
    if (!rec || typeof rec.cell !== "number") throw new PlurisimError("INVALID_SWEEP", `${trajPath}: line ${line} has no cell index`, { field: "trajectories", value: trajPath });
    if (!Array.isArray(rec.trajectory)) return true;
    for (const m of rec.trajectory as Record<string, unknown>[]) {
      if (!m || typeof m !== "object" || typeof m.generation !== "number") continue;
      for (const [k, v] of Object.entries(m)) {
        if (k === "generation") continue;
        if (typeof v === "number") push(rec.cell, m.generation, k, null, v);
        else if (Array.isArray(v)) v.forEach((e, j) => typeof e === "number" && push(rec.cell as number, m.generation as number, k, j, e));
      }
    }
    return true;
  });
  await writeParquet(out, [
    { name: "cell", data: cell.subarray(0, n), type: "INT64" },
    { name: "generation", data: generation.subarray(0, n), type: "INT64" },
    { name: "metric", data: metric, type: "STRING" },
    { name: "index", data: index, type: "INT32" },
    { name: "value", data: value.subarray(0, n), type: "DOUBLE" },
  ]);
  return n;
}

/** The manifest beside a rows file, as key-value metadata of the Parquet file (plan hash, engine). */
function manifestMetadata(rowsPath: string): { key: string; value: string }[] {
  const path = sweepPaths(rowsPath).manifest;
  const meta = [{ key: "plurisim.version", value: VERSION }];
  if (!existsSync(path)) return meta;
  try {
    const m = JSON.parse(readTextFile(path, { field: "manifest", maxBytes: MAX_RESULT_BYTES, asInput: false })) as { planSha256?: string; engine?: unknown; name?: string };
    meta.push({ key: "plurisim.manifest", value: JSON.stringify({ name: m.name, planSha256: m.planSha256, engine: m.engine }) });
  } catch {
    // A damaged manifest is resume's concern; the rows export without it.
  }
  return meta;
}

async function writeParquet(out: string, columnData: ColumnSource[], kvMetadata?: { key: string; value: string }[]): Promise<void> {
  const { parquetWriteBuffer } = await import("hyparquet-writer");
  const buffer = parquetWriteBuffer({ columnData, kvMetadata, createdBy: `plurisim ${VERSION}` });
  await writeFileAtomic(out, new Uint8Array(buffer));
}

/** Writes rows.parquet (and rows.trajectories.parquet when the sweep kept trajectories) from a sweep's JSONL files. */
export async function exportSweepParquet(rowsPath: string, out: string): Promise<{ rows: number; trajectories: string | null; trajectoryValues: number }> {
  checkOut(out);
  const targets = parquetPaths(out);
  const rows = await writeRowsParquet(rowsPath, targets.rows);
  const traj = sweepPaths(rowsPath).trajectories;
  if (!existsSync(traj)) return { rows, trajectories: null, trajectoryValues: 0 };
  const values = await writeTrajectoriesParquet(traj, targets.trajectories);
  return { rows, trajectories: targets.trajectories, trajectoryValues: values };
}
