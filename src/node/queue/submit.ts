// The submitting side of `plurisim sweep --queue`: stores the plan record, adds every job (ids
// from the plan hash, so a second submission adds nothing), and collects finished jobs as a
// SweepPool, so runSweep (sweep-run.ts) writes them with its own reorder buffer, manifest,
// resume and progress: the rows file is the same as a local run's.
import { Queue, QueueEvents, type Job } from "bullmq";
import { toJson } from "../../core/json.js";
import type { SweepPlan } from "../../sweep/spec.js";
import { errorRow, type CellResult } from "../../sweep/task.js";
import type { SweepPool } from "../pool.js";
import { connectionOptions, openClient } from "./connection.js";
import { describeTarget, QueueError, type QueueTarget } from "./target.js";
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
}

export interface QueueSubmission {
  record: PlanRecord;
  /** Where the cells run, for the manifest's run entry (the URL without its password). */
  where: { queue: string; name: string; prefix: string };
  /** Jobs this submission added (0 when the sweep was already on the queue). */
  added: number;
  jobs: number;
  /** A SweepPool whose run() waits for the jobs holding the cells; pass it to runSweep. */
  pool: SweepPool;
  /** Rejects (QUEUE_LOST) about giveUpMs after the server stops answering while collecting. */
  lost: Promise<never>;
  close(): Promise<void>;
}

/** Settles as `p`, or rejects once `ms` have passed without an answer. */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  p.catch(() => {}); // a call abandoned here may still fail later
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Stores the plan record (first submission wins), adds the sweep's jobs, and returns the collector. */
export async function submitSweep(o: SubmitOptions): Promise<QueueSubmission> {
  const giveUpMs = o.giveUpMs ?? 15_000;
  const where = `Redis at ${o.target.host}:${o.target.port}`;
  // Every call to Redis is raced against giveUpMs: with maxRetriesPerRequest: null (BullMQ's
  // requirement) a command sent while the server is gone waits for a reconnection that may never
  // come, so only a timer bounds how long the submitter waits.
  const call = <T>(p: Promise<T>) => within(p, giveUpMs);
  const client = openClient(o.target, giveUpMs);
  const queue = new Queue<JobData, string>(o.names.queue, { connection: connectionOptions(o.target, giveUpMs), prefix: o.names.prefix });
  queue.on("error", () => {});
  try {
    return await start(o, giveUpMs, call, client, queue);
  } catch (e) {
    client.disconnect();
    await within(queue.close(), 1000).catch(() => {});
    if (e instanceof QueueError) throw e;
    throw new QueueError("QUEUE_LOST", `lost ${where} while adding the jobs (${(e as Error).message}); no file was written: run the same command again`, { cause: e });
  }
}

