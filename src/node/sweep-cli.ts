// `plurisim sweep`, `plurisim merge` and `plurisim summarize` (docs/sweep.md).
//
// Loading this file is cheap (the CLI loads it at start-up to register the commands): the sweep
// spec, the engine, the thread pool, the merge and Parquet writers are imported inside the
// commands that use them.
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { basename } from "node:path";
import { Option, type Command } from "commander";
import { formatValue, PlurisimError } from "../core/errors.js";
import { toJson } from "../core/json.js";
import { sanitizeForTerminal } from "../core/text.js";
import type { SweepPlan } from "../sweep/spec.js";
import { checkOutputTarget, ensureParentDir, MAX_SPEC_BYTES, readBytes, writeFileAtomic } from "./files.js";
import { lockOutput, type OutputLock } from "./lock.js";
import { applySetsToSweepBase, intOption, setOption, type SetOverride } from "./options.js";
import { addQueueOptions, registerWorkerCommand, signalExitCode, submitFromCli } from "./queue/cli.js";
import type { SweepRunOptions } from "./sweep-run.js";

/** `text` safe to print, line by line: control characters escaped, the line breaks kept. */
const printable = (text: string): string => text.split("\n").map(sanitizeForTerminal).join("\n");

/** A sweep argument: `-` (standard input), a JSON file if one exists (or the name ends in .json), else a sweep preset; `--set` overrides change its base. */
export async function loadSweepArg(arg: string, force = false, sets?: readonly SetOverride[]): Promise<{ plan: SweepPlan; source: { path: string; sha256: string } | { preset: string } }> {
  const [{ loadWasmSource }, { parseSweep }, { sweepPresetDocument }, { sha256Hex }] = await Promise.all([
    import("./index.js"),
    import("../sweep/spec.js"),
    import("../sweep/presets.js"),
    import("../core/sha256.js"),
  ]);
  // Expanding the axes uses the Wasm's libm (logspace): load the module first (src/core/detmath.ts).
  await loadWasmSource();
  if (arg === "-" || existsSync(arg) || arg.endsWith(".json")) {
    const bytes = readBytes(arg, { field: "sweep", maxBytes: MAX_SPEC_BYTES });
    let doc: unknown;
    try {
      doc = JSON.parse(bytes.toString("utf8"));
    } catch (e) {
      // JSON.parse quotes the text around the error: both it and the path are shown escaped.
      throw new PlurisimError("INVALID_SWEEP", `${sanitizeForTerminal(arg)} is not valid JSON: ${sanitizeForTerminal((e as Error).message)}`, { field: "sweep", value: arg });
    }
    const plan = parseSweep(applySetsToSweepBase(doc, sets), { force, name: arg === "-" ? "stdin" : basename(arg).replace(/\.json$/, "") });
    return { plan, source: { path: arg, sha256: await sha256Hex(bytes) } };
  }
  return { plan: parseSweep(applySetsToSweepBase(sweepPresetDocument(arg), sets), { force }), source: { preset: arg } };
}

function parseShard(v: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) {
    throw new PlurisimError("INVALID_SWEEP", `--shard must be i/n with 0 <= i < n, e.g. 0/4 (got ${formatValue(v)})`, { field: "--shard", value: v });
  }
  return { index: Number(m[1]), count: Number(m[2]) };
}

function positiveInt(name: string, allowZero = false) {
  return intOption(name, allowZero ? 0 : 1);
}

/** The command's flags: the runner's options as the command line gives them, and the CLI's own. */
interface SweepFlags extends Partial<Pick<SweepRunOptions, "out" | "workers" | "batch" | "shard" | "resume" | "overwrite" | "failFast" | "csv">> {
  set?: SetOverride[];
  dryRun?: boolean;
  force?: boolean;
  summary?: boolean;
  list?: boolean;
  progress?: boolean;
  queue?: string;
  queueName?: string;
  queuePrefix?: string;
  attempts?: number;
}

