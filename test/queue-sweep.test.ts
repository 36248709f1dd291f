// Sweeps over the Redis queue, against a real Redis on 127.0.0.1:6379: two worker
// processes and a submitter give the rows of a local sweep; a worker killed (SIGKILL) mid-sweep
// loses no cell and duplicates none; resubmission adds nothing and re-collects; a job that keeps
// failing becomes error rows after --attempts; a bad URL, an unreachable port and a database the
// server lacks fail clearly without an output file; a Redis killed mid-sweep (a private
// redis-server on another loopback port) ends the submitter with QUEUE_LOST after the give-up time.
// Skips (with a note) when no Redis answers. Needs dist/ (npm run build).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectionOptions, probe } from "../src/node/queue/connection.js";
import { PlurisimError } from "../src/core/errors.js";
import { parseQueueUrl } from "../src/node/queue/target.js";
import { clearQueue } from "../src/node/queue/submit.js";
import { readRows, runSweep } from "../src/node/sweep-run.js";
import { parseSweep } from "../src/sweep/index.js";
import type { Row } from "../src/sweep/task.js";

const URL_ = "redis://127.0.0.1:6379/0";
const target = parseQueueUrl(URL_);
let redis = false;
try {
  await probe(target);
  redis = true;
} catch (e) {
  console.log(
    `queue tests skipped: no Redis at 127.0.0.1:6379 (${(e as Error).message}).\n` +
      "  To run them: apt-get install -y redis-server && redis-server --port 6379 --bind 127.0.0.1 --daemonize yes",
  );
}

const dir = join("test", "artifacts", `queue-${process.pid}`);
const prefix = `plurisim-test-${process.pid}`;
const queues: string[] = [];
const children = new Set<ChildProcess>();

// 48 cells of a few tens of milliseconds each: long enough to kill a worker in the middle.
const doc = {
  base: {
    space: { kind: "grid1d", min: -8, max: 8, cells: 2001 },
    initial: { kind: "uniform" },
    groups: [
      { weight: 0.5, reward: { kind: "quadratic", center: -1, scale: 1 } },
      { weight: 0.5, reward: { kind: "quadratic", center: 1, scale: 1 } },
    ],
    curation: { K: "inf", temperature: 1 },
    generations: 300,
  },
  axes: { "groups[0].weight": { linspace: [0.1, 0.9, 8] }, "curation.temperature": [1, 0.5, 2] },
  derived: { "groups[1].weight": "1 - groups[0].weight" },
  replicates: 2,
  seed: 11,
  keep: { final: true, nash: true, generations: [0, 100] },
};
const plan = parseSweep(doc);
const sweepFile = join(dir, "sweep.json");
const strip = (rows: Row[]) => rows.map(({ durationMs, ...rest }) => rest);
let reference: ReturnType<typeof strip>;

interface Run {
  code: number | null;
  stderr: string;
}

/** Runs `node bin/plurisim.js ...args`; resolves when it exits. */
function cli(args: string[], onStart?: (p: ChildProcess) => void, env?: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["bin/plurisim.js", ...args], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } });
    children.add(p);
    let stderr = "";
    p.stderr!.on("data", (d) => (stderr += d));
    onStart?.(p);
    p.on("exit", (code) => {
      children.delete(p);
      resolve({ code, stderr });
    });
  });
}

function queueName(tag: string): string {
  const name = `${tag}-${Date.now().toString(36)}`;
  queues.push(name);
  return name;
}

const worker = (name: string, extra: string[] = []) =>
  cli(["worker", "--queue", URL_, "--queue-prefix", prefix, "--queue-name", name, "--workers", "1", "--exit-when-idle", "--idle-ms", "1500", "--lock-duration", "1000", "--stalled-interval", "500", ...extra]);
const submit = (name: string, out: string, extra: string[] = []) =>
  cli(["sweep", sweepFile, "--queue", URL_, "--queue-prefix", prefix, "--queue-name", name, "--out", out, "--no-summary", "--no-progress", ...extra]);

