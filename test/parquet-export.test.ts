// Sweep rows and trajectories written as Parquet and read back by a real engine (DuckDB): every
// row and column, the right types, null where a failed cell has no metric, K = "inf" as infinity,
// trajectories in tidy long form.
import { DuckDBInstance } from "@duckdb/node-api";
import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toJson } from "../src/core/json.js";
import { exportSweepParquet, writeRowsParquet } from "../src/node/parquet.js";
import { runCli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "plurisim-parquet-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function query(sql: string): Promise<{ rows: Record<string, unknown>[]; types: Record<string, string> }> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    const r = await c.runAndReadAll(sql);
    const names = r.columnNames();
    const types = Object.fromEntries(names.map((n, i) => [n, String(r.columnTypes()[i])]));
    return { rows: r.getRowObjects() as Record<string, unknown>[], types };
  } finally {
    c.closeSync();
  }
}

/** Rows as a sweep writes them: q x K (with K = "inf"), replicate 0, cell 4 failed. */
function rows() {
  const out: (Record<string, unknown> & { cell: number; seed: number; status: string; params: Record<string, unknown>; final?: { generation: number; basinMass: number[]; nashGap: number; klToNash: number } })[] = [];
  let cell = 0;
  for (const q of [0.25, 0.5, 0.75]) {
    for (const K of [2, 4, "inf"]) {
      const failed = cell === 4;
      out.push({
        cell,
        replicate: 0,
        params: { "groups[0].weight": q, "curation.K": K, "groups[0].name": "a,b" },
        seed: 1000 + cell,
        status: failed ? "error" : "ok",
        ...(failed
          ? { error: "boom", errorCode: "NUMERIC", errorField: "rewards" }
          : { final: { generation: 50, basinMass: [q, 1 - q], nashGap: cell * 1e-3, klToNash: cell === 0 ? Infinity : 0.5 }, generationsRun: 50, stoppedEarly: false }),
        durationMs: 1.5,
      });
      cell++;
    }
  }
  return out;
}

describe("sweep rows as Parquet, read back by DuckDB", () => {
  const rowsPath = join(dir, "s.jsonl");
  const out = join(dir, "s.parquet");
  beforeAll(async () => {
    writeFileSync(rowsPath, rows().map((r) => toJson(r)).join("\n") + "\n");
    writeFileSync(
      join(dir, "s.trajectories.jsonl"),
      rows()
        .map((r) => toJson({ cell: r.cell, trajectory: r.status === "ok" ? [0, 10].map((g) => ({ generation: g, basinMass: [0.5, 0.5 + g / 100], entropy: 1 - g / 100 })) : null }))
        .join("\n") + "\n",
    );
    await exportSweepParquet(rowsPath, out);
  });

  it("has one row per cell and one column per parameter path and metric component, typed", async () => {
    const { rows: got, types } = await query(`select * from read_parquet('${out}') order by cell`);
    expect(got).toHaveLength(9);
    expect(types).toMatchObject({
      cell: "BIGINT",
      replicate: "BIGINT",
      seed: "BIGINT",
      status: "VARCHAR",
      "params.groups[0].weight": "DOUBLE",
      "params.curation.K": "DOUBLE",
      "params.groups[0].name": "VARCHAR",
      "final.basinMass[0]": "DOUBLE",
      "final.basinMass[1]": "DOUBLE",
      "final.nashGap": "DOUBLE",
      "final.klToNash": "DOUBLE",
      "final.generation": "BIGINT",
      stoppedEarly: "BOOLEAN",
      error: "VARCHAR",
    });
    const want = rows();
    got.forEach((r, i) => {
      const w = want[i];
      expect(r.cell).toBe(BigInt(w.cell));
      expect(r.seed).toBe(BigInt(w.seed));
      expect(r.status).toBe(w.status);
      expect(r["params.groups[0].weight"]).toBe(w.params["groups[0].weight"]);
      expect(r["params.curation.K"]).toBe(w.params["curation.K"] === "inf" ? Infinity : w.params["curation.K"]);
      expect(r["params.groups[0].name"]).toBe("a,b");
      if (w.status === "ok") {
        expect(r["final.basinMass[0]"]).toBe(w.final!.basinMass[0]);
        expect(r["final.basinMass[1]"]).toBe(w.final!.basinMass[1]);
        expect(r["final.nashGap"]).toBe(w.final!.nashGap);
        expect(r["final.klToNash"]).toBe(w.final!.klToNash);
        expect(r.error).toBeNull();
      } else {
        // A failed cell: every metric column null, its message kept.
        for (const k of ["final.basinMass[0]", "final.basinMass[1]", "final.nashGap", "final.klToNash", "final.generation", "generationsRun"]) expect(r[k], k).toBeNull();
        expect(r.error).toBe("boom");
        expect(r.errorCode).toBe("NUMERIC");
      }
    });
  });

  it("answers a query over parameters and metrics", async () => {
    const { rows: got } = await query(`select "params.curation.K" as K, avg("final.basinMass[0]") as a from read_parquet('${out}') where status = 'ok' group by K order by K`);
    expect(got.map((r) => r.K)).toEqual([2, 4, Infinity]);
    expect(got[1].a).toBeCloseTo((0.25 + 0.75) / 2, 15);
  });

  it("writes trajectories in tidy long form: cell, generation, metric, index, value", async () => {
    const { rows: got, types } = await query(`select * from read_parquet('${join(dir, "s.trajectories.parquet")}') order by cell, generation, metric, index`);
    expect(types).toEqual({ cell: "BIGINT", generation: "BIGINT", metric: "VARCHAR", index: "INTEGER", value: "DOUBLE" });
    // 8 ok cells x 2 generations x (2 basin masses + entropy).
    expect(got).toHaveLength(8 * 2 * 3);
    const c1 = got.filter((r) => r.cell === 1n && r.generation === 10n);
    expect(c1).toEqual([
      { cell: 1n, generation: 10n, metric: "basinMass", index: 0, value: 0.5 },
      { cell: 1n, generation: 10n, metric: "basinMass", index: 1, value: 0.6 },
      { cell: 1n, generation: 10n, metric: "entropy", index: null, value: 0.9 },
    ]);
  });

  it("refuses an --out that is not .parquet and a damaged rows file, leaving nothing behind", async () => {
    await expect(writeRowsParquet(rowsPath, join(dir, "x.csv"))).rejects.toMatchObject({ field: "--out" });
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"cell":0,"params":{},"status":"ok"}\n{"cell":1,\n');
    const before = readdirSync(dir).length;
    await expect(writeRowsParquet(bad, join(dir, "bad.parquet"))).rejects.toThrow(/bad\.jsonl: line 2 is not valid JSON/);
    expect(existsSync(join(dir, "bad.parquet"))).toBe(false);
    expect(readdirSync(dir).length).toBe(before);
  });
});

