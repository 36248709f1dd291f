// A thread that runs a contiguous run of chunks of the two-generation passes of one run
// (src/core/passes.ts): it keeps its atoms' p, w_0, w_1 and zero-block flags in its own Wasm
// instance and answers the commands of src/node/pass-split.ts, one at a time, through a shared
// control block (Atomics), so the engine's thread can wait for a pass synchronously.
import { workerData } from "node:worker_threads";
import { instantiateKernels } from "../core/kernels.js";
import { PASS_PARTS, passChunks } from "../core/passes.js";
import { Command, splitViews, type SplitWorkerData } from "./pass-split-protocol.js";

const { module, buffer, atoms } = workerData as SplitWorkerData;
const views = splitViews(buffer, atoms);
const kernels = await instantiateKernels(module);
const raw = kernels.raw;
const blocks = views.flags.length;
const chunks = passChunks(atoms);
const p = kernels.allocF64(atoms);
const w = kernels.allocF64(2 * atoms);
const flags = kernels.allocU8(blocks);
const cd = kernels.allocF64(4);
const parts = kernels.allocF64(chunks * PASS_PARTS);
let dense = true;

function execute(command: number): void {
  switch (command) {
    case Command.LoadW0:
      kernels.write(w, views.data);
      break;
    case Command.LoadW1:
      kernels.write(w + 8 * atoms, views.data);
      break;
    case Command.LoadP:
      kernels.write(p, views.data);
      dense = views.ctrl[3] !== 1;
      if (!dense) kernels.writeU8(flags, views.flags);
      break;
    case Command.Pass:
      kernels.write(cd, views.cd);
      raw.kinfStep2x2(p, w, w + 8 * atoms, atoms, cd, cd + 16, parts, dense ? 0 : flags);
      views.parts.set(kernels.f64(parts, chunks * PASS_PARTS));
      break;
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
