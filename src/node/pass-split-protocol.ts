// The shared block between the engine's thread and a pass-split thread (pass-split.ts,
// pass-split-worker.ts): an Int32 control block, c and d, the partial sums of the thread's
// chunks, one array of its atoms (p or a weight row, as the command says) and its flags.
import { passChunks, STEP_MAX_GROUPS, STEP_PARTS, ZERO_BLOCK } from "../core/passes.js";

export const enum Command {
  /** Weight row ctrl[5] of ctrl[6] rows, from data. */
  LoadW = 1,
  LoadP = 3,
  /** A two-generation pass with c = cd[0, 2) and d = cd[2, 4). */
  Pass = 4,
  ReadP = 5,
  Stop = 6,
  /** A one-generation pass with c = cd[0, m) and lambda = cd[STEP_MAX_GROUPS]. */
  Step = 7,
  /** p_data on the thread's atoms, from data (flags with it when ctrl[3] is 1). */
  LoadData = 8,
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
  return { chunks, blocks, ctrl: take(4 * 8), error: take(8), cd: take(8 * (STEP_MAX_GROUPS + 1)), parts: take(8 * chunks * STEP_PARTS), data: take(8 * atoms), flags: take(blocks), bytes };
}

/** Bytes of the shared block of a thread with this many atoms. */
export function splitBytes(atoms: number): number {
  return layout(atoms).bytes;
}

/**
 * Views of the shared block. ctrl: [0] command sequence number, [1] command, [2] sequence
 * acknowledged, [3] 1 when flags travel with p or p_data (0: dense), [4] 1 once the thread is ready,
 * [5] and [6] the row and the row count of LoadW, [7] the groups of Step;
 * error[0] = 1 after a failed command. parts holds STEP_PARTS per chunk (a two-generation pass
 * uses the first PASS_PARTS * chunks).
 */
export function splitViews(buffer: SharedArrayBuffer, atoms: number) {
  const at = layout(atoms);
  return {
    ctrl: new Int32Array(buffer, at.ctrl, 8),
    error: new Int32Array(buffer, at.error, 2),
    cd: new Float64Array(buffer, at.cd, STEP_MAX_GROUPS + 1),
    parts: new Float64Array(buffer, at.parts, at.chunks * STEP_PARTS),
    data: new Float64Array(buffer, at.data, atoms),
    flags: new Uint8Array(buffer, at.flags, at.blocks),
  };
}
