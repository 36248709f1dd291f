// Where a sweep's batches run: a Piscina pool of sweep workers, the main thread (workers = 0),
// or, when no thread count is asked for, the start-fast pool: the main thread runs cells at once
// and worker threads start only when the cells left are worth their start-up (docs/sweep.md).
// The compiled module is posted to every worker; each instantiates its own engine.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { createEngineFrom, type Engine, type WasmSource } from "../core/engine.js";
import { atomCount, parseScenario } from "../core/scenario.js";
import { cellAt, type SweepPlan } from "../sweep/spec.js";
import { runBatch, runBatchLines, runCell, toLines, type BatchLines, type CellResult } from "../sweep/task.js";
import type { SweepWorkerData, SweepWorkerReady } from "./sweep-worker.js";

export interface SweepPool {
  /** Threads running cells (0: the main thread); for the start-fast pool, the threads started so far. */
  readonly workers: number;
  /** Runs a batch; rejects if the worker running it dies (or the pool is destroyed). */
  run(cells: number[]): Promise<CellResult[]>;
  /** As run, the results as file lines (serialised where the cells ran); runSweep prefers it. */
  runLines?(cells: number[]): Promise<BatchLines>;
  destroy(): Promise<void>;
}

export interface SweepPoolOptions {
  plan: SweepPlan;
  wasm: WasmSource;
  /** Worker threads; 0 runs batches on the main thread. Default: the available cores. */
  workers?: number;
  /** Test-only: a worker exits when it reaches one of these cells. */
  exitOnCells?: number[];
}

/** The default worker count: os.availableParallelism(). */
export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * The threads a run of `cells` cells uses: the request (default: the cores), at most one per core
 * and one per cell, since more only adds start-up time and memory; 0 (the main thread) stays 0.
 * A request that is lowered is reported through `note`.
 */
export function capWorkers(requested: number | undefined, cells: number, note: (text: string) => void = () => {}, cores = availableParallelism()): number {
  if (requested === 0) return 0;
  const want = requested ?? cores;
  const cap = Math.max(1, Math.min(cores, cells));
  if (want <= cap) return want;
  if (requested !== undefined) {
    const why = cells < cores ? `${cells} cell${cells === 1 ? "" : "s"} to run` : `${cores} core${cores === 1 ? "" : "s"}`;
    note(`--workers ${requested}: using ${cap} (only ${why})`);
  }
  return cap;
}

/**
 * The compiled worker file. Under dist/ it sits beside this one; when this module runs from
 * src/ (vitest), the compiled copy in dist/src/node/ is used (build it first: npm run build:ts).
 */
export function workerFile(): string {
  const here = new URL("./sweep-worker.js", import.meta.url);
  const path = fileURLToPath(here);
  if (existsSync(path)) return path;
  const dist = fileURLToPath(new URL("../../dist/src/node/sweep-worker.js", import.meta.url));
  if (existsSync(dist)) return dist;
  throw new Error(`sweep worker not found at ${path} or ${dist}: run npm run build:ts`);
}

/** A pool of worker threads that says when the first of them can run a batch. */
interface ThreadPool extends SweepPool {
  /** Resolves when a worker has its engine (the first batch can start); never rejects. */
  readonly ready: Promise<void>;
  runLines(cells: number[]): Promise<BatchLines>;
}

// Piscina loads with the first pool, so a sweep that never starts a thread never loads it.
const importPiscina = () => import("piscina");
let piscina: ReturnType<typeof importPiscina> | undefined;

async function threadPool(options: SweepPoolOptions, workers: number, filename = workerFile()): Promise<ThreadPool> {
  const { Piscina } = await (piscina ??= importPiscina());
  const workerData: SweepWorkerData = {
    module: options.wasm.module,
    wasmSha256: options.wasm.wasmSha256,
    plan: options.plan,
    exitOnCells: options.exitOnCells,
  };
  const pool = new Piscina({
    filename,
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 60_000,
    maxQueue: "auto",
    workerData,
  });
  const ready = new Promise<void>((resolve) => {
    const onMessage = (message: unknown) => {
      if (message !== ("plurisim-sweep-worker-ready" satisfies SweepWorkerReady)) return;
      pool.off("message", onMessage);
      resolve();
    };
    pool.on("message", onMessage);
  });
  return {
    workers,
    ready,
    run: (cells) => pool.run(cells) as Promise<CellResult[]>,
    runLines: (cells) => pool.run(cells, { name: "runSweepBatchLines" }) as Promise<BatchLines>,
    destroy: () => pool.destroy(),
  };
}

