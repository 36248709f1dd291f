// Running a sweep on a pool and streaming its results to disk: rows (JSONL), trajectories
// (JSONL), optional CSV and a manifest; resume, shards, fail-fast, Ctrl-C / SIGTERM.
//
// Ordering: rows are written in cell order by the ordered writer (ordered-writer.ts), as whole
// lines, trajectory line first. So the rows file is always a prefix, in cell order, of the shard's
// cells, whatever the worker count or batch size; `--resume` keeps the longest prefix that is whole
// in both the rows and the trajectories file (dropping a torn or unmatched tail) and runs the rest;
// `merge` is a k-way merge of ordered files. Dispatch runs at most WINDOW cells ahead of the last
// written one, which bounds the buffer.
//
// Safety: the rows file is locked for the run (lock.ts); every line is written whole or the sweep
// stops with a FILE error (a full disk); every target is checked before any cell runs (files.ts).
import { createHash, type Hash } from "node:crypto";
import { closeSync, createReadStream, existsSync, ftruncateSync, openSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { csvLine, flattenRow } from "../core/csv.js";
import { PlurisimError } from "../core/errors.js";
import { toJson } from "../core/json.js";
import { sha256Hex } from "../core/sha256.js";
import { sanitizeForTerminal } from "../core/text.js";
import { VERSION } from "../core/version.js";
import type { WasmSource } from "../core/engine.js";
import { canonicalJson, shardCells, type SweepPlan } from "../sweep/spec.js";
import { errorRow, type CellResult, type Row } from "../sweep/task.js";
import { checkOutputTarget, ensureParentDir, fileError, MAX_LINE_BYTES, MAX_RESULT_BYTES, openAtomic, readTextFile, writeAll, writeFileAtomic } from "./files.js";
import { lockOutput, type OutputLock } from "./lock.js";
import { OrderedWriter } from "./ordered-writer.js";
import type { SweepPool } from "./pool.js";
import { createProgress, type Progress } from "./progress.js";

export interface SweepRunOptions {
  plan: SweepPlan;
  /** The rows file (JSONL). Trajectories, CSV and manifest go beside it (sweepPaths). */
  out: string;
  /** The sweep file this plan came from, for the manifest (path and SHA-256 of its bytes). */
  sweepFile?: { path: string; sha256: string } | { preset: string };
  workers?: number;
  /** Cells per task; default: adapted to the cells' cost (auto batch). */
  batch?: number;
  /** Run only cells c with c mod count = index. */
  shard?: { index: number; count: number };
  resume?: boolean;
  overwrite?: boolean;
  failFast?: boolean;
  /** Write a CSV of the rows at the end (true: beside the rows file). */
  csv?: boolean | string;
  /** Show progress on stderr (a bar on a terminal, lines otherwise). */
  progress?: boolean;
  /** Stop cleanly when aborted (the CLI wires SIGINT/SIGTERM to this). */
  signal?: AbortSignal;
  wasm?: WasmSource;
  /** Test-only: worker threads exit when they reach these cells. */
  exitOnCells?: number[];
  /** The Redis queue the cells ran on (sweep --queue): the manifest records it instead of a thread count. */
  queue?: QueueWhere;
  /** Where batches run instead of the local Piscina pool (the Redis queue: src/node/queue/submit.ts). */
  pool?: SweepPool;
  /** The output's lock, when the caller took it already (lockOutput(out)); otherwise runSweep takes and releases it. */
  lock?: OutputLock;
  /** Notes for the user (workers capped, rows dropped by a resume); the CLI prints them on stderr. */
  onNote?: (text: string) => void;
}

export type SweepStatus = "running" | "complete" | "interrupted" | "failed";

export interface SweepOutcome {
  status: SweepStatus;
  paths: SweepPaths;
  /** Cells of this shard, rows in the file (ok + failed), ok, failed, and cells run by this invocation. */
  counts: { total: number; shard: number; done: number; ok: number; failed: number; ranNow: number };
  manifest: SweepManifest;
}

export interface SweepPaths {
  rows: string;
  trajectories: string;
  csv: string;
  manifest: string;
}

/** Files of a sweep whose rows go to `out`: x.jsonl -> x.trajectories.jsonl, x.csv, x.manifest.json. */
export function sweepPaths(out: string, csv?: string): SweepPaths {
  const stem = out.endsWith(".jsonl") ? out.slice(0, -".jsonl".length) : out;
  return { rows: out, trajectories: `${stem}.trajectories.jsonl`, csv: csv ?? `${stem}.csv`, manifest: `${stem}.manifest.json` };
}

/**
 * The rows file of a sweep run without --out: out/<name>[.shard-i-of-n].jsonl. A name that would
 * leave out/ (a separator, "..", a control character) is an INVALID_SWEEP error naming `name`.
 */
export function defaultOut(name: string, shard?: { index: number; count: number }): string {
  if (typeof name !== "string" || name === "" || name === "." || name === ".." || /[\u0000-\u001f\u007f-\u009f/\\]/.test(name)) {
    throw usage("name", `name ${JSON.stringify(name)} cannot name an output file (no control characters, no / or \\, not . or ..); rename the sweep or give --out`, name);
  }
  const out = join("out", `${name}${shard ? `.shard-${shard.index}-of-${shard.count}` : ""}.jsonl`);
  const rel = relative(resolve("out"), resolve(out));
  if (rel.startsWith("..") || rel.includes(sep)) throw usage("name", `name ${JSON.stringify(name)} would write outside out/; rename the sweep or give --out`, name);
  return out;
}

export interface SweepManifest {
  format: typeof MANIFEST_FORMAT;
  name: string;
  status: SweepStatus;
  sweepFile: SweepRunOptions["sweepFile"] | null;
  /** SHA-256 of the canonical JSON of the plan (base resolved, axes expanded): resume and merge compare it. */
  planSha256: string;
  plan: SweepPlan;
  engine: { version: string; wasmSha256: string };
  shard: { index: number; count: number };
  cells: { total: number; shard: number; done: number; ok: number; failed: number; pending: number };
  startedAt: string;
  endedAt: string | null;
  /** Each run (or resume): its threads, or the Redis queue its cells ran on (then workers is null). */
  runs: { startedAt: string; endedAt: string | null; status: SweepStatus; workers: number | null; queue?: QueueWhere; batch: number; cellsRun: number }[];
  files: { rows: string; trajectories: string | null; csv: string | null };
  /** SHA-256 and size of the rows file when the manifest was written: merge checks the rows beside it against them. */
  rows?: { sha256: string; bytes: number };
}

/** SHA-256 of the plan's canonical JSON. */
export function planHash(plan: SweepPlan): Promise<string> {
  return sha256Hex(new TextEncoder().encode(canonicalJson(plan)));
}

/** A Redis queue as the manifest records it (the URL without its password). */
export interface QueueWhere {
  queue: string;
  name: string;
  prefix: string;
}

/** The manifest's format tag; a reader refuses any other. */
export const MANIFEST_FORMAT = "plurisim-sweep-manifest/1";

// The messages quote paths, names and lines of the files read: shown with control characters escaped.
function usage(field: string, message: string, value?: unknown): PlurisimError {
  return new PlurisimError("INVALID_SWEEP", sanitizeForTerminal(message), { field, value });
}

function lineTooLong(path: string): PlurisimError {
  return new PlurisimError("FILE", `${sanitizeForTerminal(path)} has a line longer than ${MAX_LINE_BYTES / 2 ** 20} MiB: it is not a sweep rows file`, { field: "file", value: path });
}

/**
 * Reads a JSONL file line by line; `accept` returns false to stop. Returns the byte offset just
 * after the last accepted whole line (a torn last line, without its newline, is never accepted).
 */
export async function scanLines(path: string, accept: (line: string) => boolean): Promise<number> {
  let offset = 0;
  // The start of a line that runs past the chunks read so far, kept as pieces (no copy per chunk).
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const stream = createReadStream(path);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      let nl = chunk.indexOf(10);
      if (nl < 0) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes > MAX_LINE_BYTES) throw lineTooLong(path);
        continue;
      }
      if (pendingBytes > 0) {
        const line = Buffer.concat([...pending, chunk.subarray(0, nl)]);
        if (!accept(line.toString("utf8"))) return offset;
        offset += line.length + 1;
        pending = [];
        pendingBytes = 0;
        start = nl + 1;
        nl = chunk.indexOf(10, start);
      }
      while (nl >= 0) {
        if (!accept(chunk.toString("utf8", start, nl))) return offset;
        offset += nl + 1 - start;
        start = nl + 1;
        nl = chunk.indexOf(10, start);
      }
      if (start < chunk.length) {
        pending.push(chunk.subarray(start));
        pendingBytes += chunk.length - start;
        if (pendingBytes > MAX_LINE_BYTES) throw lineTooLong(path);
      }
    }
  } catch (e) {
    throw e instanceof PlurisimError ? e : fileError(e, path, "file", "read");
  } finally {
    stream.destroy();
  }
  return offset;
}

