// Runs of exact generations inside the module: the engine hands over every stretch of generations
// that records nothing (per-sample mixing, no early stop), so a generation costs one kernel call
// and none of the host's per-generation bookkeeping. Each generation is the same kernel call with
// the same arguments as the engine's own loop (src/core/engine.ts), so the bits are the same.

import { kinfStep, scale } from "./update";
import { finiteKStep } from "./finitek";

/**
 * Up to `steps` exact generations from p (pPtr, zero-block flags flagsP) with K candidates
 * (0: K = infinity, c_i = q_i / Z_i from Z at zPtr, which each step replaces by the next Z).
 * A generation is committed when its total mass is positive and finite and, at finite K, its mass
 * defect |1 - total| is at most maxDefect (the output then renormalised); the first one that is
 * not is left uncommitted (Z restored) for the caller to run again and report. At K = infinity
 * the run also ends after a committed generation with some Z_i not positive. Generations
 * alternate between the two buffers as the engine's loop does: after an odd count the state is
 * in outPtr (and flagsOut). statePtr holds [max mass defect, last mass defect], updated.
 * zSavePtr: m doubles of scratch. Returns the generations committed.
 */
export function exactSteps(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, m: i32,
  qPtr: usize, cPtr: usize, zPtr: usize, zSavePtr: usize, K: i32, lambda: f64, pDataPtr: usize,
  scratchPtr: usize, flagsP: usize, flagsOut: usize, dataFlags: usize,
  steps: i32, maxDefect: f64, statePtr: usize,
): i32 {
  let p = pPtr;
  let out = outPtr;
  let fp = flagsP;
  let fo = flagsOut;
  let maxD = load<f64>(statePtr);
  let lastD = load<f64>(statePtr, 8);
  const mBytes = <usize>m << 3;
  let done = 0;
  while (done < steps) {
    let total: f64;
    if (K == 0) {
      memory.copy(zSavePtr, zPtr, mBytes);
      for (let i = 0; i < m; i++) {
        const o = <usize>i << 3;
        store<f64>(cPtr + o, load<f64>(qPtr + o) / load<f64>(zPtr + o));
      }
      total = kinfStep(p, out, wPtr, n, m, cPtr, zPtr, lambda, pDataPtr, fp, fo, dataFlags);
    } else {
      total = finiteKStep(p, out, wPtr, n, m, qPtr, K, lambda, pDataPtr, scratchPtr, fp, fo, dataFlags);
    }
    const d = Math.abs(1 - total);
    if (!(total > 0) || !isFinite(total) || (K != 0 && d > maxDefect)) {
      if (K == 0) memory.copy(zPtr, zSavePtr, mBytes);
      break;
    }
    if (K != 0 && total != 1) scale(out, n, 1 / total);
    if (d > maxD) maxD = d;
    lastD = d;
    const tp = p;
    p = out;
    out = tp;
    const tf = fp;
    fp = fo;
    fo = tf;
    done++;
    if (K == 0) {
      let ok = true;
      for (let i = 0; i < m; i++) if (!(load<f64>(zPtr + (<usize>i << 3)) > 0)) ok = false;
      if (!ok) break;
    }
  }
  store<f64>(statePtr, maxD);
  store<f64>(statePtr, lastD, 8);
  return done;
}
