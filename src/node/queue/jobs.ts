// How a sweep is laid out on the queue: one plan record per sweep, one job per aligned batch of
// cells, job ids derived from the plan hash and the batch index (so adding a sweep twice adds
// nothing), and the JSON a job returns.
import type { SweepPlan } from "../../sweep/spec.js";

/** BullMQ key prefix and queue name unless --queue-prefix / --queue-name say otherwise. */
export const DEFAULT_PREFIX = "plurisim";
export const DEFAULT_QUEUE = "sweeps";
/** Finished jobs (with their rows) stay this long, so a resubmission within it re-collects instead of recomputing. */
export const KEEP_SECONDS = 7 * 24 * 3600;
/** Default time a worker's jobs in hand may run on after a stop signal before they go back to the queue. */
export const GRACE_MS = 5000;
/** Delay between two attempts of a failed job. */
export const RETRY_DELAY_MS = 500;

/** What the submitter stores once per sweep; workers read the plan from it. */
export interface PlanRecord {
  format: "plurisim-queue-plan/1";
  planSha256: string;
  plan: SweepPlan;
  /** The engine build the rows must come from (workers with another build refuse the job). */
  wasmSha256: string;
  /** Cells per job: job k holds cells [k * batch, min((k + 1) * batch, total)). */
  batch: number;
  attempts: number;
  submittedAt: string;
}

/** The data of one job. */
export interface JobData {
  plan: string;
  start: number;
  end: number;
}

export interface QueueNames {
  prefix: string;
  queue: string;
}

/** The Redis key of a sweep's plan record (inside the queue's own key space, so obliterate removes it). */
export function planKey(n: QueueNames, planSha256: string): string {
  return `${n.prefix}:${n.queue}:plan:${planSha256}`;
}

/** The id of job k of a sweep: the first 16 hex digits of the plan hash and k (BullMQ ids may not contain ':'). */
export function jobId(planSha256: string, k: number): string {
  return `${planSha256.slice(0, 16)}-${k}`;
}

/** The batch index of a job id of this sweep, or -1 for another sweep's job. */
export function jobIndex(planSha256: string, id: string | undefined): number {
  const head = `${planSha256.slice(0, 16)}-`;
  if (!id || !id.startsWith(head)) return -1;
  const k = Number(id.slice(head.length));
  return Number.isSafeInteger(k) ? k : -1;
}

/** Number of jobs of a sweep of `total` cells. */
export function jobCount(total: number, batch: number): number {
  return Math.ceil(total / batch);
}

/** The cells of job k. */
export function jobCells(total: number, batch: number, k: number): JobData & { cells: number[] } {
  const start = k * batch;
  const end = Math.min(start + batch, total);
  const cells: number[] = [];
  for (let c = start; c < end; c++) cells.push(c);
  return { plan: "", start, end, cells };
}

/** Default cells per job: small, because the queue exists to balance cells of very different cost. */
export function defaultQueueBatch(total: number): number {
  return Math.max(1, Math.min(16, Math.floor(total / 256)));
}