/** A pool for one sweep plan. */
export async function createSweepPool(options: SweepPoolOptions): Promise<SweepPool & { readonly ready: Promise<void> }> {
  const workers = options.workers ?? defaultWorkers();
  if (!Number.isSafeInteger(workers) || workers < 0) throw new RangeError(`workers must be a non-negative integer (got ${workers})`);
  if (workers === 0) {
    const engine = await createEngineFrom(options.wasm);
    return {
      workers: 0,
      ready: Promise.resolve(),
      run: async (cells) => runBatch(engine, options.plan, cells),
      runLines: async (cells) => runBatchLines(engine, options.plan, cells),
      destroy: async () => {},
    };
  }
  return threadPool(options, workers);
}

/**
 * The start-fast pool starts threads once the cells left, at the main thread's latest time per
 * cell, would take longer than this. A worker needs about 0.1 to 0.2 s before its first cell
 * (thread, modules, Wasm instance), and the main thread, busy with cells meanwhile, loses a share
 * of its core to them on a small machine: below this, the main thread alone finishes first.
 */
export const START_THREADS_AFTER_MS = 250;

/**
 * The longest a cell may take on the main thread: past it the event loop (Ctrl-C, the row writer)
 * waited too long, so the cells after it go to threads.
 */
export const MAIN_THREAD_CELL_MS = 100;

/**
 * Work of a cell in atom-generations (K = infinity, exact retraining: about a nanosecond each,
 * nsPerAtomGen in docs/bench.md), from its scenario alone, before anything runs. The main thread
 * tries a first cell only below MAIN_THREAD_WORK; a finite K costs some 32 kernel nodes per atom,
 * sampled retraining its samples x K draws; the fitted models (gmm, kde, flow) never start there.
 */
export function cellWork(plan: SweepPlan, cell: number): number {
  let s;
  try {
    s = parseScenario(cellAt(plan, cell).scenario);
  } catch {
    return 0; // an error row: nothing to run
  }
  const K = s.curation.K === "inf" ? Infinity : s.curation.K;
  let perGeneration = atomCount(s.space) * s.groups.length * (K === Infinity ? 1 : 32);
  const rt = s.retraining;
  if (rt.model === "histogram") perGeneration += 4 * rt.samples * (K === Infinity ? 1 : K);
  else if (rt.model !== "exact") return Infinity;
  if (!plan.keep.dynamics) return perGeneration * 100; // the Nash solution only
  return perGeneration * Math.max(1, s.generations);
}

/** Atom-generations below which the main thread may run a sweep's first cell (some 30 ms once warm). */
export const MAIN_THREAD_WORK = 3e7;

export interface StartFastOptions {
  plan: SweepPlan;
  wasm: WasmSource;
  /** The cells the run will ask for, in order. */
  cells: readonly number[];
  /** Cores to use at most (default: os.availableParallelism()). */
  cores?: number;
  /** Default START_THREADS_AFTER_MS (tests use 0 to start threads at the first chance). */
  startAfterMs?: number;
}

/** The start-fast pool: a SweepPool that also says what ran where. */
export interface StartFastPool extends SweepPool {
  /** Cells the main thread has run. */
  readonly onMain: number;
  /** Resolves once threads have started and one of them can run a batch (never, if none start). */
  readonly threadsReady: Promise<void>;
}

interface Task {
  cells: number[];
  /** Wanted as file lines (runLines) rather than results. */
  lines: boolean;
  resolve: (results: CellResult[] | BatchLines) => void;
  reject: (e: unknown) => void;
}

/** Two batches' lines as one batch (b's cells after a's). */
function joinLines(a: BatchLines, b: BatchLines): BatchLines {
  return {
    rows: [...a.rows, ...b.rows],
    trajectories: a.trajectories && b.trajectories ? [...a.trajectories, ...b.trajectories] : null,
    failed: [...a.failed, ...b.failed.map((i) => i + a.rows.length)],
    ms: a.ms + b.ms,
  };
}

/**
 * The pool of a sweep run without a thread count. The main thread takes batches from the front of
 * the queue at once, one cell per turn of the event loop; once the cells left are estimated to
 * take over START_THREADS_AFTER_MS it starts worker threads (one per core, at most one per cell
 * left), keeps taking batches until one of them reports ready, then leaves the rest to them,
 * the unstarted cells of the batch in hand included. A first cell that looks heavy (cellWork) or
 * a slow cell sends everything to threads at once, as `--workers` does. Rows do not depend on where a cell ran (task.ts: a cell's seed is its own).
 */