// A private server for the test that kills it (redis-server from the PATH).
const hasRedisServer = spawnSync("redis-server", ["--version"]).status === 0;
if (!hasRedisServer) console.log("queue test of a lost server skipped: redis-server is not installed (apt-get install -y redis-server)");

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(sweepFile, JSON.stringify(doc));
  if (!redis && !hasRedisServer) return;
  await runSweep({ plan, out: join(dir, "local.jsonl"), workers: 0 });
  reference = strip(await readRows(join(dir, "local.jsonl")));
});

afterAll(async () => {
  for (const p of children) p.kill("SIGKILL");
  if (redis) {
    for (const name of queues) await clearQueue(target, { prefix, queue: name }).catch(() => {});
  }
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!redis)("sweeps over a Redis queue", () => {
  it("two worker processes and a submitter write the rows of a local sweep", async () => {
    const name = queueName("two");
    const out = join(dir, "two.jsonl");
    const [s, a, b] = await Promise.all([submit(name, out, ["--batch", "2"]), worker(name), worker(name)]);
    expect(s.code, s.stderr).toBe(0);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(s.stderr).toMatch(/24 of 24 jobs added \(2 cells per job\)/);
    expect(strip(await readRows(out))).toEqual(reference);
    const manifest = JSON.parse(readFileSync(join(dir, "two.manifest.json"), "utf8"));
    expect(manifest).toMatchObject({ status: "complete", cells: { total: 48, done: 48, pending: 0 } });
    // The run records the queue it used (the URL without a password), not a local thread count.
    expect(manifest.runs[0].workers).toBeNull();
    expect(manifest.runs[0].queue.queue).toMatch(/^redis:\/\/127\.0\.0\.1:6379\/0$/);
    // The two workers ran the 24 jobs between them (which one took how many is up to the queue).
    const jobsRun = [a, b].map((w) => Number(/done: (\d+) jobs/.exec(w.stderr)?.[1] ?? NaN));
    expect(jobsRun[0] + jobsRun[1]).toBe(24);

    // Resubmission: nothing added; the rows are collected again from Redis, with no worker running.
    const again = await submit(name, join(dir, "again.jsonl"));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/0 of 24 jobs added/);
    expect(strip(await readRows(join(dir, "again.jsonl")))).toEqual(reference);
      const q = new Queue(name, { connection: connectionOptions(target), prefix });
    expect(await q.getJobCountByTypes("completed")).toBe(24);
    expect(await q.getJobCountByTypes("waiting", "active", "delayed", "failed")).toBe(0);
    await q.close();
  });

  it("a worker killed (SIGKILL) mid-sweep loses no cell and duplicates none", async () => {
    const name = queueName("kill");
    const out = join(dir, "kill.jsonl");
    const submitting = submit(name, out, ["--batch", "1"]);
    let victim: ChildProcess | undefined;
    let killedAfter = "";
    const victimRun = cli(
      ["worker", "--queue", URL_, "--queue-prefix", prefix, "--queue-name", name, "--workers", "1", "--lock-duration", "1000", "--stalled-interval", "500"],
      (p) => (victim = p),
    );
    // Kill the victim once it has finished a few jobs, i.e. while it holds another one.
    const killer = setInterval(() => {
      if (existsSync(out) && readFileSync(out, "utf8").split("\n").length > 4 && victim && victim.exitCode === null) {
        killedAfter = readFileSync(out, "utf8");
        victim.kill("SIGKILL");
        clearInterval(killer);
      }
    }, 20);
    const survivor = worker(name);
    const [s, v, w] = await Promise.all([submitting, victimRun, survivor]);
    clearInterval(killer);
    expect(v.code).toBe(null); // killed by the signal
    expect(killedAfter).not.toBe("");
    expect(s.code, s.stderr).toBe(0);
    expect(w.code, w.stderr).toBe(0);
    const rows = await readRows(out);
    expect(rows.map((r) => r.cell)).toEqual([...Array(48).keys()]);
    expect(strip(rows)).toEqual(reference);
  });

  it("a job that keeps failing ends as error rows after --attempts", async () => {
    const name = queueName("fail");
    const out = join(dir, "fail.jsonl");
    const [s, w] = await Promise.all([submit(name, out, ["--batch", "1", "--attempts", "2"]), worker(name, ["--test-fail-cells", "5"])]);
    expect(s.code, s.stderr).toBe(0);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stderr.match(/job \S+-5 failed/g)?.length).toBe(2);
    const rows = await readRows(out);
    expect(rows[5]).toMatchObject({ cell: 5, status: "error", errorCode: "QUEUE_FAILED", error: expect.stringMatching(/after 2 attempt\(s\): test failure injected/) });
    expect(strip(rows.filter((r) => r.cell !== 5))).toEqual(reference.filter((r) => r.cell !== 5));
  });

  it("a bad URL (exit 2) and an unreachable port (exit 1) say what failed and write no file", async () => {
    const bad = await cli(["sweep", sweepFile, "--queue", "http://127.0.0.1:6379", "--out", join(dir, "bad.jsonl")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/error \[QUEUE_URL\]: .*scheme must be redis:\/\//);
    const port = await cli(["sweep", sweepFile, "--queue", "redis://127.0.0.1:0", "--out", join(dir, "bad.jsonl")]);
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/port must be 1\.\.65535/);
    const down = await cli(["sweep", sweepFile, "--queue", "redis://127.0.0.1:1/0", "--out", join(dir, "down.jsonl")]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/error \[QUEUE_UNREACHABLE\]: cannot reach Redis at 127\.0\.0\.1:1 \(db 0\): connection refused \(ECONNREFUSED\)/);
    const w = await cli(["worker", "--queue", "redis://127.0.0.1:1"]);
    expect(w.code).toBe(1);
    expect(w.stderr).toMatch(/QUEUE_UNREACHABLE.*127\.0\.0\.1:1/);
    for (const f of ["bad.jsonl", "bad.manifest.json", "down.jsonl", "down.manifest.json"]) expect(existsSync(join(dir, f))).toBe(false);
  });

  it("a database the server lacks (exit 2) is named, with no ioredis noise and no file", async () => {
    const lacking = parseQueueUrl("redis://127.0.0.1:6379/99");
    await expect(probe(lacking)).rejects.toMatchObject({ code: "QUEUE_URL", message: expect.stringMatching(/database 99 does not exist/) });
    // Before the fix this hung (the jobs went to db 0): the 10 s kill turns a hang into a failure.
    const kill = (p: ChildProcess) => void setTimeout(() => p.kill("SIGKILL"), 10_000).unref();
    const name = queueName("db99");
    const s = await cli(["sweep", sweepFile, "--queue", "redis://127.0.0.1:6379/99", "--queue-prefix", prefix, "--queue-name", name, "--out", join(dir, "db99.jsonl")], kill);
    expect(s.code, s.stderr).toBe(2);
    expect(s.stderr).toMatch(/error \[QUEUE_URL\]: cannot use Redis at 127\.0\.0\.1:6379 \(db 99\): database 99 does not exist/);
    expect(s.stderr).not.toMatch(/Unhandled error event|ReplyError|\n\s+at /);
    const w = await cli(["worker", "--queue", "redis://127.0.0.1:6379/99", "--queue-prefix", prefix, "--queue-name", name], kill);
    expect(w.code, w.stderr).toBe(2);
    expect(w.stderr).toMatch(/QUEUE_URL.*database 99/);
    for (const f of ["db99.jsonl", "db99.trajectories.jsonl", "db99.manifest.json"]) expect(existsSync(join(dir, f))).toBe(false);
  });
});

