// Prints the README's performance table from bench/results.json (run after `npm run bench`).
import { readFileSync } from "node:fs";

const r = JSON.parse(readFileSync(new URL("../bench/results.json", import.meta.url), "utf8"));
const f = (v, d = 3) => (v === null || v === undefined ? "-" : Number(v.toPrecision(d)).toLocaleString("en-US"));
const x = (v) => (v === null || v === undefined ? "-" : `${f(v, 2)}x`);
const rows = [["what", "plurisim", "baseline", "ratio", "target"]];
const add = (...row) => rows.push(row);

const k = r.kernels?.cases ?? {};
for (const n of ["1000", "100000", "1000000", "10000000"]) {
  for (const m of ["2", "8"]) {
    const c = k[`kinf:n=${n},m=${m}`];
    if (!c) continue;
    const native = c.nativeMs ? `, C ${f(c.nativeMs)} ms` : "";
    add(`K = inf step, n = ${f(Number(n))}, m = ${m}`, `${f(c.wasmMs)} ms`, `NumPy ${f(c.numpyMs)} ms, TS ${f(c.tsMs)} ms${native}`, `${x(c.numpyOverWasm)} NumPy${c.wasmOverNative ? `, ${f(c.wasmOverNative, 2)}x C's time` : ""}`, "");
  }
}
const fk = k["finitek:n=3001,K=4,m=2"];
if (fk) {
  const chunked = fk.chunkedMs ? `, the chunked kernel ${f(fk.chunkedMs)} ms` : "";
  add("finite-K step, n = 3001, K = 4, uniform p", `${f(fk.wasmMs)} ms`, `NumPy trapezoid ${f(fk.numpyMs)} ms${chunked}`, `${x(fk.numpyOverWasm)} NumPy${fk.chunkedOverWasm ? `, ${x(fk.chunkedOverWasm)} the chunked kernel` : ""}`, "");
}

const t = r.throughput?.cases ?? {};
const z = t["table5:36 cells,n=3001,T=400,K=inf,one core"];
if (z) add("Table-5 cells, zero blocks skipped", `${f(z.zeroBlocksMs)} ms / 36 cells`, `dense ${f(z.denseMs)} ms, NumPy loop ${f(z.numpyLoopMs)} ms`, `${x(z.denseOverZeroBlocks)} dense, ${x(z.numpyOverPlurisim)} NumPy`, "bit-identical to dense");
const fg = t["finitek:n=3001,K=4,m=2,20 generations (engine)"];
if (fg) {
  const before = fg.chunkedMsPerGeneration ? `the chunked kernel it replaced ${f(fg.chunkedMsPerGeneration)} ms/generation, same process` : "the chunked kernel not built";
  add("finite-K run, n = 3001, K = 4, 20 generations (engine)", `${f(fg.msPerGeneration)} ms/generation`, before, fg.chunkedOverEngine ? `${x(fg.chunkedOverEngine)} faster` : "", ">= 10x");
}
const kc = t["finitek:k-phase cell,n=12,K=4,2000 generations (engine)"];
if (kc) add("one k-phase cell, 12 atoms, K = 4, 2,000 generations (engine)", `${f(kc.usPerGeneration)} us/generation`, kc.chunkedUsPerGeneration ? `the chunked kernel ${f(kc.chunkedUsPerGeneration)} us/generation, same process` : "the chunked kernel not built", kc.chunkedOverEngine ? `${x(kc.chunkedOverEngine)} faster` : "", "");
const oh = t["sweep cell overhead:n=3001"];
if (oh) add("sweep cell set-up (all but the generations)", `${f(Math.max(oh.overheadMs, 0), 2)} ms`, `a cell ${f(oh.cellT400Ms)} ms, the engine's run alone ${f(oh.runProblemT400Ms)} ms`, "", "<= 0.05 ms");
for (const m of [2, 8]) {
  const c = t[`kinf:n=1e6,m=${m},T=40,dense weights (engine)`];
  if (c) add(`n = 1e6, m = ${m}, 40 generations (engine)`, `${f(Math.min(c.onePerPassMs, c.twoPerPassMs ?? Infinity))} ms`, `NumPy step x 40 (one thread) ${f(c.numpyMs)} ms`, `${x(c.numpyOverPlurisim)} NumPy`, "");
}

const wr = r.wholeRun?.cases ?? {};
for (const m of [2, 8]) {
  const c = Object.entries(wr).find(([name]) => name.startsWith(`run:n=1e6,m=${m},`))?.[1];
  const T = Object.keys(wr).find((name) => name.startsWith(`run:n=1e6,m=${m},`))?.match(/T=(\d+)/)?.[1];
  if (c) {
    const threads = c.oneThreadMs !== undefined ? ` (default threads; --threads 1: ${f(c.oneThreadMs)} ms, ${x(c.numpyOverOneThread)})` : "";
    add(`\`plurisim run\`, n = 1e6, m = ${m}, ${f(Number(T))} generations, whole process`, `${f(c.plurisimMs)} ms`, `NumPy (default threads) ${f(c.numpyMs)} ms`, `${x(c.numpyOverPlurisim)} NumPy${threads}`, m === 2 ? ">= 3x" : ">= 1.5x");
  }
}
const kph = wr["sweep:k-phase preset,whole process"];
if (kph) add("`plurisim sweep k-phase`, whole process", `${f(kph.wallMs)} ms`, `${f(kph.cells)} cells x 2,000 generations`, `${f(kph.usPerGeneration)} us/generation`, "");
const pairRun = wr["cells:two processes at once"];
if (pairRun) add("one Table-5 cell, alone and with a second process running it", `${f(pairRun.aloneMs)} ms alone`, `${f(pairRun.togetherMs)} ms two at once`, `${f(pairRun.scalingCeiling * 100)}%: the most 1 -> 2 cores can give`, "");

const t5 = r.table5?.cases ?? {};
for (const [name, c] of Object.entries(t5)) {
  const w = /workers=(\d+)/.exec(name)?.[1];
  const cells = /cells=(\d+)/.exec(name)?.[1];
  add(`Table-5 sweep, ${f(Number(cells))} cells, ${w} worker${w === "1" ? "" : "s"}`, `${f(c.cellsPerSecond)} cells/s`, `NumPy loop ${f(c.numpyCellsPerSecond)} cells/s (one core)`, `${x(c.overNumpy)} NumPy`, w === "1" ? "" : ">= 2,800 cells/s, >= 8x");
}
const t5one = Object.entries(t5).find(([name]) => name.endsWith("workers=1"))?.[1];
const t5all = Object.entries(t5).find(([name]) => /workers=([2-9]|\d\d)$/.test(name));
if (t5one && t5all) {
  const w = Number(/workers=(\d+)/.exec(t5all[0])[1]);
  add(`Table-5 sweep, scaling 1 -> ${w} workers`, `${f((t5all[1].cellsPerSecond / (w * t5one.cellsPerSecond)) * 100)}% of linear`, "wall times include the pool's start-up", "", ">= 90%");
}

let web = null;
try {
  web = JSON.parse(readFileSync(new URL("../bench/web-sweep.json", import.meta.url), "utf8"));
} catch {
  web = null;
}
if (web) add(`the page, ${f(web.cells)}-cell sweep on ${web.workers} workers`, `${f(web.pageSweepMs / 1000)} s`, `CLI ${f(web.cliWallMs / 1000)} s (whole process)`, `${f(web.ratioSweepOverCli, 2)}x the CLI's time; frame gaps p95 ${f(web.frameGapP95Ms)} ms`, "<= 1.3x, p95 <= 100 ms");

const s = r.sweep?.cases ?? {};
const s1 = Object.entries(s).find(([n]) => /^sweep:n=.*workers=1$/.test(n))?.[1];
const sN = Object.entries(s).find(([n]) => /^sweep:n=.*workers=[2-9]$/.test(n))?.[1];
const sc = Object.entries(s).find(([n]) => n.includes("scaling"))?.[1];
if (s1 && sN && sc) {
  add("sweep, small cells, 1 worker", `${f(s1.cellsPerSecond)} cells/s`, `cold pool: ${f(s1.coldCellsPerSecond)} cells/s`, `${f(s1.overheadMsPerCell, 2)} ms overhead/cell`, "");
  add(`sweep, small cells, ${r.sweep.meta?.cores ?? 2} workers`, `${f(sN.cellsPerSecond)} cells/s`, `cold pool: ${f(sN.coldCellsPerSecond)} cells/s`, `${f(sc.efficiency * 100)}% of linear (cold ${f(sc.coldEfficiency * 100)}%)`, ">= 90%");
}
const cold = s["sweep:cold-start,cells=2,default"];
if (cold) add("cold `plurisim sweep`, two cells, whole process", `${f(cold.minMs)} ms`, `--workers 0 ${f(s["sweep:cold-start,cells=2,workers0"]?.minMs)} ms, --workers 2 ${f(s["sweep:cold-start,cells=2,workers2"]?.minMs)} ms`, "", "<= 500 ms");
const ready = s["sweep:worker-ready"];
if (ready) add("worker thread ready", `${f(ready.minMs)} ms`, "", "", "<= 150 ms");

for (const [name, c] of Object.entries(r.sampling?.cases ?? {})) {
  const K = /K=(\d+)/.exec(name)[1];
  add(`curation, K = ${K}`, `${f(c.candidatesPerSec / 1e6)} M draws/s`, `NumPy ${f(c.numpyCandidatesPerSec / 1e6)} M draws/s`, `${x(c.numpyOverWasm)} NumPy`, ">= 20 M/s, >= 3x");
}
for (const [name, c] of Object.entries(r.queue?.cases ?? {})) {
  if (name.startsWith("queue:")) add(`queue, ${/workers=\d+/.exec(name)[0].replace("=", " = ")}`, `${f(c.cellsPerSecond)} cells/s`, "local pool, same threads", `${f(c.vsLocalSameThreads, 2)}x local; +${f(c.queueOverheadMsPerCell, 2)} ms/cell`, "");
}
const fl = r.flow?.cases ?? {};
const gen = Object.entries(fl).find(([n]) => n.startsWith("flow-generation:K=inf") && n.includes("dim=1"))?.[1];
if (gen) add("flow model, one generation (N = 4096, 64x64, 500 steps)", `${f(gen.wasmCpuMs)} ms CPU`, "", `${f(gen.gflopsCpu)} GFLOP/s`, "<= 1,000 ms");
const train = Object.entries(fl).find(([n]) => n.startsWith("flow-train") && n.includes("dim=1"))?.[1];
if (train) add("flow model, training", `${f(train.wasmCpuMs)} ms CPU`, `NumPy ${f(train.numpyCpuMs)} ms CPU`, `${x(train.numpyOverWasmCpu)} NumPy`, ">= 5x");

console.log(rows.map((row, i) => `| ${row.join(" | ")} |${i === 0 ? `\n|${row.map(() => "---").join("|")}|` : ""}`).join("\n"));