/** Lines of a JSONL file as an async iterable of {cell, line, row} (for merge). */
export async function* cellLines(path: string): AsyncGenerator<{ cell: number; line: string; row: { cell: number } & Record<string, unknown> }> {
  // Lines are cut in the bytes and decoded whole, so a character split across two chunks stays whole.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const stream = createReadStream(path);
  const take = (bytes: Buffer) => {
    const line = bytes.toString("utf8");
    if (line.trim() === "") return null;
    const row = rowOf(line, path);
    return { cell: row.cell, line, row };
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      let nl = chunk.indexOf(10);
      if (nl < 0) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes > MAX_LINE_BYTES) throw lineTooLong(path);
        continue;
      }
      if (pendingBytes > 0) {
        const l = take(Buffer.concat([...pending, chunk.subarray(0, nl)]));
        if (l) yield l;
        pending = [];
        pendingBytes = 0;
        start = nl + 1;
        nl = chunk.indexOf(10, start);
      }
      while (nl >= 0) {
        const l = take(chunk.subarray(start, nl));
        if (l) yield l;
        start = nl + 1;
        nl = chunk.indexOf(10, start);
      }
      if (start < chunk.length) {
        pending.push(chunk.subarray(start));
        pendingBytes += chunk.length - start;
        if (pendingBytes > MAX_LINE_BYTES) throw lineTooLong(path);
      }
    }
  } catch (e) {
    throw e instanceof PlurisimError ? e : fileError(e, path, "file", "read");
  } finally {
    stream.destroy();
  }
  if (Buffer.concat(pending).toString("utf8").trim() !== "") throw usage("file", `${path}: the last line is torn (no newline): resume that sweep before merging`, path);
}