describe.skipIf(!hasRedisServer)("a Redis lost mid-sweep", () => {
  it("ends the submitter with QUEUE_LOST about the give-up time after the server dies, rows kept whole", async () => {
    const giveUpMs = 3000;
    const port = 20000 + (process.pid % 20000);
    const url = `redis://127.0.0.1:${port}/0`;
    const server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"], { stdio: "ignore" });
    children.add(server);
    try {
      const t = parseQueueUrl(url);
      for (let i = 0; ; i++) {
        try {
          await probe(t);
          break;
        } catch (e) {
          if (i > 50) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const out = join(dir, "lost.jsonl");
      const env = { PLURISIM_QUEUE_GIVE_UP_MS: String(giveUpMs) };
      let killedAt = 0;
      const submitting = cli(["sweep", sweepFile, "--queue", url, "--queue-name", "lost", "--out", out, "--batch", "1", "--no-summary", "--no-progress"], undefined, env);
      let worker: ChildProcess | undefined;
      const w = cli(["worker", "--queue", url, "--queue-name", "lost", "--workers", "1", "--quiet"], (p) => (worker = p));
      // Kill the server once a few rows are written, i.e. while the sweep is under way.
      const killer = setInterval(() => {
        if (existsSync(out) && readFileSync(out, "utf8").split("\n").length > 4 && !killedAt) {
          killedAt = Date.now();
          server.kill("SIGKILL");
          clearInterval(killer);
        }
      }, 20);
      const s = await submitting;
      clearInterval(killer);
      const elapsed = Date.now() - killedAt;
      expect(killedAt, s.stderr).toBeGreaterThan(0);
      expect(s.code, s.stderr).toBe(1);
      expect(s.stderr).toMatch(new RegExp(`error \\[QUEUE_LOST\\]: lost Redis at 127\\.0\\.0\\.1:${port} while collecting results`));
      expect(s.stderr).not.toMatch(/Unhandled error event|\n\s+at /);
      // Given up from the first unanswered call (within a poll of the kill), not after the back-off.
      expect(elapsed, s.stderr).toBeGreaterThan(giveUpMs - 500);
      // Generous on a loaded CI machine; the defect this pins took 50 s and more.
      expect(elapsed, s.stderr).toBeLessThan(giveUpMs + 9000);
      // The rows written so far: whole lines, an ordered prefix of the local sweep's rows.
      const text = readFileSync(out, "utf8");
      expect(text.endsWith("\n")).toBe(true);
      const rows = await readRows(out);
      expect(rows.length).toBeGreaterThanOrEqual(4);
      expect(rows.length).toBeLessThan(48);
      expect(strip(rows)).toEqual(reference.slice(0, rows.length));
      const manifest = JSON.parse(readFileSync(join(dir, "lost.manifest.json"), "utf8"));
      expect(manifest).toMatchObject({ status: "interrupted", cells: { done: rows.length } });
      worker?.kill("SIGKILL"); // it would wait for the server forever
      await w;
    } finally {
      server.kill("SIGKILL");
      children.delete(server);
    }
  }, 30_000);
});

describe("queue URLs", () => {
  it("parse host, port, db and credentials from the URL or the environment", () => {
    expect(parseQueueUrl("redis://h:7000/3", {})).toEqual({ host: "h", port: 7000, db: 3 });
    expect(parseQueueUrl("redis://u:p%40ss@h", {})).toEqual({ host: "h", port: 6379, db: 0, username: "u", password: "p@ss" });
    expect(parseQueueUrl(undefined, { REDIS_URL: "redis://e:1/2", PLURISIM_REDIS_PASSWORD: "s" })).toEqual({ host: "e", port: 1, db: 2, password: "s" });
    for (const bad of ["rediss://h", "redis://h/x", "redis://h:0", "nonsense", "redis://h?x=1"]) {
      expect(() => parseQueueUrl(bad, {}), bad).toThrow(PlurisimError);
    }
    try {
      parseQueueUrl("http://u:secret@h", {});
    } catch (e) {
      expect((e as PlurisimError).code).toBe("QUEUE_URL");
      expect((e as Error).message).not.toMatch(/secret/);
    }
  });
});
