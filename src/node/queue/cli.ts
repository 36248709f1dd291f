// The queue's part of the command line (docs/queue.md): `sweep --queue` (submit and collect,
// used by sweep-cli.ts) and the `worker` command. Queue errors print `plurisim: error [CODE]: ...`
// and exit 2 (a bad URL or conflicting options) or 1 (the server: unreachable, refused, lost).
import { Command, Option } from "commander";
import type { SweepPlan } from "../../sweep/spec.js";
import { loadWasmSource } from "../index.js";
import { defaultWorkers } from "../pool.js";
import { planHash } from "../sweep-run.js";
import { describeTarget, parseQueueUrl, QueueError } from "./target.js";
import { DEFAULT_PREFIX, DEFAULT_QUEUE, type QueueNames } from "./jobs.js";
import type { QueueSubmission } from "./submit.js";

/** The queue flags of `plurisim sweep`. */
export interface QueueSweepFlags {
  queue?: string;
  queueName?: string;
  queuePrefix?: string;
  attempts?: number;
  batch?: number;
  shard?: unknown;
  workers?: number;
}

function count(name: string, min: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) {
      process.stderr.write(`plurisim: error [QUEUE_URL]: ${name} must be an integer >= ${min} (got ${JSON.stringify(v)})\n`);
      process.exit(2);
    }
    return n;
  };
}

/** Adds --queue, --queue-name, --queue-prefix and --attempts to the sweep command. */
export function addQueueOptions(cmd: Command): Command {
  return cmd
    .option("--queue <url>", "run the cells on `plurisim worker` processes through Redis: redis://host:port[/db] (or 'env' for $REDIS_URL)")
    .option("--queue-name <name>", `BullMQ queue name (default ${DEFAULT_QUEUE})`)
    .option("--queue-prefix <prefix>", `Redis key prefix (default ${DEFAULT_PREFIX})`)
    .addOption(new Option("--attempts <n>", "with --queue: attempts per job before its cells become error rows (default 3)").argParser(count("--attempts", 1)));
}

const namesOf = (f: { queueName?: string; queuePrefix?: string }): QueueNames => ({ queue: f.queueName ?? DEFAULT_QUEUE, prefix: f.queuePrefix ?? DEFAULT_PREFIX });

