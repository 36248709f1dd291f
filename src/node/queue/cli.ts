// The queue's part of the command line (docs/queue.md): `sweep --queue` (submit and collect,
// used by sweep-cli.ts) and the `worker` command. Queue errors are PlurisimErrors thrown up to the
// CLI, which prints `plurisim: error [CODE]: ...` and exits 2 (a bad URL, conflicting options) or
// 1 (the server: unreachable, refused, lost). A stop signal is honoured at every stage: while
// connecting it ends the command at once; later it stops the work within a bounded grace period.
//
// Loading this file is cheap (the CLI loads it at start-up to register `worker`): the engine,
// the thread pool, BullMQ and ioredis are imported inside the commands that use them.
import { Command, Option } from "commander";
import { formatValue } from "../../core/errors.js";
import { sanitizeForTerminal } from "../../core/text.js";
import type { SweepPlan } from "../../sweep/spec.js";
import { intOption } from "../options.js";
import { describeTarget, parseQueueUrl, queueError } from "./target.js";
import { DEFAULT_PREFIX, DEFAULT_QUEUE, GRACE_MS, type QueueNames } from "./jobs.js";
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

/** Adds --queue, --queue-name, --queue-prefix and --attempts to the sweep command. */
export function addQueueOptions(cmd: Command): Command {
  return cmd
    .option("--queue <url>", "run the cells on `plurisim worker` processes through Redis: redis://host:port[/db] (or 'env' for $REDIS_URL)")
    .option("--queue-name <name>", `BullMQ queue name (default ${DEFAULT_QUEUE})`)
    .option("--queue-prefix <prefix>", `Redis key prefix (default ${DEFAULT_PREFIX})`)
    .addOption(new Option("--attempts <n>", "with --queue: attempts per job before its cells become error rows (default 3)").argParser(intOption("--attempts", 1)));
}

const namesOf = (f: { queueName?: string; queuePrefix?: string }): QueueNames => ({ queue: f.queueName ?? DEFAULT_QUEUE, prefix: f.queuePrefix ?? DEFAULT_PREFIX });

/** The conventional exit code of a process stopped by `sig` (128 + its number). */
export function signalExitCode(sig: NodeJS.Signals): number {
  return sig === "SIGTERM" ? 143 : sig === "SIGINT" ? 130 : 1;
}

/** PLURISIM_QUEUE_GIVE_UP_MS (tests: see a lost server sooner than the default 15 s), or undefined. */
function giveUpMsFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env.PLURISIM_QUEUE_GIVE_UP_MS;
  if (text === undefined || text === "") return undefined;
  const ms = Number(text);
  if (!Number.isSafeInteger(ms) || ms < 100) throw queueError("QUEUE_URL", `PLURISIM_QUEUE_GIVE_UP_MS must be an integer >= 100 (milliseconds; got ${formatValue(text)})`);
  return ms;
}

