// A second SIGTERM or SIGINT while a sweep stops gracefully stops it at once: exit 143 or 130,
// the output lock released, no temporary file left (the CSV being written when it came), the
// rows file whole lines; `--resume` then completes it with every cell exactly once. The second
// signal comes either as soon as the first is acknowledged (the threads are being ended) or once
// the CSV's temporary file exists. Runs the CLI from dist/ (npm run build).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliBin as bin, runCli } from "./helpers.js";

const dir = join("test", "artifacts", `sweep-signal-${process.pid}`);
beforeAll(() => mkdirSync(dir, { recursive: true }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// FAST cells of 11 atoms and 2 generations (well under a millisecond each), then SLOW cells of
// 20,001 atoms and 12,000 generations (about 0.15 s each): the test signals once the fast rows
// are written, while the slow cells run; the graceful stop then writes the CSV of the rows.
const FAST = 4000;
const SLOW = 40;
const sweep = {
  base: { space: { kind: "grid1d", min: -3, max: 3, cells: 11 }, groups: [{ weight: 1, reward: { kind: "quadratic", center: 0 } }], generations: 2 },
  zip: [
    {
      seed: Array.from({ length: FAST + SLOW }, (_, k) => k),
      "space.cells": [...Array(FAST).fill(11), ...Array(SLOW).fill(20001)],
      generations: [...Array(FAST).fill(2), ...Array(SLOW).fill(12000)],
    },
  ],
};

const temporaries = () => readdirSync(dir).filter((n) => n.endsWith(".tmp"));
const lineCount = (path: string) => (existsSync(path) ? readFileSync(path, "utf8").split("\n").length - 1 : 0);

/** Resolves once `check()` holds, polling every `every` ms (0: as often as the event loop turns). */
async function until(check: () => boolean, what: string, ms = 60_000, every = 10): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => (every > 0 ? setTimeout(r, every) : setImmediate(r)));
  }
}

describe("a second stop signal during a sweep's graceful stop", () => {
  for (const [sig, code, during] of [
    ["SIGTERM", 143, "csv"],
    ["SIGINT", 130, "ack"],
  ] as const) {
    const when = during === "csv" ? "while the CSV is written" : "as soon as the first is acknowledged";
    it(`${sig} twice (${when}): exit ${code} at once, lock released, no temporary left, whole lines; --resume completes every cell once`, async () => {
      const file = join(dir, `twice-${sig}.json`);
      writeFileSync(file, JSON.stringify(sweep));
      const out = join(dir, `twice-${sig}.jsonl`);
      const args = ["sweep", file, "--out", out, "--csv", "--workers", "2", "--no-progress", "--no-summary"];
      const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));

      await until(() => lineCount(out) >= FAST, `${FAST} rows`);
      child.kill(sig);
      // The graceful stop (threads ended, manifest, the CSV of thousands of rows: its columns
      // read, then written to a temporary) takes a few hundred milliseconds.
      await until(() => stderr.includes("stopping after whole lines"), "the first signal's note", 10_000);
      let exitedEarly = false;
      void exited.then(() => (exitedEarly = true));
      const csvTemporary = () => temporaries().some((n) => n.startsWith(`twice-${sig}.csv.`));
      if (during === "csv") await until(() => exitedEarly || csvTemporary(), "the CSV's temporary", 10_000, 0);
      expect(exitedEarly, `the sweep ended before the second signal: ${stderr}`).toBe(false);
      child.kill(sig);
      const exit = await exited;

      expect(exit, stderr).toBe(code);
      expect(stderr).toContain(`${sig} again: stopped at once`);
      expect(existsSync(`${out}.lock`), "the lock is released").toBe(false);
      expect(temporaries()).toEqual([]);
      const partial = readFileSync(out, "utf8");
      expect(partial.endsWith("\n")).toBe(true);
      const cells = partial.trim().split("\n").map((l) => (JSON.parse(l) as { cell: number }).cell);
      expect(cells).toEqual([...cells.keys()]);
      expect(cells.length).toBeLessThan(FAST + SLOW);

      const again = runCli([...args, "--resume"]);
      expect(again.code, again.stderr).toBe(0);
      const rows = readFileSync(out, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { cell: number }).cell);
      expect(rows).toEqual([...Array(FAST + SLOW).keys()]);
      expect(lineCount(join(dir, `twice-${sig}.csv`))).toBe(FAST + SLOW + 1);
      expect(JSON.parse(readFileSync(join(dir, `twice-${sig}.manifest.json`), "utf8")).status).toBe("complete");
    }, 120_000);
  }
});