async function sweepCommand(arg: string | undefined, flags: SweepFlags): Promise<void> {
  if (flags.list || !arg) {
    const { sweepPresets } = await import("../sweep/presets.js");
    const width = Math.max(...Object.keys(sweepPresets).map((k) => k.length));
    process.stdout.write(Object.entries(sweepPresets).map(([k, p]) => `${k.padEnd(width)}  ${p.description}`).join("\n") + "\n");
    return;
  }
  const { plan, source } = await loadSweepArg(arg, flags.force, flags.set);
  if (flags.dryRun) {
    const { formatDryRun, sweepDryRun } = await import("./sweep-dry-run.js");
    process.stdout.write(formatDryRun(await sweepDryRun(plan, { shard: flags.shard, workers: flags.workers })) + "\n");
    return;
  }
  const { checkCsvTarget, defaultOut } = await import("./sweep-run.js");
  const requested = flags.out ?? defaultOut(plan.name, flags.shard);
  // --out x.parquet: the rows journal is x.jsonl beside it (resume, shards and merge read it); the
  // Parquet is written from it once the sweep is complete, and its writer loads only then.
  const out = requested.replace(/\.parquet$/i, ".jsonl");
  // The output is locked before the queue is touched, so a second submitter adds nothing.
  checkCsvTarget(flags.csv);
  ensureParentDir(out, "--out");
  const lock = lockOutput(out);
  const stop = watchStopSignals(true, "the rows hold whole lines: resume with --resume");
  try {
    await runAndReport(plan, source, out, flags, lock, stop);
    if (out !== requested) {
      const { exportSweepParquet } = await import("./parquet.js");
      reportParquet(await exportSweepParquet(out, requested), requested);
    }
  } finally {
    stop.dispose();
    lock.release();
  }
}

/** Says on stderr what a Parquet export (parquet.ts) wrote to `out`. */
export function reportParquet(r: { rows: number; trajectories: string | null; trajectoryValues: number }, out: string): void {
  const also = r.trajectories ? ` and ${r.trajectoryValues} trajectory values to ${sanitizeForTerminal(r.trajectories)}` : "";
  process.stderr.write(`wrote ${r.rows} rows to ${sanitizeForTerminal(out)}${also}\n`);
}

/** How a command that writes outputs answers SIGINT and SIGTERM (watchStopSignals). */
interface StopSignals {
  /** Aborts on the first signal while the stop is graceful (or on abort()). */
  readonly signal: AbortSignal;
  /** The first signal received, or null. */
  readonly received: NodeJS.Signals | null;
  abort(): void;
  /** From now on a signal stops the process at once (nothing is left that stops gracefully). */
  atOnce(): void;
  dispose(): void;
}

/**
 * SIGINT and SIGTERM while a command writes its outputs. While `graceful`, the first aborts
 * `signal` (a sweep then stops after whole lines and writes its manifest); a second one, or any
 * after atOnce(), exits at once with 130 or 143, `leftAs` saying what the files hold. Exiting
 * releases the output locks (lock.ts) and removes the temporary of a file being streamed
 * (writeLinesAtomic); every other write and every row line is synchronous (sweep-run.ts), so no
 * handler runs while one is half done: the rows file is whole lines and `--resume` continues it.
 */