function rowOf(line: string, path: string): { cell: number } & Record<string, unknown> {
  try {
    const row = JSON.parse(line) as { cell?: unknown } & Record<string, unknown>;
    if (row !== null && typeof row === "object" && typeof row.cell === "number") return row as { cell: number } & Record<string, unknown>;
  } catch {
    // fall through
  }
  throw usage("file", `${path}: a line is not a sweep row (no cell index): ${line.slice(0, 80)}`, path);
}

/** The manifest beside a rows file, or null when there is none; a damaged one is an INVALID_SWEEP error naming it. */
export async function readManifest(path: string): Promise<SweepManifest | null> {
  if (!existsSync(path)) return null;
  let manifest: SweepManifest | undefined;
  const text = readTextFile(path, { field: "manifest", maxBytes: MAX_RESULT_BYTES, code: "INVALID_SWEEP", asInput: false });
  try {
    manifest = JSON.parse(text) as SweepManifest;
  } catch {
    // reported below
  }
  if (!manifest || typeof manifest !== "object" || manifest.format !== MANIFEST_FORMAT || !manifest.plan || typeof manifest.planSha256 !== "string") {
    throw usage("manifest", `${path} is not a plurisim sweep manifest (format ${MANIFEST_FORMAT}); remove it or pass the matching rows file`, path);
  }
  return manifest;
}

/**
 * Runs (or resumes) a sweep; resolves when every cell of the shard is written, or when stopped.
 * The rows file is locked for the whole run (src/node/lock.ts): a second writer gets a FILE error
 * and writes nothing.
 */
export async function runSweep(options: SweepRunOptions): Promise<SweepOutcome> {
  if (options.lock) return runLocked(options);
  checkCsvTarget(options.csv);
  ensureParentDir(options.out, "--out");
  const lock = lockOutput(options.out);
  try {
    return await runLocked(options);
  } finally {
    lock.release();
  }
}

/** Refuses a --csv file given apart from the rows (its folder must exist and be writable), before any folder is created. */
export function checkCsvTarget(csv: boolean | string | undefined): void {
  if (typeof csv === "string") checkOutputTarget(csv, "--csv");
}

/** Refuses every output of the run up front, before a cell runs: not a regular file, an input, a folder that cannot be written. */
function checkTargets(paths: SweepPaths, keepTrajectories: boolean, csv: boolean): void {
  checkOutputTarget(paths.rows, "--out");
  if (keepTrajectories) checkOutputTarget(paths.trajectories, "--out");
  checkOutputTarget(paths.manifest, "--out");
  if (csv) checkOutputTarget(paths.csv, "--csv");
}