describe("the CLI: sweep --out x.parquet and export", () => {
  const cli = (...args: string[]) => runCli(args);
  const sweepFile = join(dir, "tiny.json");
  // 3 x 2 cells, temperature 1e-4 makes every weight but one underflow: two error rows.
  writeFileSync(
    sweepFile,
    JSON.stringify({
      base: {
        space: { kind: "grid1d", min: -4, max: 4, cells: 81 },
        initial: { kind: "uniform" },
        groups: [
          { name: "left", weight: 0.5, reward: { kind: "quadratic", center: -1, scale: 1 } },
          { name: "right", weight: 0.5, reward: { kind: "quadratic", center: 1, scale: 1 } },
        ],
        curation: { K: "inf", temperature: 1, mixing: "per-generation" },
        generations: 10,
        record: { every: 5 },
      },
      axes: { "groups[0].weight": [0.2, 0.5, 0.8], "curation.temperature": [1, 1e-4] },
      derived: { "groups[1].weight": "1 - groups[0].weight" },
      seed: 3,
      keep: { final: true, trajectory: true },
    }),
  );

  it("writes the JSONL journal, then rows.parquet and trajectories.parquet from it", async () => {
    const out = join(dir, "cli.parquet");
    const r = cli("sweep", sweepFile, "--out", out, "--workers", "0", "--no-progress", "--no-summary");
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, "cli.jsonl"))).toBe(true);
    const { rows: got } = await query(`select cell, status, "params.curation.temperature" as tau, "final.basinMass[0]" as a from read_parquet('${out}') order by cell`);
    expect(got).toHaveLength(6);
    const errors = got.filter((g) => g.status === "error");
    expect(errors.length).toBeGreaterThan(0);
    for (const g of errors) expect([g.tau, g.a]).toEqual([1e-4, null]);
    for (const g of got.filter((g) => g.status === "ok")) expect(typeof g.a).toBe("number");
    const { rows: traj } = await query(`select count(distinct cell) as cells, count(distinct generation) as gens from read_parquet('${join(dir, "cli.trajectories.parquet")}')`);
    expect(traj[0].gens).toBe(3n);
    // A second export from the journal gives the same table.
    const again = cli("export", join(dir, "cli.jsonl"), "--out", join(dir, "again.parquet"));
    expect(again.code, again.stderr).toBe(0);
    const { rows: diff } = await query(`select count(*) as n from (select * from read_parquet('${out}') except select * from read_parquet('${join(dir, "again.parquet")}'))`);
    expect(diff[0].n).toBe(0n);
  });

  it("shards merge into Parquet: merge --out x.parquet", async () => {
    for (const i of [0, 1]) {
      const r = cli("sweep", sweepFile, "--shard", `${i}/2`, "--out", join(dir, `shard${i}.jsonl`), "--workers", "0", "--no-progress", "--no-summary");
      expect(r.code, r.stderr).toBe(0);
    }
    const m = cli("merge", join(dir, "shard0.jsonl"), join(dir, "shard1.jsonl"), "--out", join(dir, "merged.parquet"));
    expect(m.code, m.stderr).toBe(0);
    // The merged shards hold exactly the rows of the one-shard sweep (timings aside).
    const { rows: same } = await query(`select count(*) as n from (select * exclude (durationMs) from read_parquet('${join(dir, "merged.parquet")}') except select * exclude (durationMs) from read_parquet('${join(dir, "cli.parquet")}'))`);
    expect(same[0].n).toBe(0n);
    const { rows: n } = await query(`select count(*) as n from read_parquet('${join(dir, "merged.parquet")}')`);
    expect(n[0].n).toBe(6n);
  });

  it("export refuses a missing rows file and a non-.parquet --out with exit 2", () => {
    const a = cli("export", join(dir, "nope.jsonl"), "--out", join(dir, "n.parquet"));
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/nope\.jsonl/);
    const b = cli("export", join(dir, "cli.jsonl"), "--out", join(dir, "n.csv"));
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--out must end in \.parquet/);
    expect(existsSync(join(dir, "n.parquet")) || existsSync(join(dir, "n.csv"))).toBe(false);
  });
});
