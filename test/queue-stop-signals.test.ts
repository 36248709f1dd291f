// Stop signals reach a queue command at every stage. While it waits on a server that accepted the
// connection and never answers, the first SIGTERM or SIGINT ends `worker` and `sweep --queue`
// within about a second, with 143 or 130, the output lock released and no rows file written
// (before, the worker ignored the first signal and the submitter died without releasing its lock).
// With a real Redis, a worker whose job outlives the grace period puts it back on the queue
// (no attempt counted) and exits 143 soon after the grace period; and with that Redis frozen
// (SIGSTOP: connected, silent), a running worker and a collecting submitter still stop within
// a few seconds of SIGTERM (before, the worker waited forever to close its connections).
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectionOptions } from "../src/node/queue/connection.js";
import { parseQueueUrl } from "../src/node/queue/target.js";
import { cli, hasRedisServer, killChildren, silentServer, startRedis, until, type CliRun, type PrivateRedis, type SilentServer } from "./queue-helpers.js";

const dir = join("test", "artifacts", `queue-signals-${process.pid}`);
const sweepFile = join(dir, "sweep.json");
let silent: SilentServer;

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    sweepFile,
    JSON.stringify({
      base: { space: { kind: "grid1d", min: -2, max: 2, cells: 51 }, groups: [{ weight: 1, reward: { kind: "quadratic", center: 0, scale: 1 } }], curation: { K: "inf", temperature: 1 }, generations: 5 },
      axes: { "curation.temperature": [1, 2] },
    }),
  );
  silent = await silentServer();
});