/** What resume keeps of an earlier run: rows (and trajectories) for the first `done` cells of the shard. */
interface Kept {
  done: number;
  ok: number;
  failed: number;
  /** Rows dropped because they were torn, out of order, or had no whole trajectory line. */
  dropped: number;
}

/**
 * Repairs the files of an interrupted run: keeps the longest prefix of the shard's cells that is
 * whole in the rows file and, when trajectories are kept, in the trajectories file too (a full disk
 * or a kill can leave either one a line ahead or a torn line behind), and truncates both to it.
 */
async function repairForResume(paths: SweepPaths, slice: readonly number[], keepTrajectories: boolean): Promise<Kept> {
  const statuses: boolean[] = [];
  await scanLines(paths.rows, (line) => {
    let row: Row;
    try {
      row = JSON.parse(line) as Row;
    } catch {
      return false;
    }
    if (statuses.length >= slice.length || row === null || row.cell !== slice[statuses.length]) return false;
    statuses.push(row.status === "ok");
    return true;
  });
  let keep = statuses.length;
  if (keepTrajectories) {
    let t = 0;
    if (existsSync(paths.trajectories)) {
      await scanLines(paths.trajectories, (line) => {
        try {
          if (t < keep && (JSON.parse(line) as { cell: number }).cell === slice[t]) {
            t++;
            return true;
          }
        } catch {
          // a torn line
        }
        return false;
      });
    }
    keep = Math.min(keep, t);
    truncate(paths.trajectories, await offsetAfterLines(paths.trajectories, keep));
  }
  const dropped = (await countLines(paths.rows)) - keep;
  truncate(paths.rows, await offsetAfterLines(paths.rows, keep));
  const ok = statuses.slice(0, keep).filter(Boolean).length;
  return { done: keep, ok, failed: keep - ok, dropped };
}

/** Byte offset just after the first `lines` lines of a file. */
async function offsetAfterLines(path: string, lines: number): Promise<number> {
  if (lines === 0 || !existsSync(path)) return 0;
  let n = 0;
  return scanLines(path, () => n++ < lines);
}

/** Lines in a file, a torn last line counting as one. */
async function countLines(path: string): Promise<number> {
  let n = 0;
  const whole = await scanLines(path, () => {
    n++;
    return true;
  });
  return n + (statSync(path).size > whole ? 1 : 0);
}