/** Settles as `p`, or with null as soon as `signal` aborts (the caller then exits). */
function unlessAborted<T>(p: Promise<T>, signal?: AbortSignal): Promise<T | null> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.resolve(null);
  }
  let onAbort = () => {};
  const stopped = new Promise<null>((resolve) => {
    onAbort = () => resolve(null);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  p.catch(() => {});
  return Promise.race([p, stopped]).finally(() => signal.removeEventListener("abort", onAbort));
}

/**
 * For `sweep --queue`: checks the flags, probes the server (at most 3 s, before any file is
 * written) and reads the sweep's plan record. Adds nothing: the returned submission's pool adds
 * the jobs of the missing cells when runSweep first asks it for cells. Resolves to null when
 * `signal` aborts first (a stop signal while connecting): the caller exits.
 */
export async function submitFromCli(plan: SweepPlan, flags: QueueSweepFlags, signal?: AbortSignal): Promise<QueueSubmission | null> {
  const target = parseQueueUrl(flags.queue);
  if (flags.shard !== undefined) throw queueError("QUEUE_URL", "--shard and --queue do not mix: the queue already spreads cells over every worker", target);
  if (flags.workers !== undefined) throw queueError("QUEUE_URL", "--workers does not apply with --queue: give it to each `plurisim worker`", target);
  const giveUpMs = giveUpMsFromEnv();
  const names = namesOf(flags);
  const opened = async () => {
    // BullMQ and ioredis load only here: every other command starts without them.
    const [{ probe, ProbeAborted }, { submitSweep }, { loadWasmSource }, { planHash }] = await Promise.all([
      import("./connection.js"),
      import("./submit.js"),
      import("../index.js"),
      import("../sweep-run.js"),
    ]);
    try {
      await probe(target, { signal });
    } catch (e) {
      if (e instanceof ProbeAborted) return null;
      throw e;
    }
    const wasm = await loadWasmSource();
    const workerCommandLine = `plurisim worker --queue ${describeTarget(target)}${flags.queueName ? ` --queue-name ${flags.queueName}` : ""}${flags.queuePrefix ? ` --queue-prefix ${flags.queuePrefix}` : ""}`;
    return submitSweep({
      target,
      names,
      plan,
      planSha256: await planHash(plan),
      wasmSha256: wasm.wasmSha256,
      batch: flags.batch,
      attempts: flags.attempts,
      giveUpMs,
      log: (line) => void process.stderr.write(`${sanitizeForTerminal(line)}; start workers with: ${sanitizeForTerminal(workerCommandLine)}\n`),
    });
  };
  const sub = await unlessAborted(opened(), signal);
  if (sub === null) return null;
  if (signal?.aborted) {
    await sub.close();
    return null;
  }
  return sub;
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
  graceMs?: number;
  testFailCells?: string;
  quiet?: boolean;
}

class StoppedBeforeStart extends Error {}

async function workerCommand(flags: WorkerFlags): Promise<void> {
  // Log lines carry sweep names, queue names and workers' error messages: shown with control characters escaped.
  const log = flags.quiet ? () => {} : (line: string) => void process.stderr.write(`${sanitizeForTerminal(line)}\n`);
  const controller = new AbortController();
  let signalName: NodeJS.Signals | null = null;
  const graceMs = flags.graceMs ?? GRACE_MS;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalName) process.exit(signalExitCode(sig));
    signalName = sig;
    log(`worker: ${sig}: stopping; the jobs in hand get ${graceMs / 1000} s to finish, then go back to the queue (${sig} again to quit now)`);
    controller.abort();
    // The bound on the whole stop, whatever a stuck server or a thread does meanwhile.
    setTimeout(() => process.exit(signalExitCode(sig)), graceMs + 4000).unref();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let exitCode = 0;
  try {
    const target = parseQueueUrl(flags.queue);
    const [{ probe, ProbeAborted }, { runQueueWorker }, { defaultWorkers }] = await Promise.all([import("./connection.js"), import("./worker.js"), import("../pool.js")]);
    try {
      await probe(target, { signal: controller.signal });
    } catch (e) {
      if (!(e instanceof ProbeAborted)) throw e;
    }
    // A signal while connecting: the worker never started, so the exit says it was stopped.
    if (controller.signal.aborted) throw new StoppedBeforeStart();
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
      graceMs,
      signal: controller.signal,
      log,
      failOnCells: flags.testFailCells ? flags.testFailCells.split(",").map(Number) : undefined,
    });
    log(`worker: done: ${out.jobs} jobs, ${out.cells} cells${out.failedJobs ? `, ${out.failedJobs} failed attempts` : ""}${out.unfinished ? `, ${out.unfinished} jobs left unfinished` : ""}`);
    // Stopped by a signal: 0 when every job in hand finished in the grace period.
    if (signalName && out.unfinished > 0) exitCode = signalExitCode(signalName);
  } catch (e) {
    if (!(e instanceof StoppedBeforeStart)) throw e;
    exitCode = signalExitCode(signalName!);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  // After a signal, exit now: a connection to a stuck server must not keep the process alive.
  if (signalName) process.exit(exitCode);
}

/** Adds `worker` to the plurisim program. */
export function registerWorkerCommand(program: Command): void {
  program
    .command("worker")
    .description("run sweep cells from a Redis queue (see sweep --queue) on this machine's cores, until stopped")
    .option("--queue <url>", "redis://host:port[/db] (default: $REDIS_URL); password from the URL or $PLURISIM_REDIS_PASSWORD")
    .option("--queue-name <name>", `BullMQ queue name (default ${DEFAULT_QUEUE})`)
    .option("--queue-prefix <prefix>", `Redis key prefix (default ${DEFAULT_PREFIX})`)
    .addOption(new Option("--workers <n>", "threads, and jobs run at once (default: the available cores)").argParser(intOption("--workers", 1)))
    .option("--exit-when-idle", "exit once the queue has no waiting, delayed or active job")
    .addOption(new Option("--idle-ms <ms>", "how long the queue must stay empty before --exit-when-idle exits (default 2000)").argParser(intOption("--idle-ms", 0)))
    .addOption(new Option("--lock-duration <ms>", "job lock: a lost worker's job is retaken after about this long (default 30000)").argParser(intOption("--lock-duration", 100)))
    .addOption(new Option("--stalled-interval <ms>", "how often to look for jobs of lost workers (default 30000)").argParser(intOption("--stalled-interval", 100)))
    .addOption(new Option("--max-stalled <n>", "times a job may lose its worker before it fails (default 2)").argParser(intOption("--max-stalled", 0)))
    .addOption(new Option("--grace-ms <ms>", "after SIGTERM/SIGINT, how long the jobs in hand may run on before they go back to the queue (default 5000)").argParser(intOption("--grace-ms", 0)))
    .option("--quiet", "no log lines")
    .addOption(new Option("--test-fail-cells <list>", "test only: jobs holding these cells throw").hideHelp())
    .action(workerCommand);
}
