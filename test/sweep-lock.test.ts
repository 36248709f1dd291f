// One writer per output: the lock beside a sweep's rows file. A second `sweep --out X` (with
// --resume, --overwrite or --queue) exits 2 naming the file and the holder and writes nothing; the
// lock goes away on every exit; a lock left by a dead process is taken over by exactly one taker.
// Needs dist/ (npm run build:ts): the CLI and the helper processes run the compiled code.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPlurisimError } from "../src/core/errors.js";
import { lockOutput, lockPath } from "../src/node/lock.js";
import { runSweep } from "../src/node/sweep-run.js";
import { parseSweep } from "../src/sweep/index.js";
import { cliBin as bin, runCli } from "./helpers.js";

const dir = resolve("test", "artifacts", `sweep-lock-${process.pid}`);
beforeAll(() => mkdirSync(dir, { recursive: true }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const distLock = new URL("../dist/src/node/lock.js", import.meta.url).pathname;
const cli = (...args: string[]) => runCli(args);

const small = {
  base: { space: { kind: "grid1d", min: -3, max: 3, cells: 31 }, groups: [{ weight: 1, reward: { kind: "quadratic", center: 0 } }], generations: 2 },
  axes: { seed: { range: [0, 6] } },
};
// Long enough that the test stops it (SIGTERM) well before it could finish.
const slow = {
  base: { space: { kind: "grid1d", min: -3, max: 3, cells: 2001 }, groups: [{ weight: 1, reward: { kind: "quadratic", center: 0 } }], generations: 3000 },
  axes: { seed: { range: [0, 2000] } },
};

/** The pid of a process that has exited (so no process has it, barring reuse). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

function staleRecord(pid: number) {
  return { pid, host: hostname(), start: null, token: `dead${pid}`, since: "2020-01-01T00:00:00.000Z" };
}

async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const hasRedis = spawnSync("redis-cli", ["-p", "6379", "ping"], { encoding: "utf8" }).stdout?.trim() === "PONG";
const redisPrefix = `plurisim-lock-test-${process.pid}`;
const redisKeys = () =>
  spawnSync("redis-cli", ["-p", "6379", "--scan", "--pattern", `${redisPrefix}:*`], { encoding: "utf8" })
    .stdout.split("\n")
    .filter(Boolean)
    .sort();
afterAll(() => {
  if (!hasRedis) return;
  const keys = redisKeys();
  if (keys.length) spawnSync("redis-cli", ["-p", "6379", "del", ...keys]);
});

const exited = (child: ChildProcess) => new Promise<number | null>((r) => child.on("exit", (code) => r(code)));

describe("the output lock", () => {
  it("a second lock on the same output is refused with the holder's pid; release frees it", () => {
    const target = join(dir, "a.jsonl");
    const first = lockOutput(target);
    let err: unknown;
    try {
      lockOutput(target);
    } catch (e) {
      err = e;
    }
    expect(isPlurisimError(err, "FILE")).toBe(true);
    expect((err as Error).message).toContain(target);
    expect((err as Error).message).toContain(`process ${process.pid}`);
    first.release();
    expect(existsSync(lockPath(target))).toBe(false);
    lockOutput(target).release();
  });

  it("a lock left by a dead process is taken over; a live holder's is not", () => {
    const target = join(dir, "stale.jsonl");
    writeFileSync(lockPath(target), JSON.stringify(staleRecord(deadPid())));
    const lock = lockOutput(target);
    expect(JSON.parse(readFileSync(lockPath(target), "utf8")).pid).toBe(process.pid);
    lock.release();
    writeFileSync(lockPath(target), JSON.stringify({ ...staleRecord(process.ppid), token: "live" }));
    expect(() => lockOutput(target)).toThrow(new RegExp(`process ${process.ppid}`));
    rmSync(lockPath(target));
  });

  it("many processes racing to take over one stale lock: exactly one wins", async () => {
    for (let round = 0; round < 2; round++) {
      const target = join(dir, `race${round}.jsonl`);
      writeFileSync(lockPath(target), JSON.stringify(staleRecord(deadPid())));
      const go = Date.now() + 1500;
      // Each taker waits for a common start time, tries once, and holds a lock it wins until killed.
      const script = `
        const { lockOutput } = await import(${JSON.stringify(distLock)});
        while (Date.now() < ${go}) {}
        try { lockOutput(${JSON.stringify(target)}); process.stdout.write("won\\n"); setInterval(() => {}, 1000); }
        catch (e) { process.stdout.write("lost " + e.code + "\\n"); }`;
      const takers = Array.from({ length: 5 }, () => spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] }));
      const outputs = takers.map((t) => {
        let s = "";
        t.stdout!.on("data", (d) => (s += d));
        return () => s;
      });
      await until(() => outputs.every((o) => o().includes("\n")), "every taker to answer");
      const won = outputs.filter((o) => o() === "won\n").length;
      for (const t of takers) t.kill("SIGKILL");
      const losers = outputs.map((o) => o().trim()).filter((s) => s !== "won");
      expect(losers).toEqual(losers.map(() => "lost FILE"));
      expect(won).toBe(1);
    }
  });

  it("a second sweep on the same output (--overwrite or --resume) exits 2, names the holder and writes nothing", async () => {
    const file = join(dir, "small.json");
    writeFileSync(file, JSON.stringify(small));
    const out = join(dir, "held.jsonl");
    expect(cli("sweep", file, "--out", out, "--no-progress", "--workers", "0").code).toBe(0);
    const before = readFileSync(out, "utf8");
    const mtime = statSync(out).mtimeMs;
    const lock = lockOutput(out);
    try {
      for (const flag of ["--overwrite", "--resume"]) {
        const r = cli("sweep", file, "--out", out, flag, "--no-progress", "--workers", "0");
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(`[FILE]`);
        expect(r.stderr).toContain(out);
        expect(r.stderr).toContain(`process ${process.pid}`);
      }
      // The queue submitter locks before it touches the server: a dead server is never reached.
      const q = cli("sweep", file, "--out", out, "--resume", "--queue", "redis://127.0.0.1:1/0", "--no-progress");
      expect(q.code, q.stderr).toBe(2);
      expect(q.stderr).toContain(`process ${process.pid}`);
    } finally {
      lock.release();
    }
    expect(readFileSync(out, "utf8")).toBe(before);
    expect(statSync(out).mtimeMs).toBe(mtime);
  });

  it("two concurrent CLI sweeps: the second is refused; SIGTERM releases the lock; the rows stay one clean prefix", async () => {
    const file = join(dir, "slow.json");
    writeFileSync(file, JSON.stringify(slow));
    const out = join(dir, "two.jsonl");
    const first = spawn(process.execPath, [bin, "sweep", file, "--out", out, "--workers", "1", "--no-progress", "--no-summary"], { stdio: ["ignore", "ignore", "pipe"] });
    const firstExit = exited(first);
    try {
      await until(() => existsSync(lockPath(out)) && existsSync(out), "the first sweep to start");
      const second = cli("sweep", file, "--out", out, "--overwrite", "--workers", "1", "--no-progress");
      expect(second.code, second.stderr).toBe(2);
      expect(second.stderr).toContain(`process ${first.pid}`);
      expect(second.stderr).toContain(out);
    } finally {
      first.kill("SIGTERM");
    }
    expect(await firstExit).toBe(143);
    expect(existsSync(lockPath(out))).toBe(false);
    const rows = readFileSync(out, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l).cell as number);
    expect(rows).toEqual(rows.map((_, i) => i));
  });

  it("a process stopped by a signal it does not handle still removes its lock", async () => {
    for (const [sig, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
      const target = join(dir, `signal-${sig}.jsonl`);
      const script = `
        const { lockOutput } = await import(${JSON.stringify(distLock)});
        lockOutput(${JSON.stringify(target)});
        process.stdout.write("held\\n");
        setInterval(() => {}, 1000);`;
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
      const exit = exited(child);
      await new Promise((r) => child.stdout!.once("data", r));
      expect(existsSync(lockPath(target))).toBe(true);
      child.kill(sig);
      expect(await exit).toBe(code);
      expect(existsSync(lockPath(target))).toBe(false);
    }
  });

  it.skipIf(!hasRedis)("two queue submitters on one output: the second is refused naming the first", async () => {
    const file = join(dir, "queued.json");
    writeFileSync(file, JSON.stringify(small));
    const out = join(dir, "queued.jsonl");
    const queue = ["--queue", "redis://127.0.0.1:6379/0", "--queue-prefix", redisPrefix, "--queue-name", "lock"];
    // No worker runs, so the first submitter waits for its cells, holding the lock.
    const first = spawn(process.execPath, [bin, "sweep", file, "--out", out, ...queue, "--no-progress", "--no-summary"], { stdio: ["ignore", "ignore", "pipe"] });
    const firstExit = exited(first);
    try {
      await until(() => existsSync(lockPath(out)) && existsSync(out), "the first submitter to start");
      const second = cli("sweep", file, "--out", out, "--resume", ...queue, "--no-progress");
      expect(second.code, second.stderr).toBe(2);
      expect(second.stderr).toContain(`process ${first.pid}`);
    } finally {
      first.kill("SIGTERM");
    }
    expect(await firstExit).toBe(143);
    expect(existsSync(lockPath(out))).toBe(false);
  });

  it("runSweep releases the lock when it fails", async () => {
    const out = join(dir, "fails.jsonl");
    const plan = parseSweep(small);
    await expect(runSweep({ plan, out, workers: 0, csv: join(dir, "no-such-dir", "x.csv") })).rejects.toThrow();
    expect(existsSync(lockPath(out))).toBe(false);
    await runSweep({ plan, out, workers: 0, overwrite: true });
    expect(existsSync(lockPath(out))).toBe(false);
  });
});