/** Prints a QueueError the CLI way and exits with its code; rethrows anything else. */
export function exitOnQueueError(e: unknown): never {
  if (e instanceof QueueError) {
    process.stderr.write(`plurisim: error [${e.code}]: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  throw e;
}

/** PLURISIM_QUEUE_GIVE_UP_MS (tests: see a lost server sooner than the default 15 s), or undefined. */
function giveUpMsFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env.PLURISIM_QUEUE_GIVE_UP_MS;
  if (text === undefined || text === "") return undefined;
  const ms = Number(text);
  if (!Number.isSafeInteger(ms) || ms < 100) throw new QueueError("QUEUE_URL", `PLURISIM_QUEUE_GIVE_UP_MS must be an integer >= 100 (milliseconds; got ${JSON.stringify(text)})`);
  return ms;
}

/**
 * For `sweep --queue`: checks the flags, probes the server (before any file is written), stores
 * the plan and adds the jobs. Returns the submission whose pool runSweep collects from.
 */
export async function submitFromCli(plan: SweepPlan, flags: QueueSweepFlags): Promise<QueueSubmission> {
  try {
    const target = parseQueueUrl(flags.queue);
    if (flags.shard !== undefined) throw new QueueError("QUEUE_URL", "--shard and --queue do not mix: the queue already spreads cells over every worker");
    if (flags.workers !== undefined) throw new QueueError("QUEUE_URL", "--workers does not apply with --queue: give it to each `plurisim worker`");
    // BullMQ and ioredis load only here: every other command starts without them.
    const [{ probe }, { submitSweep }] = await Promise.all([import("./connection.js"), import("./submit.js")]);
    await probe(target);
    const wasm = await loadWasmSource();
    const sub = await submitSweep({ target, names: namesOf(flags), plan, planSha256: await planHash(plan), wasmSha256: wasm.wasmSha256, batch: flags.batch, attempts: flags.attempts, giveUpMs: giveUpMsFromEnv() });
    process.stderr.write(
        `queue ${describeTarget(target)} ${namesOf(flags).prefix}:${namesOf(flags).queue}: ${sub.added} of ${sub.jobs} jobs added ` +
          `(${sub.record.batch} cells per job${sub.added === 0 ? "; the sweep was already there" : ""}); start workers with: plurisim worker --queue ${describeTarget(target)}` +
          `${flags.queueName ? ` --queue-name ${flags.queueName}` : ""}${flags.queuePrefix ? ` --queue-prefix ${flags.queuePrefix}` : ""}\n`,
    );
    return sub;
  } catch (e) {
    exitOnQueueError(e);
  }
}

interface WorkerFlags {
  queue?: string;
  queueName?: string;
  queuePrefix?: string;
  workers?: number;
  exitWhenIdle?: boolean;
  idleMs?: number;
  lockDuration?: number;
  stalledInterval?: number;
  maxStalled?: number;
  testFailCells?: string;
  quiet?: boolean;
}

async function workerCommand(flags: WorkerFlags): Promise<void> {
  const log = flags.quiet ? () => {} : (line: string) => void process.stderr.write(`${line}\n`);
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) process.exit(sig === "SIGTERM" ? 143 : 130);
    log(`worker: ${sig}: finishing the jobs in hand (again to quit now; unfinished jobs go back to the queue after --lock-duration)`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const target = parseQueueUrl(flags.queue);
    const [{ probe }, { runQueueWorker }] = await Promise.all([import("./connection.js"), import("./worker.js")]);
    await probe(target);
    const workers = flags.workers ?? defaultWorkers();
    log(`worker: ${describeTarget(target)} ${namesOf(flags).prefix}:${namesOf(flags).queue}, ${workers} threads${flags.exitWhenIdle ? ", exits when idle" : ""}`);
    const out = await runQueueWorker({
      target,
      names: namesOf(flags),
      workers,
      exitWhenIdle: flags.exitWhenIdle,
      idleMs: flags.idleMs,
      lockDuration: flags.lockDuration,
      stalledInterval: flags.stalledInterval,
      maxStalled: flags.maxStalled,
      signal: controller.signal,
      log,
      failOnCells: flags.testFailCells ? flags.testFailCells.split(",").map(Number) : undefined,
    });
    log(`worker: done: ${out.jobs} jobs, ${out.cells} cells${out.failedJobs ? `, ${out.failedJobs} failed attempts` : ""}`);
  } catch (e) {
    exitOnQueueError(e);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Adds `worker` to the plurisim program. */
export function registerWorkerCommand(program: Command): void {
  program
    .command("worker")
    .description("run sweep cells from a Redis queue (see sweep --queue) on this machine's cores, until stopped")
    .option("--queue <url>", "redis://host:port[/db] (default: $REDIS_URL); password from the URL or $PLURISIM_REDIS_PASSWORD")
    .option("--queue-name <name>", `BullMQ queue name (default ${DEFAULT_QUEUE})`)
    .option("--queue-prefix <prefix>", `Redis key prefix (default ${DEFAULT_PREFIX})`)
    .addOption(new Option("--workers <n>", "threads, and jobs run at once (default: the available cores)").argParser(count("--workers", 1)))
    .option("--exit-when-idle", "exit once the queue has no waiting, delayed or active job")
    .addOption(new Option("--idle-ms <ms>", "how long the queue must stay empty before --exit-when-idle exits (default 2000)").argParser(count("--idle-ms", 0)))
    .addOption(new Option("--lock-duration <ms>", "job lock: a lost worker's job is retaken after about this long (default 30000)").argParser(count("--lock-duration", 100)))
    .addOption(new Option("--stalled-interval <ms>", "how often to look for jobs of lost workers (default 30000)").argParser(count("--stalled-interval", 100)))
    .addOption(new Option("--max-stalled <n>", "times a job may lose its worker before it fails (default 2)").argParser(count("--max-stalled", 0)))
    .option("--quiet", "no log lines")
    .addOption(new Option("--test-fail-cells <list>", "test only: jobs holding these cells throw").hideHelp())
    .action(workerCommand);
}
