// `plurisim worker --queue ...`: takes jobs (batches of cells) from the queue and runs them on
// its own Piscina pool (pool.ts: one pool per sweep plan, the Wasm module loaded the same way as
// for a local sweep). A job returns its rows as JSON text written by toJson, so non-finite
// numbers survive the trip and the collector writes the very lines a local run writes.
//
// Loss of a worker: BullMQ holds a lock on each active job, renewed every lockDuration / 2 by this
// process's main thread (the cells run on Piscina threads, so the renewal is never starved). A
// killed worker stops renewing; after lockDuration another worker's stalled check (every
// stalledInterval) moves the job back to the queue, up to maxStalled times, then fails it.
//
// Stopping (the signal aborts): no new job is taken; the jobs in hand get graceMs to finish. Those
// still running then are put back on the queue at once (moveToWait, no attempt counted) and the
// worker closes its connections; every step is bounded, so a stuck server cannot hold it.
import { Queue, WaitingError, Worker, type Job } from "bullmq";
import { toJson } from "../../core/json.js";
import type { WasmSource } from "../../core/engine.js";
import type { CellResult } from "../../sweep/task.js";
import { loadWasmSource } from "../index.js";
import { createSweepPool, type SweepPool } from "../pool.js";
import { workerDiedRow } from "../sweep-run.js";
import { connectionOptions, openClient, within } from "./connection.js";
import { type QueueTarget } from "./target.js";
import { GRACE_MS, planKey, type JobData, type PlanRecord, type QueueNames } from "./jobs.js";

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
  /** Stop when this aborts (SIGINT/SIGTERM): jobs in hand get graceMs to finish, then go back to the queue. */
  signal?: AbortSignal;
  /** How long jobs in hand may run on after the signal (default GRACE_MS). */
  graceMs?: number;
  log?: (line: string) => void;
  wasm?: WasmSource;
  /** Test-only: jobs holding one of these cells throw (to exercise --attempts). */
  failOnCells?: number[];
}

export interface QueueWorkerOutcome {
  jobs: number;
  cells: number;
  failedJobs: number;
  /** Jobs still running when the grace period ended (their rows not delivered). */
  unfinished: number;
  /** Of those, the ones put back on the queue at once (the others return when their lock expires). */
  released: number;
}

/** Bound on one Redis call of the worker's own (a plan record, a job count, a release). */
const CALL_MS = 5000;

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
  const outcome: QueueWorkerOutcome = { jobs: 0, cells: 0, failedJobs: 0, unfinished: 0, released: 0 };
  // Jobs running now, with their lock tokens, so the stop can put them back.
  const inHand = new Map<string, { job: Job<JobData, string>; token: string }>();
  const release = new AbortController();
  const released = new Promise<never>((_, reject) => {
    release.signal.addEventListener("abort", () => reject(new WaitingError()), { once: true });
  });
  released.catch(() => {});

  const entryOf = (hash: string): Promise<PlanEntry> => {
    let p = plans.get(hash);
    if (!p) {
      p = (async () => {
        const text = (await within(client.call("GET", planKey(o.names, hash)), CALL_MS)) as string | null;
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

  const processor = async (job: Job<JobData, string>, token?: string): Promise<string> => {
    const { plan: hash, start, end } = job.data;
    const entry = await entryOf(hash);
    if (entry.record.wasmSha256 !== wasm.wasmSha256) {
      throw new Error(`engine build mismatch: the sweep needs wasm ${entry.record.wasmSha256.slice(0, 12)}, this worker has ${wasm.wasmSha256.slice(0, 12)}; run workers from the same plurisim build`);
    }
    const cells: number[] = [];
    for (let c = start; c < end; c++) cells.push(c);
    if (cells.some((c) => failOn.has(c))) throw new Error(`test failure injected for cells ${cells.join(",")}`);
    entry.active++;
    const id = job.id ?? `${hash}-${start}`;
    if (token) inHand.set(id, { job, token });
    try {
      // A released job (the stop's grace is over) throws WaitingError: BullMQ leaves it where
      // moveToWait put it, back on the queue, instead of counting a failed attempt.
      const results = await Promise.race([runCells(entry, cells), released]);
      outcome.cells += cells.length;
      return toJson(results);
    } finally {
      inHand.delete(id);
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
  let ticking = false;
  const stopped = new Promise<void>((resolve) => {
    const onAbort = () => resolve();
    o.signal?.addEventListener("abort", onAbort, { once: true });
    if (o.signal?.aborted) resolve();
    const timer = setInterval(async () => {
      if (ticking) return;
      ticking = true;
      try {
        await tick();
      } finally {
        ticking = false;
      }
    }, 250);
    const tick = async () => {
      for (const [hash, p] of plans) {
        const e = await p.catch(() => null);
        if (e && e.active === 0 && Date.now() - e.lastUsed > 60_000) {
          plans.delete(hash);
          void e.pool.destroy();
        }
      }
      if (!o.exitWhenIdle) return;
      try {
        const n = await within(queue.getJobCountByTypes("waiting", "active", "delayed", "prioritized"), CALL_MS);
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
    };
    o.signal?.addEventListener("abort", () => clearInterval(timer), { once: true });
  });
  await Promise.race([stopped, running]);
  // close() stops taking jobs and waits for the jobs in hand: give it the grace period.
  const closing = worker.close();
  closing.catch(() => {});
  const graceMs = o.graceMs ?? GRACE_MS;
  const finished = await within(closing, inHand.size > 0 ? graceMs : Math.min(graceMs, 2000)).then(
    () => true,
    () => false,
  );
  if (!finished) {
    outcome.unfinished = inHand.size;
    for (const { job, token } of inHand.values()) {
      try {
        await within(job.moveToWait(token), CALL_MS / 5);
        outcome.released++;
      } catch {
        // A stuck server: the job's lock runs out and the stalled check of another worker retakes it.
      }
    }
    if (inHand.size > 0) log(`worker: grace period over: ${outcome.released} of ${inHand.size} jobs in hand put back on the queue`);
    release.abort();
    await within(closing, 1000).catch(() => {});
  }
  await within(running, 1000).catch(() => {});
  await within(queue.close(), 1000).catch(() => {});
  for (const p of plans.values()) await (await p.catch(() => null))?.pool.destroy();
  client.disconnect();
  return outcome;
}
