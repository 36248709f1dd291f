// Prints the README's performance table from bench/results.json (run after `npm run bench`).
import { readFileSync } from "node:fs";

const r = JSON.parse(readFileSync(new URL("../bench/results.json", import.meta.url), "utf8"));
const f = (v, d = 3) => (v === null || v === undefined ? "-" : Number(v.toPrecision(d)).toLocaleString("en-US"));
const rows = [["what", "plurisim", "baseline", "ratio", "target"]];
const k = r.kernels?.cases ?? {};
for (const n of ["1000", "100000", "1000000", "10000000"]) {
  for (const m of ["2", "8"]) {
    const c = k[`kinf:n=${n},m=${m}`];
    if (c) rows.push([`K = inf step, n = ${f(Number(n))}, m = ${m}`, `${f(c.wasmMs)} ms`, `NumPy ${f(c.numpyMs)} ms, TS ${f(c.tsMs)} ms`, `${f(c.numpyOverWasm, 2)}x NumPy, ${f(c.tsOverWasm, 2)}x TS`, n === "1000000" && m === "2" ? ">= 3x NumPy" : ""]);
  }
}
const fk = k["finitek:n=3001,K=4,m=2"];
if (fk) rows.push(["finite-K step, n = 3001, K = 4", `${f(fk.wasmMs)} ms`, `NumPy trapezoid ${f(fk.numpyMs)} ms`, `${f(fk.numpyOverWasm, 2)}x NumPy, ${f(fk.tsOverWasm, 2)}x TS`, ">= 4x NumPy"]);
for (const [name, c] of Object.entries(r.sampling?.cases ?? {})) {
  const K = /K=(\d+)/.exec(name)[1];
  rows.push([`curation, K = ${K}`, `${f(c.candidatesPerSec / 1e6)} M draws/s (${f(c.curatedPerSec / 1e6)} M samples/s)`, `NumPy ${f(c.numpyCandidatesPerSec / 1e6)} M draws/s`, `${f(c.numpyOverWasm, 2)}x NumPy`, ">= 20 M/s, >= 3x"]);
}
const s = r.sweep?.cases ?? {};
const s1 = Object.entries(s).find(([n]) => n.endsWith("workers=1"))?.[1];
const sN = Object.entries(s).find(([n]) => /workers=[2-9]/.test(n) && !n.includes("scaling"))?.[1];
const sc = Object.entries(s).find(([n]) => n.includes("scaling"))?.[1];
if (s1 && sN && sc) {
  rows.push(["sweep, small cells, 1 worker", `${f(s1.cellsPerSecond)} cells/s`, `cold pool: ${f(s1.coldCellsPerSecond)} cells/s`, `${f(s1.overheadMsPerCell, 2)} ms overhead/cell`, ""]);
  rows.push([`sweep, small cells, ${r.sweep.meta.cores} workers`, `${f(sN.cellsPerSecond)} cells/s`, `cold pool: ${f(sN.coldCellsPerSecond)} cells/s`, `${f(sc.efficiency * 100)}% of linear (cold ${f(sc.coldEfficiency * 100)}%)`, ">= 90%"]);
}
const t5 = s["table5:whole-process"];
if (t5) rows.push(["table5 sweep, whole process", `${f(t5.plurisimMs)} ms (pool), ${f(t5.plurisimMainThreadMs)} ms (--workers 0)`, `python3 + NumPy ${f(t5.numpyMs)} ms`, `${f(t5.numpyOverPlurisim, 2)}x, ${f(t5.numpyOverPlurisimMainThread, 2)}x`, "10x"]);
for (const [name, c] of Object.entries(r.queue?.cases ?? {})) {
  if (name.startsWith("queue:")) rows.push([`queue, ${/workers=\d+/.exec(name)[0].replace("=", " = ")}`, `${f(c.cellsPerSecond)} cells/s`, "local pool, same threads", `${f(c.vsLocalSameThreads, 2)}x local; +${f(c.queueOverheadMsPerCell, 2)} ms/cell`, ""]);
}
console.log(rows.map((row, i) => `| ${row.join(" | ")} |${i === 0 ? `\n|${row.map(() => "---").join("|")}|` : ""}`).join("\n"));