afterAll(async () => {
  killChildren();
  await silent?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the command against the silent server, sends `sig` once it has connected, and returns the run and the time of the signal. */
async function signalWhileConnecting(args: string[], sig: NodeJS.Signals): Promise<{ run: CliRun; signalledAt: number }> {
  const connected = silent.nextConnection();
  let signalledAt = 0;
  const run = cli(args, {
    killAfterMs: 40_000,
    onStart: (p) =>
      void connected.then(() => {
        signalledAt = Date.now();
        p.kill(sig);
      }),
  });
  return { run: await run, signalledAt };
}

describe("a stop signal while waiting on a silent server", () => {
  it("SIGTERM ends `worker` at once with 143", async () => {
    const { run, signalledAt } = await signalWhileConnecting(["worker", "--queue", `redis://127.0.0.1:${silent.port}/0`, "--workers", "1"], "SIGTERM");
    expect(signalledAt).toBeGreaterThan(0);
    expect(run.code, run.stderr).toBe(143);
    expect(run.stderr).toMatch(/worker: SIGTERM: stopping/);
    expect(run.exitedAt - signalledAt, run.stderr).toBeLessThan(2000);
  });

  it("SIGINT ends `worker` at once with 130", async () => {
    const { run, signalledAt } = await signalWhileConnecting(["worker", "--queue", `redis://127.0.0.1:${silent.port}/0`, "--workers", "1"], "SIGINT");
    expect(run.code, run.stderr).toBe(130);
    expect(run.exitedAt - signalledAt, run.stderr).toBeLessThan(2000);
  });

  for (const [sig, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
    it(`${sig} ends \`sweep --queue\` at once with ${code}, releasing the output lock and writing no rows`, async () => {
      const out = join(dir, `rows-${sig}.jsonl`);
      const { run, signalledAt } = await signalWhileConnecting(["sweep", sweepFile, "--queue", `redis://127.0.0.1:${silent.port}/0`, "--out", out, "--no-progress"], sig);
      expect(run.signal, run.stderr).toBe(null);
      expect(run.code, run.stderr).toBe(code);
      expect(run.stderr).toMatch(new RegExp(`plurisim: ${sig}: stopping`));
      expect(run.exitedAt - signalledAt, run.stderr).toBeLessThan(2000);
      expect(readdirSync(dir).filter((f) => f.startsWith(`rows-${sig}`))).toEqual([]);
    });
  }
});

describe.skipIf(!hasRedisServer)("a stop signal with a real Redis", () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it("puts the unfinished job back on the queue after the grace period (no attempt counted) and exits 143", async () => {
    // One cell that runs far longer than the test: 20,001 atoms for 200,000 generations.
    const slowFile = join(dir, "slow.json");
    writeFileSync(
      slowFile,
      JSON.stringify({
        base: { space: { kind: "grid1d", min: -2, max: 2, cells: 20001 }, groups: [{ weight: 1, reward: { kind: "quadratic", center: 0, scale: 1 } }], curation: { K: "inf", temperature: 1 }, generations: 200000 },
        axes: { "curation.temperature": [1] },
      }),
    );
    const out = join(dir, "slow.jsonl");
    let submitter: ChildProcess | undefined;
    const submitting = cli(["sweep", slowFile, "--queue", redis.url, "--queue-name", "slow", "--out", out, "--no-progress", "--no-summary"], { killAfterMs: 60_000, onStart: (p) => (submitter = p) });
    let worker: ChildProcess | undefined;
    const working = cli(["worker", "--queue", redis.url, "--queue-name", "slow", "--workers", "1", "--grace-ms", "500"], { killAfterMs: 60_000, onStart: (p) => (worker = p) });
    const queue = new Queue("slow", { connection: connectionOptions(parseQueueUrl(redis.url)), prefix: "plurisim" });
    try {
      for (let i = 0; (await queue.getJobCountByTypes("active")) === 0; i++) {
        if (i > 1000) throw new Error("the worker never took the job");
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 300));
      const signalledAt = Date.now();
      worker!.kill("SIGTERM");
      const w = await working;
      expect(w.code, w.stderr).toBe(143);
      expect(w.stderr).toMatch(/grace period over: 1 of 1 jobs in hand put back on the queue/);
      // The grace period (0.5 s), the release and the close: well under the job's own length.
      expect(w.exitedAt - signalledAt, w.stderr).toBeLessThan(4000);
      const [job] = await queue.getJobs(["waiting"]);
      expect(job, "the job is waiting again").toBeDefined();
      expect(job.attemptsMade).toBe(0);
      expect(await queue.getJobCountByTypes("active", "failed", "completed")).toBe(0);
      submitter!.kill("SIGTERM");
      const s = await submitting;
      expect(s.code, s.stderr).toBe(143);
      expect(existsSync(`${out}.lock`)).toBe(false);
    } finally {
      await queue.close();
    }
  });

  it("a running worker and a collecting submitter stop within seconds of SIGTERM while their Redis is frozen", async () => {
    const out = join(dir, "frozen.jsonl");
    let submitter: ChildProcess | undefined;
    let submitLog = "";
    const submitting = cli(["sweep", sweepFile, "--queue", redis.url, "--queue-name", "frozen", "--out", out, "--no-progress", "--no-summary"], {
      onStart: (p) => {
        submitter = p;
        p.stderr!.on("data", (d) => (submitLog += d));
      },
    });
    let worker: ChildProcess | undefined;
    let workLog = "";
    // Another queue name: the worker waits for jobs that never come.
    const working = cli(["worker", "--queue", redis.url, "--queue-name", "frozen-idle", "--workers", "1"], {
      onStart: (p) => {
        worker = p;
        p.stderr!.on("data", (d) => (workLog += d));
      },
    });
    try {
      await until(() => /jobs added/.test(submitLog) && /worker: redis:/.test(workLog), "the submitter to add its jobs and the worker to start");
      await new Promise((r) => setTimeout(r, 500));
      redis.freeze(true);
      await new Promise((r) => setTimeout(r, 300));
      const signalledAt = Date.now();
      worker!.kill("SIGTERM");
      submitter!.kill("SIGTERM");
      const [w, s] = await Promise.all([working, submitting]);
      expect(w.signal, w.stderr).toBe(null);
      expect(w.code, w.stderr).toBe(0); // no job was in hand
      expect(w.exitedAt - signalledAt, w.stderr).toBeLessThan(8000);
      expect(s.code, s.stderr).toBe(143);
      expect(s.exitedAt - signalledAt, s.stderr).toBeLessThan(8000);
      expect(JSON.parse(readFileSync(join(dir, "frozen.manifest.json"), "utf8")).status).toBe("interrupted");
      expect(existsSync(`${out}.lock`)).toBe(false);
    } finally {
      redis.freeze(false);
    }
  });
});
