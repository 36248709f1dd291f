// Transcendental functions with the same last bit in Node and in every browser. Until a
// kernel instance exists they are the host's Math; instantiateKernels then installs the
// Wasm's own libm (assembly/math.ts), so everything the engine reports is bit-identical
// across JavaScript engines. Exact operations (sqrt, abs, floor, min, max) stay on Math.

type Unary = (x: number) => number;
type Binary = (x: number, y: number) => number;

export interface DetMath {
  exp: Unary; expm1: Unary; log: Unary; log1p: Unary; log2: Unary; log10: Unary;
  sin: Unary; cos: Unary; tan: Unary; atan: Unary; sinh: Unary; cosh: Unary; tanh: Unary;
  pow: Binary; atan2: Binary; hypot: Binary;
}

/** The functions in use: read them through this object (never cache one), e.g. `dmath.exp(x)`. */
export const dmath: DetMath = {
  exp: Math.exp, expm1: Math.expm1, log: Math.log, log1p: Math.log1p, log2: Math.log2, log10: Math.log10,
  sin: Math.sin, cos: Math.cos, tan: Math.tan, atan: Math.atan, sinh: Math.sinh, cosh: Math.cosh, tanh: Math.tanh,
  pow: Math.pow, atan2: Math.atan2, hypot: (x, y) => Math.hypot(x, y),
};

/** True once the Wasm's libm is installed. */
export let wasmMathInstalled = false;

/** Installs the Wasm exports of assembly/math.ts as the functions in use. */
export function installWasmMath(raw: {
  mathExp: Unary; mathExpm1: Unary; mathLog: Unary; mathLog1p: Unary; mathLog2: Unary; mathLog10: Unary;
  mathSin: Unary; mathCos: Unary; mathTan: Unary; mathAtan: Unary; mathSinh: Unary; mathCosh: Unary; mathTanh: Unary;
  mathPow: Binary; mathAtan2: Binary; mathHypot: Binary;
}): void {
  Object.assign(dmath, {
    exp: raw.mathExp, expm1: raw.mathExpm1, log: raw.mathLog, log1p: raw.mathLog1p, log2: raw.mathLog2, log10: raw.mathLog10,
    sin: raw.mathSin, cos: raw.mathCos, tan: raw.mathTan, atan: raw.mathAtan, sinh: raw.mathSinh, cosh: raw.mathCosh,
    tanh: raw.mathTanh, pow: raw.mathPow, atan2: raw.mathAtan2, hypot: raw.mathHypot,
  });
  wasmMathInstalled = true;
}