async function runLocked(options: SweepRunOptions): Promise<SweepOutcome> {
  const { plan } = options;
  const note = options.onNote ?? (() => {});
  const shard = options.shard ?? { index: 0, count: 1 };
  if (!Number.isSafeInteger(shard.count) || shard.count < 1 || !Number.isSafeInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw usage("--shard", `--shard must be i/n with 0 <= i < n (got ${shard.index}/${shard.count})`, shard);
  }
  if (options.batch !== undefined && (!Number.isSafeInteger(options.batch) || options.batch < 1)) throw usage("--batch", `--batch must be a positive integer (got ${options.batch})`, options.batch);
  const csvPath = typeof options.csv === "string" ? options.csv : undefined;
  const paths = sweepPaths(options.out, csvPath);
  const keepTrajectories = plan.keep.trajectory;
  checkTargets(paths, keepTrajectories, Boolean(options.csv));
  // The engine and the thread pool load here, not with this file (the Parquet export reads rows through it).
  const [{ loadWasmSource }, { capWorkers, createStartFastPool, createSweepPool }] = await Promise.all([import("./index.js"), import("./pool.js")]);
  const wasm = options.wasm ?? (await loadWasmSource());
  const hash = await planHash(plan);
  const slice = shardCells(plan.total, shard.index, shard.count);

  // Resume: keep the ordered prefix of this shard's cells already in the files.
  let kept: Kept = { done: 0, ok: 0, failed: 0, dropped: 0 };
  let previous: SweepManifest | null = null;
  const resuming = Boolean(options.resume) && existsSync(paths.rows);
  if (existsSync(paths.rows)) {
    if (!options.resume && !options.overwrite) {
      throw usage("--out", `${paths.rows} exists: pass --resume to continue that sweep, or --overwrite to start again`, paths.rows);
    }
    if (resuming) {
      previous = await readManifest(paths.manifest);
      if (!previous) throw usage("--resume", `cannot resume: ${paths.manifest} is missing, so ${paths.rows} cannot be checked against this sweep`, paths.manifest);
      if (previous.planSha256 !== hash) throw usage("--resume", `cannot resume: ${paths.rows} was written by a different sweep (plan hash ${previous.planSha256.slice(0, 12)}, this one ${hash.slice(0, 12)})`, previous.planSha256);
      if (previous.engine.wasmSha256 !== wasm.wasmSha256) {
        throw usage("--resume", `cannot resume: ${paths.rows} was written by another engine build (wasm ${previous.engine.wasmSha256.slice(0, 12)}, this one ${wasm.wasmSha256.slice(0, 12)}); rows would not be comparable`, previous.engine.wasmSha256);
      }
      if (previous.shard.index !== shard.index || previous.shard.count !== shard.count) {
        throw usage("--shard", `cannot resume: ${paths.rows} holds shard ${previous.shard.index}/${previous.shard.count}, not ${shard.index}/${shard.count}`, shard);
      }
      kept = await repairForResume(paths, slice, keepTrajectories);
      if (kept.dropped > 0) note(`resume: dropped ${kept.dropped} row line(s) after cell ${kept.done} of the shard (torn, or without a whole trajectory line); they run again`);
    }
  }
  if (!resuming) {
    try {
      closeSync(openSync(paths.rows, "w"));
      if (keepTrajectories) closeSync(openSync(paths.trajectories, "w"));
    } catch (e) {
      throw fileError(e, paths.rows, "--out");
    }
  }
  let { done, ok, failed } = kept;
  const pending = slice.slice(done);
  // Nothing left to run (a resume of a finished sweep): no note about threads that never start.
  const workers = options.pool ? options.pool.workers : capWorkers(options.workers, pending.length, pending.length > 0 ? note : undefined);
  // No thread count asked for: the main thread starts on the cells and threads join only when the
  // cells left are worth their start-up (pool.ts, createStartFastPool); the run records the threads started.
  const startFast = !options.pool && options.workers === undefined && !options.exitOnCells;
  const autoBatch = Math.max(1, Math.min(16, Math.floor(slice.length / Math.max(1, workers * 4))));
  const batch = options.batch ?? autoBatch;

  const startedAt = new Date().toISOString();
  const run = { startedAt, endedAt: null as string | null, status: "running" as SweepStatus, workers: options.queue ? null : startFast ? 0 : workers, ...(options.queue ? { queue: options.queue } : {}), batch, cellsRun: 0 };
  const manifest: SweepManifest = {
    format: MANIFEST_FORMAT,
    name: plan.name,
    status: "running",
    sweepFile: options.sweepFile ?? previous?.sweepFile ?? null,
    planSha256: hash,
    plan,
    engine: { version: VERSION, wasmSha256: wasm.wasmSha256 },
    shard,
    cells: { total: plan.total, shard: slice.length, done, ok, failed, pending: slice.length - done },
    startedAt: previous?.startedAt ?? startedAt,
    endedAt: null,
    runs: [...(previous?.runs ?? []), run],
    files: { rows: paths.rows, trajectories: keepTrajectories ? paths.trajectories : null, csv: options.csv ? paths.csv : null },
  };
  // The rows' own identity, kept up to date as lines are written (after the prefix a resume kept).
  const rowsHash = await hashFile(paths.rows);
  let rowsBytes = statSync(paths.rows).size;
  const saveManifest = () => {
    manifest.cells = { total: plan.total, shard: slice.length, done, ok, failed, pending: slice.length - done };
    manifest.rows = { sha256: rowsHash.copy().digest("hex"), bytes: rowsBytes };
    return writeFileAtomic(paths.manifest, toJson(manifest, 2) + "\n");
  };
  await saveManifest();

  const rowsFd = openSync(paths.rows, "a");
  const trajFd = keepTrajectories ? openSync(paths.trajectories, "a") : -1;
  const writer = new OrderedWriter({
    order: pending,
    haltOnFailure: options.failFast,
    sinks: {
      rows: (text) => {
        writeLines(rowsFd, text, paths.rows);
        rowsHash.update(text);
        rowsBytes += Buffer.byteLength(text);
      },
      trajectories: keepTrajectories ? (text) => writeLines(trajFd, text, paths.trajectories) : undefined,
    },
  });
  const progress: Progress = options.progress ? createProgress(slice.length, "cells", { lines: true }) : { update() {}, stop() {} };
  progress.update(done);

  let status: SweepStatus = "running";
  const count = () => {
    done = kept.done + writer.written;
    ok = kept.ok + writer.ok;
    failed = kept.failed + writer.failed;
  };
  try {
    if (pending.length > 0) {
      const pool =
        options.pool ?? (startFast ? await createStartFastPool({ plan, wasm, cells: pending }) : await createSweepPool({ plan, wasm, workers, exitOnCells: options.exitOnCells }));
      try {
        status = await dispatch(pool, writer, pending, batch, options, plan, () => {
          count();
          progress.update(done);
        });
      } finally {
        if (startFast) run.workers = pool.workers;
        await pool.destroy();
      }
    } else status = "complete";
  } catch (e) {
    // A write that failed (a full disk): record the run as failed if the manifest can still be written.
    count();
    run.cellsRun = writer.written;
    run.status = manifest.status = "failed";
    run.endedAt = manifest.endedAt = new Date().toISOString();
    await saveManifest().catch(() => {});
    throw e;
  } finally {
    closeSync(rowsFd);
    if (trajFd >= 0) closeSync(trajFd);
    progress.stop();
  }
  count();
  if (status === "complete" && done < slice.length) status = "interrupted";
  run.cellsRun = writer.written;
  run.status = status;
  run.endedAt = new Date().toISOString();
  manifest.status = status;
  manifest.endedAt = run.endedAt;
  // The manifest first: a CSV that cannot be written must not leave it saying "running".
  await saveManifest();
  if (options.csv) await writeCsv(paths.rows, paths.csv);
  return { status, paths, counts: { total: plan.total, shard: slice.length, done, ok, failed, ranNow: writer.written }, manifest };
}

