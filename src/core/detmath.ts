// Transcendental functions with the same last bit in Node and in every browser, and the same
// bits as the kernels' own Math: they are AssemblyScript's NativeMath (assembly/math.ts),
// compiled into a small Wasm module of their own that is embedded here (scripts/build-libm.mjs)
// and instantiated synchronously on first use. There is nothing to install and nothing that
// changes meaning when the first engine appears: whatever runs first (compileScenario, a sweep
// axis, the engine) gets the same numbers. Exact operations (sqrt, abs, floor, min, max) stay
// on Math.
import { LIBM_WASM_BASE64 } from "./wasm/libm.js";

type Unary = (x: number) => number;
type Binary = (x: number, y: number) => number;

export interface DetMath {
  exp: Unary; expm1: Unary; log: Unary; log1p: Unary; log2: Unary; log10: Unary;
  sin: Unary; cos: Unary; tan: Unary; atan: Unary; sinh: Unary; cosh: Unary; tanh: Unary;
  pow: Binary; atan2: Binary; hypot: Binary;
}

interface LibmExports {
  mathExp: Unary; mathExpm1: Unary; mathLog: Unary; mathLog1p: Unary; mathLog2: Unary; mathLog10: Unary;
  mathSin: Unary; mathCos: Unary; mathTan: Unary; mathAtan: Unary; mathSinh: Unary; mathCosh: Unary; mathTanh: Unary;
  mathPow: Binary; mathAtan2: Binary; mathHypot: Binary;
}

/** Instantiates the embedded libm module (about 23 kB; synchronous compilation is allowed at this size everywhere). */
function instantiateLibm(): DetMath {
  const text = atob(LIBM_WASM_BASE64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  const e = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as LibmExports;
  return {
    exp: e.mathExp, expm1: e.mathExpm1, log: e.mathLog, log1p: e.mathLog1p, log2: e.mathLog2, log10: e.mathLog10,
    sin: e.mathSin, cos: e.mathCos, tan: e.mathTan, atan: e.mathAtan, sinh: e.mathSinh, cosh: e.mathCosh, tanh: e.mathTanh,
    pow: e.mathPow, atan2: e.mathAtan2, hypot: e.mathHypot,
  };
}

let libm: DetMath | null = null;
function lib(): DetMath {
  if (!libm) {
    libm = instantiateLibm();
    // From now on the entries are the Wasm exports themselves (no forwarding on hot paths).
    Object.assign(dmath, libm);
  }
  return libm;
}

/**
 * The functions, read through this object: `dmath.exp(x)`. Until the first call each entry
 * instantiates the libm (once per thread) and forwards to it, so a function taken out of the
 * object early still computes with the Wasm's bits.
 */
export const dmath: DetMath = {
  exp: (x) => lib().exp(x), expm1: (x) => lib().expm1(x), log: (x) => lib().log(x), log1p: (x) => lib().log1p(x),
  log2: (x) => lib().log2(x), log10: (x) => lib().log10(x), sin: (x) => lib().sin(x), cos: (x) => lib().cos(x),
  tan: (x) => lib().tan(x), atan: (x) => lib().atan(x), sinh: (x) => lib().sinh(x), cosh: (x) => lib().cosh(x),
  tanh: (x) => lib().tanh(x), pow: (x, y) => lib().pow(x, y), atan2: (y, x) => lib().atan2(y, x), hypot: (x, y) => lib().hypot(x, y),
};