export async function createStartFastPool(options: StartFastOptions): Promise<StartFastPool> {
  const { plan, wasm } = options;
  const cores = options.cores ?? availableParallelism();
  const startAfter = options.startAfterMs ?? START_THREADS_AFTER_MS;
  const filename = workerFile(); // a missing build fails now, not once threads are wanted
  const queue: Task[] = [];
  let left = options.cells.length;
  let threads: ThreadPool | null = null;
  let starting: Promise<ThreadPool> | null = null;
  let threadsInFlight = 0;
  let mainTakes = options.cells.length > 0 && cellWork(plan, options.cells[0]) <= MAIN_THREAD_WORK;
  let engine: Engine | null = mainTakes ? await createEngineFrom(wasm) : null;
  let onMainNow: Task | null = null;
  let threadsAreReady = false;
  let cellsOnMain = 0;
  let destroyed = false;
  let failed: unknown;
  let threadsStarted: (ready: Promise<void>) => void = () => {};
  const threadsReady = new Promise<void>((resolve) => (threadsStarted = (ready) => void ready.then(resolve)));

  const start = () => {
    if (starting || destroyed || left <= 0) return;
    starting = threadPool({ plan, wasm }, capWorkers(undefined, left, undefined, cores), filename);
    starting.then(
      (pool) => {
        if (destroyed) return;
        threads = pool;
        void pool.ready.then(() => {
          mainTakes = false;
          threadsAreReady = true;
          pump();
        });
        threadsStarted(pool.ready);
        pump();
      },
      (e: unknown) => {
        // Threads cannot start (Piscina did not load): the batches they were to run fail, as a dead worker's do.
        failed = e;
        pump();
      },
    );
  };
  const toThreads = (task: Task) => {
    threadsInFlight++;
    (task.lines ? threads!.runLines(task.cells) : threads!.run(task.cells)).then(
      (results) => {
        left -= task.cells.length;
        task.resolve(results);
      },
      task.reject,
    ).finally(() => {
      threadsInFlight--;
      pump();
    });
  };
  // One cell per turn: messages (a worker ready, a result, a signal) are seen between cells.
  const onMain = (task: Task, results: CellResult[]) => {
    if (destroyed) return;
    const cell = task.cells[results.length];
    const t0 = performance.now();
    results.push(runCell(engine!, plan, cell));
    const ms = performance.now() - t0;
    cellsOnMain++;
    left--;
    // The first cell also pays for compiling the JavaScript: it counts as slow only past both limits,
    // and the estimate of the cells left waits for the second.
    if (ms > (cellsOnMain === 1 ? Math.max(startAfter, MAIN_THREAD_CELL_MS) : MAIN_THREAD_CELL_MS)) mainTakes = false;
    if (!mainTakes || (cores > 1 && cellsOnMain > 1 && left * ms > startAfter)) start();
    if (results.length < task.cells.length) {
      // Threads ready: the rest of the batch goes to them now rather than after it on this core,
      // which would make three computing threads on two cores.
      if (threadsAreReady) handOver(task, results);
      else setImmediate(onMain, task, results);
      return;
    }
    onMainNow = null;
    task.resolve(task.lines ? toLines(plan, results) : results);
    pump();
  };
  // The cells of a batch the main thread had not started, as a batch of their own at the front of
  // the queue; the batch resolves with the main thread's results and theirs, in order.
  const handOver = (task: Task, done: CellResult[]) => {
    onMainNow = null;
    const head = task.lines ? toLines(plan, done) : done;
    queue.unshift({
      cells: task.cells.slice(done.length),
      lines: task.lines,
      resolve: (tail) => task.resolve(task.lines ? joinLines(head as BatchLines, tail as BatchLines) : [...done, ...(tail as CellResult[])]),
      reject: task.reject,
    });
    pump();
  };
  const pump = () => {
    if (destroyed) return;
    if (!mainTakes) {
      if (failed !== undefined) for (const task of queue.splice(0)) task.reject(failed);
      start();
      const pool = threads;
      if (pool) while (queue.length > 0 && threadsInFlight < 2 * pool.workers) toThreads(queue.shift()!);
      return;
    }
    if (!onMainNow && queue.length > 0) {
      onMainNow = queue.shift()!;
      setImmediate(onMain, onMainNow, []);
    }
  };
  if (!mainTakes) start();
  const enqueue = <T extends CellResult[] | BatchLines>(cells: number[], lines: boolean) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ cells, lines, resolve: resolve as Task["resolve"], reject });
      pump();
    });

  return {
    get workers() {
      return threads?.workers ?? 0;
    },
    get onMain() {
      return cellsOnMain;
    },
    threadsReady,
    run: (cells) => enqueue<CellResult[]>(cells, false),
    runLines: (cells) => enqueue<BatchLines>(cells, true),
    destroy: async () => {
      destroyed = true;
      for (const task of [...queue.splice(0), ...(onMainNow ? [onMainNow] : [])]) task.reject(new Error("the sweep pool was destroyed"));
      engine = null;
      await (await starting?.catch(() => null))?.destroy();
    },
  };
}
