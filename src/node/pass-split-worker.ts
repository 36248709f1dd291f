// A thread that runs a contiguous run of chunks of the memory passes of one run
// (src/core/passes.ts): it keeps its atoms' p, weight rows and zero-block flags in its own Wasm
// instance and answers the commands of src/node/pass-split.ts, one at a time, through a shared
// control block (Atomics), so the engine's thread can wait for a pass synchronously.
// Both kinds of pass rewrite p (and its flags) in place.
import { workerData } from "node:worker_threads";
import { instantiateKernels } from "../core/kernels.js";
import { PASS_PARTS, passChunks, STEP_PARTS } from "../core/passes.js";
import { Command, splitViews, type SplitWorkerData } from "./pass-split-protocol.js";

const { module, buffer, atoms } = workerData as SplitWorkerData;
const views = splitViews(buffer, atoms);
const kernels = await instantiateKernels(module);
const raw = kernels.raw;
const blocks = views.flags.length;
const chunks = passChunks(atoms);
const p = kernels.allocF64(atoms);
const flags = kernels.allocU8(blocks);
const cd = kernels.allocF64(views.cd.length);
const z = kernels.allocF64(views.cd.length);
const parts = kernels.allocF64(chunks * STEP_PARTS);

/**
 * The kernels a large run calls only once or twice on the engine's thread (the weights, the basin
 * masks, the metrics of the recorded generations, the sums that start the passes). V8 runs a Wasm
 * function in its baseline tier until the function has done enough work, and a call that has
 * started there ends there, so each of those calls would run whole at baseline speed: 2 to 4
 * times slower at 10^6 atoms (groupStats 19 ms against 5.5). Compiled code is shared by the
 * process's threads, so this thread, idle while the engine's thread compiles the scenario, runs
 * each of them on a small grid of its own until V8 has optimized them for every thread.
 */
function warmUp(): void {
  const mark = kernels.mark();
  try {
    const n = 1 << 15;
    const m = 2;
    const r = kernels.allocF64(n * m);
    const w = kernels.allocF64(n * m);
    const q = kernels.allocF64(n);
    const small = kernels.allocF64(16);
    const mask = kernels.allocU8(n);
    const outside = kernels.allocU8(n);
    const flagsW = kernels.allocU8(raw.zeroBlockCount(n));
    kernels.write(r, new Float64Array(n * m).map((_, i) => -(((i % n) / n - (i < n ? 0.3 : 0.7)) ** 2)));
    kernels.write(q, new Float64Array(n).fill(1 / n));
    kernels.write(small, new Float64Array(16).fill(0.5));
    for (let round = 0; round < 2; round++) {
      raw.computeWeights(r, w, n, m, 1, small);
      raw.markBasin(r, n, -0.01, mask, outside);
      raw.markBlocks(q, n, flagsW);
      raw.zValues(q, w, n, m, small);
      raw.groupStats(q, r, w, n, m, small, flagsW);
      raw.entropy(q, n, flagsW);
      raw.klDivergence(q, q, n, flagsW);
      raw.maskedSum(q, mask, n, flagsW);
      raw.maskedMultiplierMax(w, n, m, small, mask);
      raw.l1Distance(q, q, n, flagsW, flagsW);
      raw.secondMoments2(q, w, w + 8 * n, n, flagsW, small);
    }
  } finally {
    kernels.release(mark);
  }
}

// The weight rows come last, so a run with more groups than the last one can grow them, and
// p_data (with its flags) after them, laid out again when the rows are.
const rowsAt = kernels.mark();
let w = 0;
let rows = 0;
let dense = true;
let pData = 0;
let dataFlags = 0;
let dataDense = true;

function execute(command: number): void {
  const { ctrl } = views;
  switch (command) {
    case Command.LoadW: {
      const row = ctrl[5];
      if (row === 0 && ctrl[6] !== rows) {
        kernels.release(rowsAt);
        rows = ctrl[6];
        w = kernels.allocF64(rows * atoms);
        pData = 0;
      }
      kernels.write(w + 8 * row * atoms, views.data);
      break;
    }
    case Command.LoadP:
      kernels.write(p, views.data);
      dense = ctrl[3] !== 1;
      if (!dense) kernels.writeU8(flags, views.flags);
      break;
    case Command.Pass:
      kernels.write(cd, views.cd);
      raw.kinfStep2x2(p, w, w + 8 * atoms, atoms, cd, cd + 16, parts, dense ? 0 : flags);
      views.parts.set(kernels.f64(parts, chunks * PASS_PARTS));
      break;
    case Command.LoadData:
      if (pData === 0) {
        pData = kernels.allocF64(atoms);
        dataFlags = kernels.allocU8(blocks);
      }
      kernels.write(pData, views.data);
      dataDense = ctrl[3] !== 1;
      if (!dataDense) kernels.writeU8(dataFlags, views.flags);
      break;
    case Command.Step: {
      kernels.write(cd, views.cd);
      const lambda = views.cd[views.cd.length - 1];
      if (lambda !== 0 && pData === 0) throw new Error("a one-generation pass with real data before p_data arrived");
      const total = raw.kinfStepRange(p, p, w, atoms, atoms, rows, cd, z, parts, lambda, pData, dense ? 0 : flags, dense ? 0 : flags, lambda === 0 || dataDense ? 0 : dataFlags);
      if (Number.isNaN(total)) throw new Error(`a one-generation pass cannot take ${rows} groups`);
      views.parts.set(kernels.f64(parts, chunks * STEP_PARTS));
      break;
    }
    case Command.ReadP:
      views.data.set(kernels.f64(p, atoms));
      if (!dense) views.flags.set(kernels.u8(flags, blocks));
      break;
  }
}

const { ctrl } = views;
let seen = 0;
// Ready: the first acknowledgement. The warm-up follows: the first command waits for it at most.
Atomics.store(ctrl, 2, 0);
Atomics.store(ctrl, 4, 1);
Atomics.notify(ctrl, 4);
try {
  warmUp();
} catch {
  // Only a speed-up: the kernels run (at baseline speed at first) without it.
}
for (;;) {
  Atomics.wait(ctrl, 0, seen);
  seen = Atomics.load(ctrl, 0);
  const command = ctrl[1];
  if (command === Command.Stop) break;
  try {
    execute(command);
  } catch (err) {
    views.error[0] = 1;
    console.error(err);
  }
  Atomics.store(ctrl, 2, seen);
  Atomics.notify(ctrl, 2);
}
