// Resuming a queue sweep after its Redis lost every key (FLUSHDB, or a restart without
// persistence), against a private redis-server. A finished sweep resumes without adding anything
// to Redis (before, it re-added every job, and workers computed rows nobody collected); a sweep
// missing its last rows gets back exactly the jobs of those cells, its plan record with them, and
// ends with the rows of a local run.
import { readFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectionOptions } from "../src/node/queue/connection.js";
import { parseQueueUrl } from "../src/node/queue/target.js";
import { readRows, runSweep } from "../src/node/sweep-run.js";
import { parseSweep } from "../src/sweep/index.js";
import type { Row } from "../src/sweep/task.js";
import { cli, hasRedisServer, killChildren, startRedis, type PrivateRedis } from "./queue-helpers.js";

const dir = join("test", "artifacts", `queue-lost-state-${process.pid}`);
const sweepFile = join(dir, "sweep.json");
const doc = {
  base: {
    space: { kind: "grid1d", min: -4, max: 4, cells: 201 },
    groups: [
      { weight: 0.5, reward: { kind: "quadratic", center: -1, scale: 1 } },
      { weight: 0.5, reward: { kind: "quadratic", center: 1, scale: 1 } },
    ],
    curation: { K: "inf", temperature: 1 },
    generations: 20,
  },
  axes: { "groups[0].weight": { linspace: [0.1, 0.9, 6] }, "curation.temperature": [1, 2] },
  derived: { "groups[1].weight": "1 - groups[0].weight" },
  seed: 3,
  keep: { final: true },
};
const strip = (rows: Row[]) => rows.map(({ durationMs, ...rest }) => rest);
let redis: PrivateRedis;
let reference: ReturnType<typeof strip>;

const submit = (out: string, extra: string[] = []) => cli(["sweep", sweepFile, "--queue", redis.url, "--out", out, "--batch", "2", "--no-progress", "--no-summary", ...extra]);
const worker = () => cli(["worker", "--queue", redis.url, "--workers", "1", "--exit-when-idle", "--idle-ms", "1500"]);

describe.skipIf(!hasRedisServer)("resuming a queue sweep after Redis lost its data", () => {
  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(sweepFile, JSON.stringify(doc));
    redis = await startRedis();
    await runSweep({ plan: parseSweep(doc), out: join(dir, "local.jsonl"), workers: 0 });
    reference = strip(await readRows(join(dir, "local.jsonl")));
  });
  afterAll(() => {
    killChildren();
    redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function withClient<T>(f: (c: Redis) => Promise<T>): Promise<T> {
    const c = new Redis(connectionOptions(parseQueueUrl(redis.url)));
    try {
      return await f(c);
    } finally {
      c.disconnect();
    }
  }

  it("adds nothing when every row is written, and re-adds only the missing cells' jobs otherwise", async () => {
    const out = join(dir, "rows.jsonl");
    const [s, w] = await Promise.all([submit(out), worker()]);
    expect(s.code, s.stderr).toBe(0);
    expect(w.code, w.stderr).toBe(0);
    expect(s.stderr).toMatch(/6 of 6 jobs added \(2 cells per job\)/);
    const complete = readFileSync(out, "utf8");
    expect(strip(await readRows(out))).toEqual(reference);

    // The server loses everything; the finished sweep is resumed: nothing to run, nothing added.
    await withClient((c) => c.flushdb());
    const again = await submit(out, ["--resume"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/complete: 12\/12 cells written/);
    expect(again.stderr).not.toMatch(/jobs added/);
    expect(await withClient((c) => c.dbsize())).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(complete);

    // The last 7 rows are lost too (cells 5..11): resume re-adds jobs 2..5 (cells 4..11) and the plan record.
    const lines = complete.split("\n");
    writeFileSync(out, lines.slice(0, 5).join("\n") + "\n");
    await withClient((c) => c.flushdb());
    const [r, w2] = await Promise.all([submit(out, ["--resume"]), worker()]);
    expect(r.code, r.stderr).toBe(0);
    expect(w2.code, w2.stderr).toBe(0);
    expect(r.stderr).toMatch(/4 of 4 jobs added \(2 cells per job, from cell 5; the queue had no record of this sweep/);
    expect(strip(await readRows(out))).toEqual(reference);
    const queue = new Queue("sweeps", { connection: connectionOptions(parseQueueUrl(redis.url)), prefix: "plurisim" });
    try {
      const done = await queue.getJobs(["completed"]);
      expect(done.map((j) => j.data.start).sort((a, b) => a - b)).toEqual([4, 6, 8, 10]);
      expect(await queue.getJobCountByTypes("waiting", "active", "delayed", "failed")).toBe(0);
    } finally {
      await queue.close();
    }
    expect(await withClient((c) => c.keys("plurisim:sweeps:plan:*"))).toHaveLength(1);
  });
});
