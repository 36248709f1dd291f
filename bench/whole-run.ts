// A whole `plurisim run` on a large grid against a whole NumPy process doing the same run
// (src/bench/baselines/numpy_run.py, NumPy's default threads; plurisim with its default threads,
// and also on one thread): n = 1e6 atoms, K = infinity,
// 1000 generations, m = 2 and m = 8 groups with flat quadratic rewards (no weight underflows,
// so no block is skipped). Both sides include starting up, building the weights and the final
// answer; plurisim also writes its result file. Median of interleaved runs; the final Z of both
// is compared, so the two did the same computation. Also the k-phase sweep preset, whole process,
// and one Table-5 cell loop alone and as two processes at once (bench/cell-loop.ts): the most
// that running cells on both cores can give on this machine, with no sweep machinery at all.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { baselinesDir, root } from "../src/bench/common.js";
import type { SuiteResult } from "../src/bench/runner.js";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function wall(cmd: string, args: string[], env?: NodeJS.ProcessEnv): { ms: number; stdout: string } {
  const t = performance.now();
  const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8", env: env ?? process.env, maxBuffer: 1 << 26 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: exit ${r.status}: ${(r.stderr ?? "").slice(0, 300)}`);
  return { ms, stdout: r.stdout };
}

export async function wholeRunSuite(opts: { quick?: boolean } = {}): Promise<SuiteResult> {
  const cases: SuiteResult["cases"] = {};
  const notes: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), "plurisim-whole-run-"));
  const n = 1_000_000;
  const T = opts.quick ? 100 : 1000;
  const runs = opts.quick ? 1 : 3;
  const scale = 0.02;
  // NumPy's own defaults (its BLAS threads), without the two variables that slow a current NumPy.
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  try {
    for (const m of [2, 8]) {
      const centres = m === 2 ? [-1, 1] : Array.from({ length: m }, (_, i) => -3 + (6 * i) / (m - 1));
      const scenario = {
        space: { kind: "grid1d", min: -12, max: 12, cells: n },
        groups: centres.map((c) => ({ weight: 1 / m, reward: { kind: "quadratic", center: c, scale } })),
        curation: { K: "inf", temperature: 1 },
        generations: T,
        record: { every: T },
      };
      const file = join(dir, `m${m}.json`);
      const out = join(dir, `m${m}-result.json`);
      writeFileSync(file, JSON.stringify(scenario));
      const ours: number[] = [];
      const oneThread: number[] = [];
      const theirs: number[] = [];
      let numpyZ: number[] = [];
      for (let k = 0; k < runs; k++) {
        ours.push(wall(process.execPath, [`${root}bin/plurisim.js`, "run", file, "--out", out]).ms);
        oneThread.push(wall(process.execPath, [`${root}bin/plurisim.js`, "run", file, "--threads", "1", "--out", out]).ms);
        const np = wall("python3", [`${baselinesDir}numpy_run.py`, String(n), String(m), String(T), String(scale)], env);
        theirs.push(np.ms);
        numpyZ = JSON.parse(np.stdout).z as number[];
      }
      const result = JSON.parse(readFileSync(out, "utf8")) as { final: { logPartition: number[] } };
      const maxRelZ = Math.max(...result.final.logPartition.map((l, i) => Math.abs(Math.exp(l) - numpyZ[i]) / numpyZ[i]));
      const plurisimMs = median(ours);
      const numpyMs = median(theirs);
      cases[`run:n=1e6,m=${m},T=${T},K=inf,whole process`] = {
        plurisimMs,
        numpyMs,
        numpyOverPlurisim: numpyMs / plurisimMs,
        maxRelZ,
        target: m === 2 ? 3 : 1.5,
        oneThreadMs: median(oneThread),
        numpyOverOneThread: numpyMs / median(oneThread),
      };
      const one = `; --threads 1 ${median(oneThread).toFixed(0)} ms, ratio ${(numpyMs / median(oneThread)).toFixed(2)}`;
      console.log(`whole run m=${m}: plurisim ${plurisimMs.toFixed(0)} ms, NumPy ${numpyMs.toFixed(0)} ms, ratio ${(numpyMs / plurisimMs).toFixed(2)}${one}, Z agree to ${maxRelZ.toExponential(1)}`);
    }
    // The k-phase preset (81 cells of 12 atoms, 2000 exact finite-K or K = infinity generations each).
    const kp: number[] = [];
    for (let k = 0; k < runs; k++) {
      const out = join(dir, `k-phase-${k}.jsonl`);
      kp.push(wall(process.execPath, [`${root}bin/plurisim.js`, "sweep", "k-phase", "--out", out]).ms);
    }
    const rows = readFileSync(join(dir, "k-phase-0.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { status: string; durationMs: number });
    const cellMs = rows.reduce((a, r) => a + r.durationMs, 0);
    cases["sweep:k-phase preset,whole process"] = { wallMs: median(kp), cells: rows.length, failed: rows.filter((r) => r.status !== "ok").length, cellComputeMs: cellMs, usPerGeneration: (cellMs * 1000) / (rows.length * 2000) };
    console.log(`k-phase preset: ${median(kp).toFixed(0)} ms whole process, ${((cellMs * 1000) / (rows.length * 2000)).toFixed(2)} us per generation`);
    // The ceiling of scaling small cells: the same cell loop alone, then two copies at once.
    const loop = `${root}dist/bench/cell-loop.js`;
    const alone = JSON.parse(wall(process.execPath, [loop]).stdout).medianMs as number;
    const pair = await Promise.all([0, 1].map(() => new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [loop], { stdio: ["ignore", "pipe", "inherit"] });
      let text = "";
      child.stdout.on("data", (b: Buffer) => (text += b.toString()));
      child.on("close", (code) => (code === 0 ? resolve(JSON.parse(text).medianMs as number) : reject(new Error(`cell loop exit ${code}`))));
    })));
    const together = (pair[0] + pair[1]) / 2;
    cases["cells:two processes at once"] = { aloneMs: alone, togetherMs: together, slowdown: together / alone, scalingCeiling: alone / together };
    console.log(`one Table-5 cell: ${alone.toFixed(3)} ms alone, ${together.toFixed(3)} ms with a second process running the same loop (ceiling of 1 -> 2 scaling ${((alone / together) * 100).toFixed(0)}%)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  notes.push(`whole run: median of ${runs} interleaved whole-process runs each; NumPy with its default BLAS threads (src/bench/baselines/numpy_run.py), plurisim \`run\` without options (its default threads: the available cores) and with --threads 1`);
  return { cases, notes };
}
