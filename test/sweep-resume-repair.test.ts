// Resume after a torn or short write: the rows and trajectories files are cut back to the longest
// prefix that is whole in both (trajectories for exactly the rows kept), and the sweep completes
// to the same files as one that ran through. A full disk stops the sweep with a FILE error; after
// space is freed, --resume finishes it.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, truncateSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPlurisimError } from "../src/core/errors.js";
import { runSweep, sweepPaths } from "../src/node/sweep-run.js";
import { parseSweep } from "../src/sweep/index.js";

const dir = resolve("test", "artifacts", `sweep-repair-${process.pid}`);
beforeAll(() => mkdirSync(dir, { recursive: true }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const plan = parseSweep({
  base: {
    space: { kind: "grid1d", min: -3, max: 3, cells: 41 },
    groups: [{ weight: 1, reward: { kind: "quadratic", center: 0 } }],
    curation: { K: "inf", temperature: 1 },
    generations: 60,
    record: { every: 1 },
  },
  axes: { seed: { range: [0, 30] } },
  keep: { trajectory: true },
});
const withoutTiming = (path: string) => readFileSync(path, "utf8").replace(/"durationMs":[0-9.e+-]+/g, "");
const lineEnds = (path: string) => {
  const text = readFileSync(path);
  const ends: number[] = [];
  for (let i = 0; i < text.length; i++) if (text[i] === 10) ends.push(i + 1);
  return ends;
};

let ref: ReturnType<typeof sweepPaths>;
beforeAll(async () => {
  ref = sweepPaths(join(dir, "ref.jsonl"));
  await runSweep({ plan, out: ref.rows, workers: 0 });
});

/** A copy of the reference run cut to `rowBytes` and `trajBytes`, resumed. */
async function resumeCut(name: string, rowBytes: number, trajBytes: number) {
  const p = sweepPaths(join(dir, `${name}.jsonl`));
  copyFileSync(ref.rows, p.rows);
  copyFileSync(ref.trajectories, p.trajectories);
  copyFileSync(ref.manifest, p.manifest);
  truncateSync(p.rows, rowBytes);
  truncateSync(p.trajectories, trajBytes);
  const notes: string[] = [];
  const r = await runSweep({ plan, out: p.rows, workers: 0, resume: true, onNote: (t) => notes.push(t) });
  expect(r.status).toBe("complete");
  expect(withoutTiming(p.rows)).toBe(withoutTiming(ref.rows));
  expect(readFileSync(p.trajectories, "utf8")).toBe(readFileSync(ref.trajectories, "utf8"));
  return { r, notes };
}

describe("resume repairs the rows and trajectories files", () => {
  it("one row more than trajectories (a lost trajectory line): the extra row runs again", async () => {
    const rows = lineEnds(ref.rows);
    const traj = lineEnds(ref.trajectories);
    const { r, notes } = await resumeCut("short-traj", rows[28], traj[27]);
    expect(r.counts.ranNow).toBe(30 - 28);
    expect(notes.join("\n")).toMatch(/dropped 1 row/);
  });

  it("both files torn mid-line, at different cells", async () => {
    const rows = lineEnds(ref.rows);
    const traj = lineEnds(ref.trajectories);
    const { r } = await resumeCut("torn-both", rows[20] - 7, traj[11] + 5);
    expect(r.counts.ranNow).toBe(30 - 12);
  });

  it("a trajectory line more than rows (stopped between the two writes)", async () => {
    const rows = lineEnds(ref.rows);
    const traj = lineEnds(ref.trajectories);
    const { r } = await resumeCut("extra-traj", rows[9], traj[10]);
    expect(r.counts.ranNow).toBe(30 - 10);
  });

  it("no trajectories file at all: starts the shard again rather than refusing", async () => {
    const p = sweepPaths(join(dir, "no-traj.jsonl"));
    copyFileSync(ref.rows, p.rows);
    copyFileSync(ref.manifest, p.manifest);
    const r = await runSweep({ plan, out: p.rows, workers: 0, resume: true });
    expect(r.counts.ranNow).toBe(30);
    expect(withoutTiming(p.rows)).toBe(withoutTiming(ref.rows));
  });
});

// A small tmpfs makes the disk fill up for real (needs root; skipped elsewhere).
const mnt = join(dir, "small-disk");
const canMount = (() => {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  mkdirSync(mnt, { recursive: true });
  const ok = spawnSync("mount", ["-t", "tmpfs", "-o", "size=96k", "tmpfs", mnt]).status === 0;
  if (ok) spawnSync("umount", [mnt]);
  return ok;
})();

describe.skipIf(!canMount)("a full disk", () => {
  it("stops the sweep with a FILE error naming the file; after space is freed, --resume completes it", async () => {
    expect(spawnSync("mount", ["-t", "tmpfs", "-o", "size=96k", "tmpfs", mnt]).status).toBe(0);
    let err: unknown;
    const p = sweepPaths(join(mnt, "full.jsonl"));
    const moved = sweepPaths(join(dir, "moved.jsonl"));
    try {
      await runSweep({ plan, out: p.rows, workers: 0, batch: 1 }).catch((e) => (err = e));
      expect(isPlurisimError(err, "FILE"), String(err)).toBe(true);
      expect((err as Error).message).toMatch(/no space left.*ENOSPC/);
      expect((err as Error).message).toMatch(/full(\.trajectories)?\.jsonl/);
      // Move the files to a disk with room: resume finishes them.
      copyFileSync(p.rows, moved.rows);
      copyFileSync(p.trajectories, moved.trajectories);
      copyFileSync(p.manifest, moved.manifest);
    } finally {
      spawnSync("umount", [mnt]);
    }
    const r = await runSweep({ plan, out: moved.rows, workers: 0, resume: true });
    expect(r.status).toBe("complete");
    // The disk filled part-way: some rows were kept, the rest ran again.
    expect(r.counts.ranNow).toBeGreaterThan(0);
    expect(r.counts.ranNow).toBeLessThan(30);
    expect(withoutTiming(moved.rows)).toBe(withoutTiming(ref.rows));
    expect(readFileSync(moved.trajectories, "utf8")).toBe(readFileSync(ref.trajectories, "utf8"));
  });
});
