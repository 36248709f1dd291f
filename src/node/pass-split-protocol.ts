// The shared block between the engine's thread and a pass-split thread (pass-split.ts,
// pass-split-worker.ts): an Int32 control block, c and d, the partial sums of the thread's
// chunks, one array of its atoms (p or a weight row, as the command says) and its flags.
import { PASS_PARTS, passChunks, ZERO_BLOCK } from "../core/passes.js";

export const enum Command {
  LoadW0 = 1,
  LoadW1 = 2,
  LoadP = 3,
  Pass = 4,
  ReadP = 5,
  Stop = 6,
}

/** What a pass-split thread starts with. */
export interface SplitWorkerData {
  module: WebAssembly.Module;
  buffer: SharedArrayBuffer;
  /** Atoms of its run of chunks. */
  atoms: number;
}

/** Byte offsets of the shared block's parts for a thread with this many atoms, and its size. */
function layout(atoms: number) {
  const chunks = passChunks(atoms);
  const blocks = Math.ceil(atoms / ZERO_BLOCK);
  let bytes = 0;
  const take = (n: number) => {
    const at = bytes;
    bytes += Math.ceil(n / 8) * 8;
    return at;
  };
  return { chunks, blocks, ctrl: take(4 * 8), error: take(8), cd: take(8 * 4), parts: take(8 * chunks * PASS_PARTS), data: take(8 * atoms), flags: take(blocks), bytes };
}

/** Bytes of the shared block of a thread with this many atoms. */
export function splitBytes(atoms: number): number {
  return layout(atoms).bytes;
}

/**
 * Views of the shared block. ctrl: [0] command sequence number, [1] command, [2] sequence
 * acknowledged, [3] 1 when flags travel with p (0: dense), [4] 1 once the thread is ready;
 * error[0] = 1 after a failed command.
 */
export function splitViews(buffer: SharedArrayBuffer, atoms: number) {
  const at = layout(atoms);
  return {
    ctrl: new Int32Array(buffer, at.ctrl, 8),
    error: new Int32Array(buffer, at.error, 2),
    cd: new Float64Array(buffer, at.cd, 4),
    parts: new Float64Array(buffer, at.parts, at.chunks * PASS_PARTS),
    data: new Float64Array(buffer, at.data, atoms),
    flags: new Uint8Array(buffer, at.flags, at.blocks),
  };
}
