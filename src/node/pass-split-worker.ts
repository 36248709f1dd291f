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
// The weight rows come last, so a run with more groups than the last one can grow them.
const rowsAt = kernels.mark();
let w = 0;
let rows = 0;
let dense = true;

function execute(command: number): void {
  const { ctrl } = views;
  switch (command) {
    case Command.LoadW: {
      const row = ctrl[5];
      if (row === 0 && ctrl[6] !== rows) {
        kernels.release(rowsAt);
        rows = ctrl[6];
        w = kernels.allocF64(rows * atoms);
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
    case Command.Step: {
      kernels.write(cd, views.cd);
      const total = raw.kinfStepRange(p, p, w, atoms, atoms, rows, cd, z, parts, dense ? 0 : flags, dense ? 0 : flags);
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
// Ready: the first acknowledgement.
Atomics.store(ctrl, 2, 0);
Atomics.store(ctrl, 4, 1);
Atomics.notify(ctrl, 4);
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
