// The native-C reference for the K = infinity step: compiles src/bench/baselines/kinf.c with the
// system compiler (`cc -O3 -march=native`) in a temporary folder and times the same cases.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { baselinesDir } from "./common.js";

/** Milliseconds per fused K = infinity step in C for each (n, m), keyed `kinf:n=..,m=..`; {} with a note when `cc` is missing or fails. */
export function nativeKinf(cases: Array<[number, number]>, notes: string[]): Record<string, number> {
  const dir = mkdtempSync(join(tmpdir(), "plurisim-native-"));
  try {
    const exe = join(dir, "kinf");
    const cc = spawnSync("cc", ["-O3", "-march=native", "-o", exe, `${baselinesDir}kinf.c`, "-lm"], { encoding: "utf8" });
    if (cc.error || cc.status !== 0) {
      notes.push(`native C skipped: ${cc.error ? "no C compiler (cc) found" : `cc failed: ${cc.stderr.trim().slice(0, 200)}`}`);
      return {};
    }
    const run = spawnSync(exe, cases.flat().map(String), { encoding: "utf8" });
    if (run.status !== 0) {
      notes.push("native C skipped: the compiled step failed");
      return {};
    }
    return JSON.parse(run.stdout) as Record<string, number>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Arithmetic operations of the fused step per two atoms with f64x2 Wasm SIMD: m multiplies and
 * m - 1 adds for the multiplier, one multiply by p, one add to the sum, m multiply-adds for z
 * (Wasm has no fused multiply-add): 4m + 1 vector ops, 9 for m = 2.
 */
export function simdOpsPerAtomPair(m: number): number {
  return 4 * m + 1;
}
