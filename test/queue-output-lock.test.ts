// Two queue submitters on the same --out, against a private redis-server: the second exits 2
// naming the file and the first submitter's pid, adds nothing to Redis (not even under another
// queue name) and leaves the files as they are; the first one then completes with one row per
// cell, identical to a local run.
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectionOptions } from "../src/node/queue/connection.js";
import { parseQueueUrl } from "../src/node/queue/target.js";
import { lockPath } from "../src/node/lock.js";
import { readRows, runSweep } from "../src/node/sweep-run.js";
import { parseSweep } from "../src/sweep/index.js";
import type { Row } from "../src/sweep/task.js";
import { cli, hasRedisServer, killChildren, startRedis, until, type PrivateRedis } from "./queue-helpers.js";

const dir = join("test", "artifacts", `queue-output-lock-${process.pid}`);
const sweepFile = join(dir, "sweep.json");
const doc = {
  base: {
    space: { kind: "grid1d", min: -4, max: 4, cells: 201 },
    groups: [{ weight: 1, reward: { kind: "quadratic", center: 0, scale: 1 } }],
    curation: { K: "inf", temperature: 1 },
    generations: 20,
  },
  axes: { "curation.temperature": [0.5, 1, 2, 4] },
  seed: 5,
  keep: { final: true },
};
const strip = (rows: Row[]) => rows.map(({ durationMs, ...rest }) => rest);
let redis: PrivateRedis;

describe.skipIf(!hasRedisServer)("two queue submitters on one output", () => {
  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(sweepFile, JSON.stringify(doc));
    redis = await startRedis();
  });
  afterAll(() => {
    killChildren();
    redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the second exits 2 and writes nothing, in the files or in Redis", async () => {
    const out = join(dir, "rows.jsonl");
    let first: ChildProcess | undefined;
    let firstLog = "";
    // No worker yet: the first submitter adds its jobs and waits for them, holding the lock.
    const firstRun = cli(["sweep", sweepFile, "--queue", redis.url, "--queue-name", "one", "--out", out, "--batch", "1", "--no-progress", "--no-summary"], {
      onStart: (p) => {
        first = p;
        p.stderr!.on("data", (d) => (firstLog += d));
      },
    });
    const client = new Redis(connectionOptions(parseQueueUrl(redis.url)));
    try {
      await until(() => existsSync(lockPath(out)) && existsSync(out) && /4 of 4 jobs added/.test(firstLog), "the first submitter to lock and add its jobs");
      const keysBefore = (await client.keys("*")).sort();
      const rowsBefore = readFileSync(out, "utf8");
      const manifestBefore = readFileSync(join(dir, "rows.manifest.json"), "utf8");

      for (const flag of ["--resume", "--overwrite"]) {
        const second = await cli(["sweep", sweepFile, "--queue", redis.url, "--queue-name", "two", "--out", out, flag, "--no-progress", "--no-summary"]);
        expect(second.code, second.stderr).toBe(2);
        expect(second.stderr).toMatch(/^plurisim: error \[FILE\]: /m);
        expect(second.stderr).toContain(out);
        expect(second.stderr).toContain(`process ${first!.pid}`);
      }
      expect((await client.keys("*")).sort()).toEqual(keysBefore);
      expect(await client.keys("plurisim:two:*")).toEqual([]);
      expect(readFileSync(out, "utf8")).toBe(rowsBefore);
      expect(readFileSync(join(dir, "rows.manifest.json"), "utf8")).toBe(manifestBefore);
    } finally {
      client.disconnect();
    }

    const w = await cli(["worker", "--queue", redis.url, "--queue-name", "one", "--workers", "1", "--exit-when-idle", "--idle-ms", "1500"]);
    const f = await firstRun;
    expect(w.code, w.stderr).toBe(0);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stderr).toMatch(/complete: 4\/4 cells written/);
    await runSweep({ plan: parseSweep(doc), out: join(dir, "local.jsonl"), workers: 0 });
    expect(strip(await readRows(out))).toEqual(strip(await readRows(join(dir, "local.jsonl"))));
    expect(existsSync(lockPath(out))).toBe(false);
  });
});