/** The body of submitSweep, which owns `client` and `queue` and closes them if this throws. */
async function start(
  o: SubmitOptions,
  giveUpMs: number,
  call: <T>(p: Promise<T>) => Promise<T>,
  client: ReturnType<typeof openClient>,
  queue: Queue<JobData, string>,
): Promise<QueueSubmission> {
  const server = `Redis at ${o.target.host}:${o.target.port}`;
  const key = planKey(o.names, o.planSha256);
  const fresh: PlanRecord = {
    format: "plurisim-queue-plan/1",
    planSha256: o.planSha256,
    plan: o.plan,
    wasmSha256: o.wasmSha256,
    batch: o.batch ?? defaultQueueBatch(o.plan.total),
    attempts: o.attempts ?? 3,
    submittedAt: new Date().toISOString(),
  };
  await call(client.call("SET", key, toJson(fresh), "NX"));
  const record = JSON.parse((await call(client.call("GET", key))) as string) as PlanRecord;
  if (record.wasmSha256 !== o.wasmSha256) {
    throw new QueueError(
      "QUEUE_CONFLICT",
      `this sweep is already on the queue from another engine build (wasm ${record.wasmSha256.slice(0, 12)}, this one ${o.wasmSha256.slice(0, 12)}); rows would not be comparable: use another --queue-name, or clear it`,
    );
  }
  const jobs = jobCount(o.plan.total, record.batch);
  const before = await call(queue.getJobCountByTypes("waiting", "active", "delayed", "prioritized", "completed", "failed", "waiting-children"));
  const jobOpts = (k: number) => ({
    jobId: jobId(o.planSha256, k),
    attempts: record.attempts,
    backoff: { type: "fixed", delay: RETRY_DELAY_MS },
    removeOnComplete: { age: KEEP_SECONDS },
    removeOnFail: { age: KEEP_SECONDS },
  });
  const dataOf = (k: number): JobData => {
    const { start, end } = jobCells(o.plan.total, record.batch, k);
    return { plan: o.planSha256, start, end };
  };
  for (let k = 0; k < jobs; k += 500) {
    const chunk = [];
    for (let j = k; j < Math.min(k + 500, jobs); j++) chunk.push({ name: "cells", data: dataOf(j), opts: jobOpts(j) });
    await call(queue.addBulk(chunk));
  }
  const after = await call(queue.getJobCountByTypes("waiting", "active", "delayed", "prioritized", "completed", "failed", "waiting-children"));
  const events = new QueueEvents(o.names.queue, { connection: connectionOptions(o.target, giveUpMs), prefix: o.names.prefix });
  events.on("error", () => {});

  // Collection: one promise per job index, settled when the job is finished (completed, or failed
  // for good). Completion events wake it at once; a poll re-checks outstanding jobs in case an
  // event was missed (events are not replayed to a submitter that was not listening).
  const waiting = new Map<number, { promise: Promise<Map<number, CellResult>>; resolve: (m: Map<number, CellResult>) => void }>();
  const checking = new Set<number>();
  // Start of the oldest call that has failed (or gone unanswered) since the last one that succeeded.
  let failingSince = 0;
  let onLost: (e: QueueError) => void = () => {};
  const lost = new Promise<never>((_, reject) => {
    onLost = reject;
  });
  lost.catch(() => {});

  const settle = (k: number, results: CellResult[]) => {
    const w = waiting.get(k);
    if (!w) return;
    waiting.delete(k);
    w.resolve(new Map(results.map((r) => [r.row.cell, r])));
  };
  const check = async (k: number) => {
    if (checking.has(k) || !waiting.has(k)) return;
    checking.add(k);
    const started = Date.now();
    try {
      const job: Job<JobData, string> | undefined = await call(queue.getJob(jobId(o.planSha256, k)));
      failingSince = 0;
      if (!job) {
        // Removed (aged out or cleared) before we collected it: add it again.
        await call(queue.add("cells", dataOf(k), jobOpts(k)));
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
        onLost(new QueueError("QUEUE_LOST", `lost ${server} while collecting results (${(e as Error).message}); the rows written so far are kept: rerun the same command with --resume`, { cause: e }));
      }
    } finally {
      checking.delete(k);
    }
  };
  const wake = ({ jobId: id }: { jobId: string }) => {
    const k = jobIndex(o.planSha256, id);
    if (k >= 0) void check(k);
  };
  events.on("completed", wake);
  events.on("failed", wake);
  const timer = setInterval(() => {
    for (const k of waiting.keys()) void check(k);
  }, o.pollMs ?? 1000);

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
      const out: CellResult[] = [];
      for (const c of cells) {
        const k = Math.floor(c / record.batch);
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
    await within(Promise.allSettled([events.close(), queue.close()]), 2000).catch(() => {});
    client.disconnect();
  };
  const where = { queue: describeTarget(o.target), name: o.names.queue, prefix: o.names.prefix };
  return { record, where, added: Math.max(0, after - before), jobs, pool, lost, close };
}

/** Removes a queue and everything in it (jobs, results, plan records): for tests, benches and `docs/queue.md`'s clean-up. */
export async function clearQueue(target: QueueTarget, names: QueueNames): Promise<void> {
  const queue = new Queue(names.queue, { connection: connectionOptions(target, 5000), prefix: names.prefix });
  queue.on("error", () => {});
  const client = openClient(target, 5000);
  try {
    await queue.obliterate({ force: true });
    let cursor = "0";
    do {
      const [next, keys] = (await client.scan(cursor, "MATCH", planKey(names, "*"), "COUNT", 1000)) as [string, string[]];
      if (keys.length) await client.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    await queue.close();
    client.disconnect();
  }
}