function watchStopSignals(graceful: boolean, leftAs: string): StopSignals {
  const controller = new AbortController();
  let received: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    if (received || !graceful) {
      process.stderr.write(`\nplurisim: ${sig}${received ? " again" : ""}: stopped at once; ${leftAs}\n`);
      process.exit(signalExitCode(sig));
    }
    received = sig;
    process.stderr.write(`\nplurisim: ${sig}: stopping after whole lines; resume with --resume (${sig} again to stop at once)\n`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    abort: () => controller.abort(),
    atOnce: () => {
      graceful = false;
    },
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

async function runAndReport(plan: SweepPlan, source: Awaited<ReturnType<typeof loadSweepArg>>["source"], out: string, flags: SweepFlags, lock: OutputLock, stop: StopSignals): Promise<void> {
  const [{ readRows, runSweep }, { summarize }] = await Promise.all([import("./sweep-run.js"), import("../sweep/summary.js")]);
  let queued: Awaited<ReturnType<typeof submitFromCli>> | undefined;
  let lostQueue: unknown;
  let outcome;
  try {
    // With --queue the server is probed (at most 3 s, cut short by a signal) before any file is
    // written; the jobs of the missing cells are added when the run first asks for cells.
    queued = flags.queue !== undefined ? await submitFromCli(plan, flags, stop.signal) : undefined;
    if (queued === null) process.exit(signalExitCode(stop.received ?? "SIGTERM"));
    queued?.lost.catch((e) => {
      lostQueue = e;
      stop.abort();
    });
    outcome = await runSweep({
      plan,
      out,
      sweepFile: source,
      workers: queued ? queued.pool.workers : flags.workers,
      batch: queued ? queued.batch : flags.batch,
      pool: queued?.pool,
      queue: queued?.where,
      shard: flags.shard,
      resume: flags.resume,
      overwrite: flags.overwrite,
      failFast: flags.failFast,
      csv: flags.csv,
      progress: flags.progress !== false,
      signal: stop.signal,
      lock,
      onNote: (text) => process.stderr.write(`plurisim: ${printable(text)}\n`),
    });
  } finally {
    await queued?.close();
  }
  // The rows and the manifest are written: what is left (the summary, a Parquet export) stops at once.
  stop.atOnce();
  const c = outcome.counts;
  const shown = (path: string) => sanitizeForTerminal(path);
  process.stderr.write(
    `${outcome.status}: ${c.done}/${c.shard} cells written (${c.ok} ok, ${c.failed} failed; ${c.ranNow} run now) -> ${shown(outcome.paths.rows)}` +
      `${plan.keep.trajectory ? `, ${shown(outcome.paths.trajectories)}` : ""}${flags.csv ? `, ${shown(outcome.paths.csv)}` : ""}; manifest ${shown(outcome.paths.manifest)}\n`,
  );
  if (lostQueue) throw lostQueue;
  if (outcome.status === "interrupted") process.exit(signalExitCode(stop.received ?? "SIGINT"));
  if (outcome.status === "failed") {
    process.stderr.write("plurisim: --fail-fast: stopped at the first failed cell\n");
    process.exit(1);
  }
  if (flags.summary !== false && c.done === c.shard) {
    const s = summarize(plan.summary, await readRows(outcome.paths.rows));
    process.stdout.write(`${printable(s.title)}\n${printable(s.text)}\n`);
  }
}

interface MergeFlags {
  out: string;
  sweep?: string;
  force?: boolean;
  csv?: boolean | string;
}

/** Merges shard outputs (each cell-ordered) into one ordered file; refuses missing or duplicated cells, and rows of another sweep. */
export async function mergeFiles(files: string[], flags: MergeFlags): Promise<{ cells: number; out: string }> {
  const [{ cellLines, hashFile, MANIFEST_FORMAT, planHash, readManifest, readRows, sweepPaths, writeCsv, writeLinesAtomic }, { mergeOrdered, rowMismatch }] = await Promise.all([
    import("./sweep-run.js"),
    import("../sweep/merge.js"),
  ]);
  const shown = (path: string) => sanitizeForTerminal(path);
  for (const f of files) if (!existsSync(f)) throw new PlurisimError("FILE", `cannot merge: ${shown(f)} does not exist`, { field: "files", value: f });
  const manifests = await Promise.all(files.map((f) => readManifest(sweepPaths(f).manifest)));
  let plan: SweepPlan | undefined;
  let hash: string | undefined;
  if (flags.sweep) {
    plan = (await loadSweepArg(flags.sweep, flags.force)).plan;
    hash = await planHash(plan);
  }
  for (const [k, m] of manifests.entries()) {
    if (!m) continue;
    if (hash && m.planSha256 !== hash) throw new PlurisimError("INVALID_SWEEP", `cannot merge: ${shown(files[k])} was written by a different sweep than ${shown(flags.sweep ?? files[0])}`, { field: "files", value: files[k] });
    hash ??= m.planSha256;
    plan ??= m.plan;
  }
  for (const [k, m] of manifests.entries()) {
    if (!m?.rows) continue;
    const sha256 = (await hashFile(files[k])).digest("hex");
    if (sha256 !== m.rows.sha256) {
      throw new PlurisimError(
        "INVALID_SWEEP",
        `cannot merge: ${shown(files[k])} is not the rows file its manifest describes (SHA-256 ${sha256.slice(0, 12)}, the manifest says ${m.rows.sha256.slice(0, 12)})` +
          (m.status === "running" ? "; that run did not finish: resume it first" : ": the manifest belongs to another sweep or run"),
        { field: "files", value: files[k] },
      );
    }
  }
  const wasm = new Set(manifests.filter((m) => m).map((m) => m!.engine.wasmSha256));
  if (wasm.size > 1) throw new PlurisimError("INVALID_SWEEP", `cannot merge: the files come from different engine builds (wasm ${[...wasm].map((h) => h.slice(0, 12)).join(", ")})`, { field: "files", value: [...wasm] });
  if (!plan) throw new PlurisimError("INVALID_SWEEP", "cannot merge: no manifest beside the files (x.manifest.json) and no --sweep to say how many cells there are", { field: "--sweep" });
  const thePlan = plan;

  const outPaths = sweepPaths(flags.out, typeof flags.csv === "string" ? flags.csv : undefined);
  const inputs = new Set(files.flatMap((f) => [f, sweepPaths(f).trajectories, sweepPaths(f).manifest]).filter(existsSync).map((f) => identity(f)));
  for (const target of [outPaths.rows, outPaths.trajectories, outPaths.manifest, ...(flags.csv ? [outPaths.csv] : [])]) {
    checkOutputTarget(target, target === outPaths.csv ? "--csv" : "--out");
    if (existsSync(target) && inputs.has(identity(target))) throw new PlurisimError("FILE", `refusing to write ${shown(target)}: it is one of the files being merged; merge into another file`, { field: "--out", value: target });
  }
  ensureParentDir(flags.out, "--out");
  const lock = lockOutput(flags.out);
  try {
    let rowsIdentity: { sha256: string; bytes: number } | undefined;
    const mergeOne = async (sources: { name: string; lines: AsyncIterable<{ cell: number; line: string }> }[], target: string) => {
      const hash = createHash("sha256");
      let bytes = 0;
      let cells = 0;
      const written = (text: string) => {
        hash.update(text);
        bytes += Buffer.byteLength(text);
      };
      await writeLinesAtomic(
        target,
        "--out",
        async (line) => {
          cells = (await mergeOrdered(sources, thePlan.total, line)).cells;
        },
        written,
      );
      if (target === outPaths.rows) rowsIdentity = { sha256: hash.digest("hex"), bytes };
      return cells;
    };
    const checked = async function* (f: string) {
      for await (const l of cellLines(f)) {
        const why = rowMismatch(thePlan, l.row);
        if (why) throw new PlurisimError("INVALID_SWEEP", `cannot merge: ${shown(f)}: the row of cell ${l.cell} ${sanitizeForTerminal(why)}, so it comes from another sweep than its manifest says`, { field: "files", value: f });
        yield l;
      }
    };
    const cells = await mergeOne(files.map((f) => ({ name: f, lines: checked(f) })), outPaths.rows);
    const trajectories = files.map((f) => sweepPaths(f).trajectories);
    const haveTraj = thePlan.keep.trajectory && trajectories.every((t) => existsSync(t));
    if (haveTraj) await mergeOne(trajectories.map((f) => ({ name: f, lines: cellLines(f) })), outPaths.trajectories);
    if (flags.csv) await writeCsv(outPaths.rows, outPaths.csv);
    const rows = await readRows(outPaths.rows);
    const failed = rows.filter((r) => r.status !== "ok").length;
    const first = manifests.find((m) => m);
    const manifest = {
      format: MANIFEST_FORMAT,
      name: thePlan.name,
      status: "complete",
      mergedFrom: files.map((f, k) => ({ file: f, shard: manifests[k]?.shard ?? null, status: manifests[k]?.status ?? null })),
      sweepFile: first?.sweepFile ?? (flags.sweep ? { path: flags.sweep } : null),
      planSha256: hash ?? (await planHash(thePlan)),
      plan: thePlan,
      engine: first?.engine ?? null,
      shard: { index: 0, count: 1 },
      cells: { total: thePlan.total, shard: thePlan.total, done: cells, ok: cells - failed, failed, pending: 0 },
      startedAt: manifests.map((m) => m?.startedAt).filter(Boolean).sort()[0] ?? null,
      endedAt: manifests.map((m) => m?.endedAt).filter(Boolean).sort().pop() ?? null,
      mergedAt: new Date().toISOString(),
      files: { rows: outPaths.rows, trajectories: haveTraj ? outPaths.trajectories : null, csv: flags.csv ? outPaths.csv : null },
      rows: rowsIdentity,
    };
    await writeFileAtomic(outPaths.manifest, toJson(manifest, 2) + "\n");
    return { cells, out: outPaths.rows };
  } finally {
    lock.release();
  }
}

function identity(path: string): string {
  const st = statSync(path);
  return `${st.dev}:${st.ino}`;
}

/** Adds `sweep`, `merge` and `summarize` to the plurisim program. */
export function registerSweepCommands(program: Command): void {
  const sweep = program
    .command("sweep")
    .description("run a parameter sweep (a sweep file or a sweep preset) on all cores; rows stream to JSONL")
    .argument("[sweep]", "sweep.json or a sweep preset (table5, lemma35, k-phase); omit to list the presets")
    .addOption(setOption())
    .option("--dry-run", "print the cells, the shard's slice, the threads and an estimated time (from a few cells run now); write nothing")
    .option("--out <file>", "rows file (JSONL); beside it: .trajectories.jsonl, .csv, .manifest.json (default out/<name>.jsonl)")
    .addOption(new Option("--workers <n>", "worker threads (default: the available cores; 0 = main thread)").argParser(positiveInt("--workers", true)))
    .addOption(new Option("--batch <n>", "cells per task (default: up to 16)").argParser(positiveInt("--batch")))
    .addOption(new Option("--shard <i/n>", "run only cells c with c mod n = i (0-based), e.g. $SLURM_ARRAY_TASK_ID/8").argParser(parseShard))
    .option("--resume", "continue an interrupted sweep: keep the rows written, run the rest")
    .option("--overwrite", "start again even if the rows file exists")
    .option("--fail-fast", "stop at the first cell that fails (exit code 1)")
    .option("--csv [file]", "also write the rows as CSV (default: beside the rows file)")
    .option("--force", "allow a sweep over the cell limit (1,000,000 cells)")
    .option("--no-summary", "do not print the summary after the run")
    .option("--no-progress", "no progress display")
    .option("--list", "list the sweep presets");
  addQueueOptions(sweep).action(sweepCommand);
  registerWorkerCommand(program);

  program
    .command("merge")
    .description("merge shard outputs into one file ordered by cell; refuses missing or duplicated cells")
    .argument("<files...>", "rows files (JSONL) of the shards, each with its .manifest.json beside it")
    .requiredOption("--out <file>", "merged rows file (JSONL)")
    .option("--sweep <file>", "the sweep file or preset (needed when the manifests are missing)")
    .option("--csv [file]", "also write the merged rows as CSV")
    .option("--force", "allow a sweep over the cell limit")
    .action(async (files: string[], flags: MergeFlags) => {
      // A shard is checked against its manifest and hashed beside it; standard input has neither.
      if (files.includes("-")) throw new PlurisimError("USAGE", 'merge reads shard files with their .manifest.json beside them; "-" (standard input) is not a shard: save it to a file first', { field: "files", value: "-" });
      const { exportSweepParquet, isParquetPath } = await import("./parquet.js");
      // --out x.parquet: merge into x.jsonl, then write the Parquet from it (as sweep --out x.parquet).
      const parquet = isParquetPath(flags.out) ? flags.out : undefined;
      const out = parquet ? parquet.replace(/\.parquet$/i, ".jsonl") : flags.out;
      const stop = watchStopSignals(false, "the shards are untouched and each merged file is whole or absent");
      try {
        const r = await mergeFiles(files, { ...flags, out });
        process.stderr.write(`merged ${files.length} files: ${r.cells} cells -> ${sanitizeForTerminal(r.out)}\n`);
        if (parquet) {
          reportParquet(await exportSweepParquet(r.out, parquet), parquet);
        }
      } finally {
        stop.dispose();
      }
    });

  program
    .command("summarize")
    .description("print the summary of a sweep's rows (the Table 5 analogue for table5, ...)")
    .argument("<rows>", "rows file (JSONL) of a finished sweep, or - for standard input")
    .option("--as <summary>", "summary to use: table5, lemma35, k-phase, counts (default: the sweep's own)")
    .option("--json", "print the summary data as JSON")
    .action(async (rowsPath: string, flags: { as?: string; json?: boolean }) => {
      if (rowsPath === "-") {
        // Rows piped in: no manifest beside them, so the summary is --as's or the counts.
        const [{ summarize }, { readStdinRows }] = await Promise.all([import("../sweep/summary.js"), import("./plot-input.js")]);
        const s = summarize(flags.as, await readStdinRows());
        process.stdout.write(flags.json ? toJson(s.data, 2) + "\n" : `${printable(s.title)}\n${printable(s.text)}\n`);
        return;
      }
      const shown = sanitizeForTerminal(rowsPath);
      if (!existsSync(rowsPath)) throw new PlurisimError("FILE", `cannot read ${shown}: no such file`, { field: "rows", value: rowsPath });
      if (!statSync(rowsPath).isFile()) throw new PlurisimError("FILE", `cannot read ${shown}: it is not a regular file`, { field: "rows", value: rowsPath });
      const [{ readManifest, sweepPaths }, { summarize }, { readSweepRows }] = await Promise.all([import("./sweep-run.js"), import("../sweep/summary.js"), import("./plot-input.js")]);
      const name = flags.as ?? (await readManifest(sweepPaths(rowsPath).manifest))?.plan.summary;
      const s = summarize(name, await readSweepRows(rowsPath));
      process.stdout.write(flags.json ? toJson(s.data, 2) + "\n" : `${printable(s.title)}\n${printable(s.text)}\n`);
    });
}


