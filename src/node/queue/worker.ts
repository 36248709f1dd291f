// `plurisim worker --queue ...`: takes jobs (batches of cells) from the queue and runs them on
// its own Piscina pool (pool.ts: one pool per sweep plan, the Wasm module loaded the same way as
// for a local sweep). A job returns its rows as JSON text written by toJson, so non-finite
// numbers survive the trip and the collector writes the very lines a local run writes.
//
// Loss of a worker: BullMQ holds a lock on each active job, renewed every lockDuration / 2 by this
// process's main thread (the cells run on Piscina threads, so the renewal is never starved). A
// killed worker stops renewing; after lockDuration another worker's stalled check (every
// stalledInterval) moves the job back to the queue, up to maxStalled times, then fails it.
import { Queue, Worker, type Job } from "bullmq";
import { toJson } from "../../core/json.js";
import type { WasmSource } from "../../core/engine.js";
import type { CellResult } from "../../sweep/task.js";
import { loadWasmSource } from "../index.js";
import { createSweepPool, type SweepPool } from "../pool.js";
import { workerDiedRow } from "../sweep-run.js";
import { connectionOptions, openClient } from "./connection.js";
import { type QueueTarget } from "./target.js";
import { planKey, type JobData, type PlanRecord, type QueueNames } from "./jobs.js";

export interface QueueWorkerOptions {
  target: QueueTarget;
  names: QueueNames;
  /** Piscina threads, and jobs run at once (default: the available cores). */
  workers: number;
  /** Stop when the queue has had no waiting, delayed or active job for idleMs. */
  exitWhenIdle?: boolean;
  idleMs?: number;
  /** BullMQ lock on an active job (default 30000 ms): a killed worker's job is retaken after about this long. */
  lockDuration?: number;
  /** How often this worker looks for stalled jobs (default 30000 ms). */
  stalledInterval?: number;
  /** Times a job may stall (its worker lost) before it fails (default 2). */
  maxStalled?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
  wasm?: WasmSource;
  /** Test-only: jobs holding one of these cells throw (to exercise --attempts). */
  failOnCells?: number[];
}

export interface QueueWorkerOutcome {
  jobs: number;
  cells: number;
  failedJobs: number;
}

interface PlanEntry {
  record: PlanRecord;
  pool: SweepPool;
  lastUsed: number;
  active: number;
}

/** Runs jobs until the signal aborts (or, with exitWhenIdle, the queue is empty); resolves with counts. */
export async function runQueueWorker(o: QueueWorkerOptions): Promise<QueueWorkerOutcome> {
  const log = o.log ?? (() => {});
  const wasm = o.wasm ?? (await loadWasmSource());
  const client = openClient(o.target);
  client.on("error", () => {});
  const plans = new Map<string, Promise<PlanEntry>>();
  const failOn = new Set(o.failOnCells ?? []);
  const outcome: QueueWorkerOutcome = { jobs: 0, cells: 0, failedJobs: 0 };

  const entryOf = (hash: string): Promise<PlanEntry> => {
    let p = plans.get(hash);
    if (!p) {
      p = (async () => {
        const text = (await client.call("GET", planKey(o.names, hash))) as string | null;
        if (text === null) throw new Error(`no plan record for sweep ${hash.slice(0, 12)} on the queue (cleared while its jobs remained?)`);
        const record = JSON.parse(text) as PlanRecord;
        const pool = await createSweepPool({ plan: record.plan, wasm, workers: o.workers });
        log(`worker: sweep ${record.plan.name} (${hash.slice(0, 12)}): ${record.plan.total} cells, ${record.batch} per job`);
        return { record, pool, lastUsed: Date.now(), active: 0 };
      })();
      plans.set(hash, p);
      p.catch(() => plans.delete(hash));
    }
    return p;
  };

  const runCells = async (entry: PlanEntry, cells: number[]): Promise<CellResult[]> => {
    const started = performance.now();
    try {
      return await entry.pool.run(cells);
    } catch (err) {
      if (cells.length === 1) return [{ row: workerDiedRow(entry.record.plan, cells[0], err, performance.now() - started) }];
      // A thread died: re-run the batch one cell per task, as the local runner does.
      const out: CellResult[] = [];
      for (const c of cells) out.push(...(await runCells(entry, [c])));
      return out;
    }
  };

  const processor = async (job: Job<JobData, string>): Promise<string> => {
    const { plan: hash, start, end } = job.data;
    const entry = await entryOf(hash);
    if (entry.record.wasmSha256 !== wasm.wasmSha256) {
      throw new Error(`engine build mismatch: the sweep needs wasm ${entry.record.wasmSha256.slice(0, 12)}, this worker has ${wasm.wasmSha256.slice(0, 12)}; run workers from the same plurisim build`);
    }
    const cells: number[] = [];
    for (let c = start; c < end; c++) cells.push(c);
    if (cells.some((c) => failOn.has(c))) throw new Error(`test failure injected for cells ${cells.join(",")}`);
    entry.active++;
    try {
      const results = await runCells(entry, cells);
      outcome.cells += cells.length;
      return toJson(results);
    } finally {
      entry.active--;
      entry.lastUsed = Date.now();
    }
  };

  const connection = connectionOptions(o.target);
  const worker = new Worker<JobData, string>(o.names.queue, processor, {
    connection,
    prefix: o.names.prefix,
    concurrency: o.workers,
    lockDuration: o.lockDuration ?? 30_000,
    stalledInterval: o.stalledInterval ?? 30_000,
    maxStalledCount: o.maxStalled ?? 2,
    autorun: false,
  });
  let lastError = "";
  worker.on("error", (e) => {
    if (e.message !== lastError) log(`worker: ${e.message}`);
    lastError = e.message;
  });
  worker.on("completed", () => outcome.jobs++);
  worker.on("failed", (job, e) => {
    outcome.failedJobs++;
    log(`worker: job ${job?.id} failed (attempt ${job?.attemptsMade}): ${e.message}`);
  });
  const queue = new Queue(o.names.queue, { connection, prefix: o.names.prefix });
  queue.on("error", () => {});
  const running = worker.run();

  // Idle check and cleanup of pools of sweeps not seen for a minute.
  let idleSince = 0;
  const stopped = new Promise<void>((resolve) => {
    const onAbort = () => resolve();
    o.signal?.addEventListener("abort", onAbort, { once: true });
    if (o.signal?.aborted) resolve();
    const timer = setInterval(async () => {
      for (const [hash, p] of plans) {
        const e = await p.catch(() => null);
        if (e && e.active === 0 && Date.now() - e.lastUsed > 60_000) {
          plans.delete(hash);
          void e.pool.destroy();
        }
      }
      if (!o.exitWhenIdle) return;
      try {
        const n = await queue.getJobCountByTypes("waiting", "active", "delayed", "prioritized");
        if (n === 0 && worker.isRunning()) {
          idleSince ||= Date.now();
          if (Date.now() - idleSince >= (o.idleMs ?? 2000)) {
            clearInterval(timer);
            resolve();
          }
        } else idleSince = 0;
      } catch {
        idleSince = 0;
      }
    }, 250);
    o.signal?.addEventListener("abort", () => clearInterval(timer), { once: true });
  });
  await Promise.race([stopped, running]);
  await worker.close();
  await running.catch(() => {});
  await queue.close();
  for (const p of plans.values()) await (await p.catch(() => null))?.pool.destroy();
  client.disconnect();
  return outcome;
}
