// Queue throughput: cells per second of small cells (n = 3001, T = 400,
// K = infinity, one cell per job) through Redis with 1 and 2 `plurisim worker` processes (one
// thread each), against the local pool with the same number of threads, measured in the same run;
// and the overhead per cell of the queue path (wall time per cell per thread beyond the engine's
// own time, minus the same figure for the local pool). Workers are started and ready before the
// clock starts; the clock stops when the submitter has written every row. Skips without Redis.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadWasmSource } from "../src/node/index.js";
import { probe } from "../src/node/queue/connection.js";
import { parseQueueUrl } from "../src/node/queue/target.js";
import { clearQueue, submitSweep } from "../src/node/queue/submit.js";
import { planHash, readRows, runSweep } from "../src/node/sweep-run.js";
import { root, smallCellsSweep } from "../src/bench/common.js";

export interface QueueSuiteOutput {
  cases: Record<string, Record<string, number | string | null>>;
  notes: string[];
  meta: Record<string, unknown>;
}

const URL_ = process.env.PLURISIM_BENCH_REDIS ?? "redis://127.0.0.1:6379/0";


/** Starts a worker process and resolves once it has logged that it is connected. */
function startWorker(queue: string, prefix: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["bin/plurisim.js", "worker", "--queue", URL_, "--queue-name", queue, "--queue-prefix", prefix, "--workers", "1"], {
      cwd: root,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    p.stderr!.on("data", (d) => {
      err += d;
      if (err.includes("threads")) resolve(p);
    });
    p.on("exit", (code) => reject(new Error(`worker exited (${code}): ${err}`)));
  });
}

/** The queue suite: see the header comment. */
export async function queueSuite(): Promise<QueueSuiteOutput> {
  const cases: QueueSuiteOutput["cases"] = {};
  const notes: string[] = [];
  const target = parseQueueUrl(URL_);
  try {
    await probe(target);
  } catch (e) {
    notes.push(`queue: skipped, no Redis at ${URL_} (${(e as Error).message}); apt-get install -y redis-server && redis-server --port 6379 --bind 127.0.0.1 --daemonize yes`);
    return { cases, notes, meta: {} };
  }
  const cells = 192;
  const plan = smallCellsSweep("bench-queue", cells);
  const hash = await planHash(plan);
  const wasm = await loadWasmSource();
  const dir = mkdtempSync(join(tmpdir(), "plurisim-bench-queue-"));
  const prefix = `plurisim-bench-${process.pid}`;
  const overhead: Record<string, number> = {};
  const rates: Record<string, number> = {};
  try {
    for (const threads of [1, 2]) {
      await runSweep({ plan, out: join(dir, "warm.jsonl"), workers: threads, batch: 1, overwrite: true });
      const t = performance.now();
      await runSweep({ plan, out: join(dir, `local-${threads}.jsonl`), workers: threads, batch: 1, overwrite: true });
      const ms = performance.now() - t;
      const rows = await readRows(join(dir, `local-${threads}.jsonl`));
      if (rows.some((x) => x.status !== "ok" || !(x.final?.basinMass?.[0]! > 0))) throw new Error("bench: a bad local row");
      const cellMs = rows.reduce((s, x) => s + x.durationMs, 0) / rows.length;
      rates[`local${threads}`] = cells / (ms / 1000);
      overhead[`local${threads}`] = (ms * threads) / cells - cellMs;
      cases[`local:n=3001,T=400,K=inf,threads=${threads}`] = { cells, wallMs: ms, cellsPerSecond: rates[`local${threads}`], cellComputeMs: cellMs, overheadMsPerCell: overhead[`local${threads}`] };
    }
    for (const workers of [1, 2]) {
      const names = { prefix, queue: `bench-${workers}` };
      await clearQueue(target, names);
      const procs = await Promise.all(Array.from({ length: workers }, () => startWorker(names.queue, names.prefix)));
      try {
        const t = performance.now();
        const sub = await submitSweep({ target, names, plan, planSha256: hash, wasmSha256: wasm.wasmSha256, batch: 1 });
        try {
          const r = await runSweep({ plan, out: join(dir, `queue-${workers}.jsonl`), pool: sub.pool, workers: sub.pool.workers, batch: 1, overwrite: true });
          if (r.status !== "complete") throw new Error(`bench: queue sweep ${r.status}`);
        } finally {
          await sub.close();
        }
        const ms = performance.now() - t;
        const rows = await readRows(join(dir, `queue-${workers}.jsonl`));
        if (rows.length !== cells || rows.some((x) => x.status !== "ok" || !(x.final?.basinMass?.[0]! > 0))) throw new Error("bench: a bad queue row");
        const cellMs = rows.reduce((s, x) => s + x.durationMs, 0) / rows.length;
        const perCell = (ms * workers) / cells - cellMs;
        cases[`queue:n=3001,T=400,K=inf,workers=${workers}`] = {
          cells,
          wallMs: ms,
          cellsPerSecond: cells / (ms / 1000),
          vsLocalSameThreads: cells / (ms / 1000) / rates[`local${workers}`],
          cellComputeMs: cellMs,
          overheadMsPerCell: perCell,
          // What the queue adds per cell (one cell per job) over the local pool's own overhead.
          queueOverheadMsPerCell: perCell - overhead[`local${workers}`],
        };
      } finally {
        for (const p of procs) p.kill("SIGTERM");
        await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.on("exit", r)))));
        await clearQueue(target, names);
      }
    }
    notes.push("queue: one cell per job (the worst case for overhead); worker processes start before the clock and have one Piscina thread each; Redis on loopback");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { cases, notes, meta: { redis: URL_, node: process.version } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await queueSuite();
  console.log(JSON.stringify(out, null, 2));
}
