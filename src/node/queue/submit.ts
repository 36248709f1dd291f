// The submitting side of `plurisim sweep --queue`: a SweepPool over the queue, so runSweep
// (sweep-run.ts) writes the rows with its own lock, reorder buffer, manifest, resume and progress.
//
// Opening a submission only reads: the sweep's plan record, if the queue has one (its batch size,
// and a conflicting engine build refused before any file is written). Nothing is written to Redis
// until runSweep first asks the pool for cells, i.e. after the output is locked and resume has
// read the rows file: then the plan record is stored (first submission wins) and jobs are added
// for the cells from the first missing one to the end (the rows file is always an ordered
// prefix). A resumed sweep whose rows are all written never asks, so it adds nothing; one whose
// queue lost its data (FLUSHDB, a restart without persistence) gets exactly the jobs of its
// missing cells back. Job ids come from the plan hash, so a second submission adds nothing.
import { Queue, QueueEvents, type Job } from "bullmq";
import { PlurisimError } from "../../core/errors.js";
import { toJson } from "../../core/json.js";
import type { SweepPlan } from "../../sweep/spec.js";
import { errorRow, type CellResult } from "../../sweep/task.js";
import type { SweepPool } from "../pool.js";
import { connectionOptions, openClient, within } from "./connection.js";
import { describeTarget, queueError, type QueueTarget } from "./target.js";
import { defaultQueueBatch, jobCells, jobCount, jobId, jobIndex, KEEP_SECONDS, planKey, RETRY_DELAY_MS, type JobData, type PlanRecord, type QueueNames } from "./jobs.js";

export interface SubmitOptions {
  target: QueueTarget;
  names: QueueNames;
  plan: SweepPlan;
  planSha256: string;
  wasmSha256: string;
  /** Cells per job for a new sweep (a resubmission keeps the stored one). */
  batch?: number;
  /** Attempts per job before its cells become error rows (default 3). */
  attempts?: number;
  /** A submitter gives up on a lost server this long after its first unanswered call (default 15 s). */
  giveUpMs?: number;
  /** Jobs the submitter keeps fetching ahead of the last written row (default 64). */
  inFlight?: number;
  /** How often outstanding jobs are re-checked besides the completion events (default 1000 ms). */
  pollMs?: number;
  /** Where the submission says what it added (the CLI: stderr). */
  log?: (line: string) => void;
}

export interface QueueSubmission {
  /** Cells per job: the stored sweep's when the queue has it already, else the requested one. */
  batch: number;
  /** Where the cells run, for the manifest's run entry (the URL without its password). */
  where: { queue: string; name: string; prefix: string };
  /** Jobs added and jobs needed once the pool was first used (both 0 while nothing was asked). */
  counts(): { added: number; jobs: number };
  /** A SweepPool whose run() adds the missing cells' jobs on first use and waits for the jobs holding the cells; pass it to runSweep. */
  pool: SweepPool;
  /** Rejects (QUEUE_LOST, QUEUE_CONFLICT) when adding the jobs fails, or about giveUpMs after the server stops answering while collecting. */
  lost: Promise<never>;
  close(): Promise<void>;
}

/** The default give-up time of a submitter whose server stops answering. */
export const GIVE_UP_MS = 15_000;

