// AssemblyScript's NativeMath, exported so that the TypeScript side computes every
// transcendental function with the same bits in every JavaScript engine: V8's Math.exp and
// Math.log differ by an ulp between Node 20 and current Chromium (the browser test found it).

export function mathExp(x: f64): f64 { return Math.exp(x); }
export function mathExpm1(x: f64): f64 { return Math.expm1(x); }
export function mathLog(x: f64): f64 { return Math.log(x); }
export function mathLog1p(x: f64): f64 { return Math.log1p(x); }
export function mathLog2(x: f64): f64 { return Math.log2(x); }
export function mathLog10(x: f64): f64 { return Math.log10(x); }
export function mathSin(x: f64): f64 { return Math.sin(x); }
export function mathCos(x: f64): f64 { return Math.cos(x); }
export function mathTan(x: f64): f64 { return Math.tan(x); }
export function mathAtan(x: f64): f64 { return Math.atan(x); }
export function mathSinh(x: f64): f64 { return Math.sinh(x); }
export function mathCosh(x: f64): f64 { return Math.cosh(x); }
export function mathTanh(x: f64): f64 { return Math.tanh(x); }
export function mathPow(x: f64, y: f64): f64 { return Math.pow(x, y); }
export function mathAtan2(y: f64, x: f64): f64 { return Math.atan2(y, x); }
export function mathHypot(x: f64, y: f64): f64 { return Math.hypot(x, y); }