/** A running SHA-256 of a file's bytes (more can be fed to it with update()). */
export async function hashFile(path: string): Promise<Hash> {
  const hash = createHash("sha256");
  const stream = createReadStream(path);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk);
  } catch (e) {
    throw fileError(e, path, "file", "read");
  } finally {
    stream.destroy();
  }
  return hash;
}

/** Appends whole lines; a short write is completed, a failed one (ENOSPC) stops the sweep with a FILE error naming the file. */
function writeLines(fd: number, text: string, path: string): void {
  try {
    writeAll(fd, text);
  } catch (e) {
    throw fileError(e, path, "--out");
  }
}

/** What an auto batch aims to take on its thread: long enough that a task's round trip to the main thread is noise. */
export const AUTO_BATCH_MS = 40;

/** The largest auto batch. */
export const MAX_AUTO_BATCH = 512;

/** Runs the pending cells on the pool, feeding the ordered writer; resolves with how the run ended. */
async function dispatch(pool: SweepPool, writer: OrderedWriter, pending: readonly number[], batch: number, options: SweepRunOptions, plan: SweepPlan, onWritten: () => void): Promise<SweepStatus> {
  // Read on every turn: the start-fast pool starts its threads during the run.
  const inFlightMax = () => Math.max(2, pool.workers * 2);
  const window = () => Math.max(inFlightMax() * size * 4, 1024);
  // Without --batch, a batch grows or shrinks to take about AUTO_BATCH_MS (from the time the
  // cells so far took), and near the end to at most half a batch per thread of what is left.
  // Kept trajectories can be large: their batches do not grow past the first size.
  const auto = options.batch === undefined && !options.pool;
  const maxSize = plan.keep.trajectory ? batch : MAX_AUTO_BATCH;
  let size = batch;
  const adapt = (cells: number, ms: number) => {
    if (!auto || !(ms > 0)) return;
    size = Math.max(1, Math.min(maxSize, Math.round((AUTO_BATCH_MS * cells) / ms)));
  };
  const nextSize = () => (auto ? Math.max(1, Math.min(size, Math.ceil((pending.length - next) / Math.max(2, 2 * pool.workers)))) : batch);
  let next = 0; // position in `pending` of the next cell to dispatch
  const retry: number[][] = []; // cells of a batch whose worker died, re-run one by one
  let inFlight = 0;
  let stop: SweepStatus | null = null;
  let wake: () => void = () => {};
  const onAbort = () => {
    stop ??= "interrupted";
    wake();
  };
  options.signal?.addEventListener("abort", onAbort);
  if (options.signal?.aborted) onAbort();
  const flush = () => {
    if (writer.flush() > 0) onWritten();
    if (writer.halted) stop ??= "failed";
  };

  const launch = (cells: number[], isolated: boolean) => {
    inFlight++;
    const started = performance.now();
    (pool.runLines ? pool.runLines(cells) : pool.run(cells)).then(
      (results) => {
        if (Array.isArray(results)) {
          for (const r of results) writer.add(r);
          adapt(cells.length, results.reduce((ms, r) => ms + r.row.durationMs, 0));
        } else {
          writer.addLines(cells, results);
          adapt(cells.length, results.ms);
        }
      },
      (err: unknown) => {
        if (stop) return;
        if (cells.length > 1 && !isolated) {
          // A worker died: re-run its cells one per task so only the cell that kills it fails.
          for (const c of cells) retry.push([c]);
        } else {
          for (const c of cells) writer.add({ row: workerDiedRow(plan, c, err, performance.now() - started) });
        }
      },
    ).finally(() => {
      inFlight--;
      wake();
    });
  };

  try {
    while (!stop) {
      while (!stop && inFlight < inFlightMax() && (retry.length > 0 || (next < pending.length && next - writer.written < window()))) {
        if (retry.length > 0) launch(retry.shift()!, true);
        else {
          const cells = pending.slice(next, Math.min(next + nextSize(), pending.length));
          next += cells.length;
          launch(cells, false);
        }
      }
      if (writer.finished) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      flush();
    }
    // Stopped early: write what is contiguous, and drop the rest (resume recomputes it).
    flush();
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
  return stop ?? "complete";
}

/** The error row of a cell whose worker thread died running it alone (also used by the queue worker). */
export function workerDiedRow(plan: SweepPlan, cell: number, err: unknown, durationMs: number): Row {
  const row = errorRow(plan, cell, new Error(`worker died while running this cell: ${err instanceof Error ? err.message : String(err)}`), durationMs);
  row.errorCode = "WORKER_DIED";
  return row;
}

function truncate(path: string, bytes: number): void {
  if (!existsSync(path) || statSync(path).size === bytes) return;
  const fd = openSync(path, "r+");
  try {
    ftruncateSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
}

/** The row flattening of the CSV (src/core/csv.ts, shared with the page), for the Parquet writer. */
export { flattenRow };

/**
 * Writes `target` whole, line by line, through a temporary beside it (files.ts openAtomic): `fill`
 * hands each line to `line`, and they are written in batches. The file is put in place when
 * `fill` resolves; the temporary is removed when it throws, or when the process exits first (a
 * second stop signal exits at once). `onText` sees every piece written (merge hashes the rows).
 */
export async function writeLinesAtomic(target: string, field: string, fill: (line: (text: string) => void) => Promise<void>, onText?: (text: string) => void): Promise<void> {
  const file = openAtomic(target, field);
  const removeOnExit = () => file.abort();
  process.on("exit", removeOnExit);
  let lines: string[] = [];
  const flush = () => {
    const text = lines.join("\n") + "\n";
    lines = [];
    file.write(text);
    onText?.(text);
  };
  try {
    await fill((text) => {
      lines.push(text);
      if (lines.length >= 1000) flush();
    });
    if (lines.length) flush();
    file.commit();
  } catch (e) {
    file.abort();
    throw e;
  } finally {
    process.off("exit", removeOnExit);
  }
}

/** Writes the CSV of a rows file (atomically, streamed): one header (the union of columns, in order of first appearance), one line per row. */
export async function writeCsv(rowsPath: string, csvPath: string): Promise<void> {
  const columns = new Map<string, number>();
  await scanLines(rowsPath, (line) => {
    for (const k of flattenRow(JSON.parse(line)).keys()) if (!columns.has(k)) columns.set(k, columns.size);
    return true;
  });
  const keys = [...columns.keys()];
  await writeLinesAtomic(csvPath, "--csv", async (put) => {
    put(csvLine(keys));
    await scanLines(rowsPath, (line) => {
      const flat = flattenRow(JSON.parse(line));
      put(csvLine(keys.map((k) => flat.get(k))));
      return true;
    });
  });
}

/** Reads every row of a rows file (for summaries and tests). */
export async function readRows(path: string): Promise<Row[]> {
  const rows: Row[] = [];
  await scanLines(path, (line) => {
    if (line.trim() !== "") rows.push(JSON.parse(line) as Row);
    return true;
  });
  return rows;
}