/** Reads the sweep's plan record (refusing another engine build's) and returns the submission; adds nothing yet. */
export async function submitSweep(o: SubmitOptions): Promise<QueueSubmission> {
  const giveUpMs = o.giveUpMs ?? GIVE_UP_MS;
  const server = `Redis at ${o.target.host}:${o.target.port}`;
  const log = o.log ?? (() => {});
  // Every call to Redis is raced against giveUpMs: with maxRetriesPerRequest: null (BullMQ's
  // requirement) a command sent while the server is gone waits for a reconnection that may never
  // come, so only a timer bounds how long the submitter waits.
  const call = <T>(p: Promise<T>) => within(p, giveUpMs);
  const client = openClient(o.target, giveUpMs);
  const key = planKey(o.names, o.planSha256);
  const conflict = (r: PlanRecord) =>
    queueError(
      "QUEUE_CONFLICT",
      `this sweep is already on the queue from another engine build (wasm ${r.wasmSha256.slice(0, 12)}, this one ${o.wasmSha256.slice(0, 12)}); rows would not be comparable: use another --queue-name, or clear it`,
      o.target,
    );
  let stored: PlanRecord | null;
  try {
    const text = (await call(client.call("GET", key))) as string | null;
    stored = text === null ? null : (JSON.parse(text) as PlanRecord);
  } catch (e) {
    client.disconnect();
    throw queueError("QUEUE_LOST", `lost ${server} while reading the sweep's plan record (${(e as Error).message}); no file was written: run the same command again`, o.target, e);
  }
  if (stored && stored.wasmSha256 !== o.wasmSha256) {
    client.disconnect();
    throw conflict(stored);
  }
  const batch = stored?.batch ?? o.batch ?? defaultQueueBatch(o.plan.total);

  let onLost: (e: PlurisimError) => void = () => {};
  const lost = new Promise<never>((_, reject) => {
    onLost = reject;
  });
  lost.catch(() => {});

  // BullMQ's own connections open only when jobs are first needed.
  let queue: Queue<JobData, string> | undefined;
  let events: QueueEvents | undefined;
  let timer: NodeJS.Timeout | undefined;
  let record: PlanRecord | undefined;
  const counts = { added: 0, jobs: 0 };
  const jobOpts = (r: PlanRecord, k: number) => ({
    jobId: jobId(o.planSha256, k),
    attempts: r.attempts,
    backoff: { type: "fixed", delay: RETRY_DELAY_MS },
    removeOnComplete: { age: KEEP_SECONDS },
    removeOnFail: { age: KEEP_SECONDS },
  });
  const dataOf = (r: PlanRecord, k: number): JobData => {
    const { start, end } = jobCells(o.plan.total, r.batch, k);
    return { plan: o.planSha256, start, end };
  };
  const storeRecord = async (): Promise<PlanRecord> => {
    const fresh: PlanRecord = {
      format: "plurisim-queue-plan/1",
      planSha256: o.planSha256,
      plan: o.plan,
      wasmSha256: o.wasmSha256,
      batch,
      attempts: o.attempts ?? 3,
      submittedAt: new Date().toISOString(),
    };
    await call(client.call("SET", key, toJson(fresh), "NX"));
    const r = JSON.parse((await call(client.call("GET", key))) as string) as PlanRecord;
    if (r.wasmSha256 !== o.wasmSha256) throw conflict(r);
    return r;
  };
  const allStates = ["waiting", "active", "delayed", "prioritized", "completed", "failed", "waiting-children"] as const;

  // Collection: one promise per job index, settled when the job is finished (completed, or failed
  // for good). Completion events wake it at once; a poll re-checks outstanding jobs in case an
  // event was missed (events are not replayed to a submitter that was not listening).
  const waiting = new Map<number, { promise: Promise<Map<number, CellResult>>; resolve: (m: Map<number, CellResult>) => void }>();
  const checking = new Set<number>();
  // Start of the oldest call that has failed (or gone unanswered) since the last one that succeeded.
  let failingSince = 0;
  const settle = (k: number, results: CellResult[]) => {
    const w = waiting.get(k);
    if (!w) return;
    waiting.delete(k);
    w.resolve(new Map(results.map((r) => [r.row.cell, r])));
  };
  const check = async (k: number) => {
    if (!queue || !record || checking.has(k) || !waiting.has(k)) return;
    checking.add(k);
    const started = Date.now();
    try {
      const job: Job<JobData, string> | undefined = await call(queue.getJob(jobId(o.planSha256, k)));
      failingSince = 0;
      if (!job) {
        // Removed (aged out, cleared, or the server lost its data) before we collected it: store
        // the plan record again if it went too (workers need it) and add the job again.
        await call(client.call("SET", key, toJson(record), "NX"));
        await call(queue.add("cells", dataOf(record, k), jobOpts(record, k)));
        return;
      }
      if (job.finishedOn && typeof job.returnvalue === "string") {
        settle(k, JSON.parse(job.returnvalue) as CellResult[]);
      } else if (job.finishedOn && job.failedReason && (await call(job.isFailed()))) {
        const e = new Error(`the queue gave up on this cell's job after ${job.attemptsMade} attempt(s): ${job.failedReason}`);
        settle(
          k,
          jobCells(o.plan.total, record.batch, k).cells.map((c) => {
            const row = errorRow(o.plan, c, e, 0);
            row.errorCode = "QUEUE_FAILED";
            return { row };
          }),
        );
      }
    } catch (e) {
      // A call that timed out (within) began giveUpMs ago, so a server that stops answering is
      // given up about giveUpMs after the first call it left unanswered, not after the back-off.
      failingSince = failingSince === 0 ? started : Math.min(failingSince, started);
      if (Date.now() - failingSince >= giveUpMs) {
        onLost(queueError("QUEUE_LOST", `lost ${server} while collecting results (${(e as Error).message}); the rows written so far are kept: rerun the same command with --resume`, o.target, e));
      }
    } finally {
      checking.delete(k);
    }
  };

  let submitted: Promise<void> | undefined;
  /** Stores the plan record and adds the jobs of cells firstCell.. (once); failures end the sweep through `lost`. */
  const submit = (firstCell: number): Promise<void> =>
    (submitted ??= (async () => {
      try {
        record = await storeRecord();
        queue = new Queue<JobData, string>(o.names.queue, { connection: connectionOptions(o.target, giveUpMs), prefix: o.names.prefix });
        queue.on("error", () => {});
        events = new QueueEvents(o.names.queue, { connection: connectionOptions(o.target, giveUpMs), prefix: o.names.prefix });
        events.on("error", () => {});
        const wake = ({ jobId: id }: { jobId: string }) => {
          const k = jobIndex(o.planSha256, id);
          if (k >= 0) void check(k);
        };
        events.on("completed", wake);
        events.on("failed", wake);
        const first = Math.floor(firstCell / record.batch);
        const jobs = jobCount(o.plan.total, record.batch);
        const before = await call(queue.getJobCountByTypes(...allStates));
        for (let k = first; k < jobs; k += 500) {
          const chunk = [];
          for (let j = k; j < Math.min(k + 500, jobs); j++) chunk.push({ name: "cells", data: dataOf(record, j), opts: jobOpts(record, j) });
          await call(queue.addBulk(chunk));
        }
        const after = await call(queue.getJobCountByTypes(...allStates));
        counts.added = Math.max(0, after - before);
        counts.jobs = jobs - first;
        const lostState = stored === null && firstCell > 0 ? `; the queue had no record of this sweep (Redis lost its data?): re-added the jobs of the cells missing from the rows file` : "";
        log(
          `queue ${describeTarget(o.target)} ${o.names.prefix}:${o.names.queue}: ${counts.added} of ${counts.jobs} jobs added ` +
            `(${record.batch} cells per job${firstCell > 0 ? `, from cell ${firstCell}` : ""}${counts.added === 0 ? "; the sweep was already there" : ""}${lostState})`,
        );
        timer = setInterval(() => {
          for (const k of waiting.keys()) void check(k);
        }, o.pollMs ?? 1000);
        for (const k of waiting.keys()) void check(k);
      } catch (e) {
        const err = e instanceof PlurisimError ? e : queueError("QUEUE_LOST", `lost ${server} while adding the jobs (${(e as Error).message}); the rows written so far are kept: rerun the same command with --resume`, o.target, e);
        onLost(err);
        throw err;
      }
    })());

  const resultOf = (k: number) => {
    let w = waiting.get(k);
    if (!w) {
      let resolve!: (m: Map<number, CellResult>) => void;
      const promise = new Promise<Map<number, CellResult>>((r) => (resolve = r));
      w = { promise, resolve };
      waiting.set(k, w);
      void check(k);
    }
    return w.promise;
  };
  // Results of jobs fetched for one run() that other cells of the same job will ask for.
  const fetched = new Map<number, Promise<Map<number, CellResult>>>();

  const inFlight = o.inFlight ?? 64;
  const pool: SweepPool = {
    workers: Math.max(1, Math.floor(inFlight / 2)),
    async run(cells) {
      if (cells.length === 0) return [];
      await Promise.race([submit(Math.min(...cells)), lost]);
      const out: CellResult[] = [];
      for (const c of cells) {
        const k = Math.floor(c / record!.batch);
        let p = fetched.get(k);
        if (!p) fetched.set(k, (p = resultOf(k)));
        const m = await Promise.race([p, lost]);
        const r = m.get(c);
        if (!r) throw new Error(`job ${jobId(o.planSha256, k)} returned no row for cell ${c}`);
        out.push(r);
        m.delete(c);
        if (m.size === 0) fetched.delete(k);
      }
      return out;
    },
    async destroy() {},
  };
  const close = async () => {
    clearInterval(timer);
    // A graceful close waits for commands queued while the server is gone: bound it.
    await within(Promise.allSettled([events?.close(), queue?.close()]), 2000).catch(() => {});
    client.disconnect();
  };
  const where = { queue: describeTarget(o.target), name: o.names.queue, prefix: o.names.prefix };
  return { batch, where, counts: () => ({ ...counts }), pool, lost, close };
}

/** Removes a queue and everything in it (jobs, results, plan records): for tests, benches and `docs/queue.md`'s clean-up. */
export async function clearQueue(target: QueueTarget, names: QueueNames): Promise<void> {
  const queue = new Queue(names.queue, { connection: connectionOptions(target, 5000), prefix: names.prefix });
  queue.on("error", () => {});
  const client = openClient(target, 5000);
  try {
    await within(queue.obliterate({ force: true }), 10_000);
    let cursor = "0";
    do {
      const [next, keys] = (await within(client.scan(cursor, "MATCH", planKey(names, "*"), "COUNT", 1000), 5000)) as [string, string[]];
      if (keys.length) await within(client.del(...keys), 5000);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    await within(queue.close(), 2000).catch(() => {});
    client.disconnect();
  }
}
