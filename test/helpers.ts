// Shared test set-up: the compiled module, the built CLI, a seeded PRNG and random inputs, shifted
// weights, tolerances.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { instantiateKernels, type Kernels } from "../src/core/kernels.js";

export async function loadKernels(): Promise<Kernels> {
  const bytes = await readFile(new URL("../src/core/wasm/plurisim.wasm", import.meta.url));
  return instantiateKernels(new WebAssembly.Module(bytes));
}

/** The CLI's entry point, for tests that spawn it themselves (a shell pipe, a process to signal). */
export const cliBin = new URL("../bin/plurisim.js", import.meta.url).pathname;

export interface CliOptions {
  /** Written to the command's standard input. */
  input?: string;
  cwd?: string;
  /** Added to process.env and NO_COLOR=1 (and may override either). */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds before the command is killed (code null). */
  timeout?: number;
  /** Bytes of stdout or stderr allowed; spawnSync's 1 MiB unless given. */
  maxBuffer?: number;
}

/** Runs the built CLI (bin/plurisim.js over dist/) to its end; returns its exit code (null if killed) and output. */
export function runCli(args: string[], opts: CliOptions = {}): { code: number | null; stdout: string; stderr: string } {
  const { env, ...rest } = opts;
  // Only the options given are passed: an explicit maxBuffer of undefined would lift spawnSync's limit.
  const r = spawnSync(process.execPath, [cliBin, ...args], { ...rest, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A small seeded PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomSimplex(n: number, rand: () => number, zeroFraction = 0): Float64Array {
  const p = new Float64Array(n);
  let s = 0;
  for (let x = 0; x < n; x++) {
    p[x] = rand() < zeroFraction ? 0 : rand() + 1e-3;
    s += p[x];
  }
  if (s === 0) p[0] = s = 1;
  for (let x = 0; x < n; x++) p[x] /= s;
  return p;
}

/** Max over entries of |a - b| / (|b| + floor); reported in failure messages. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 0): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    if (a[i] === b[i]) continue;
    const e = Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + floor);
    if (!(e <= worst)) worst = e;
  }
  return worst;
}

export function relErr(a: number, b: number): number {
  return a === b ? 0 : Math.abs(a - b) / Math.abs(b);
}

/** 1-D grid of n cells on [lo, hi] and quadratic rewards -(x - c)^2 for each centre c. */
export function quadraticGrid(n: number, lo: number, hi: number, centres: number[]): { xs: Float64Array; r: Float64Array } {
  const xs = new Float64Array(n);
  for (let k = 0; k < n; k++) xs[k] = n === 1 ? lo : lo + ((hi - lo) * k) / (n - 1);
  const r = new Float64Array(n * centres.length);
  centres.forEach((c, i) => {
    for (let k = 0; k < n; k++) r[i * n + k] = -((xs[k] - c) ** 2);
  });
  return { xs, r };
}

/** w[i*n + x] = exp((r_i(x) - max r_i) / tau), in plain TS (docs/model.md, section 1). */
export function weights(r: Float64Array, n: number, m: number, tau: number): Float64Array {
  const w = new Float64Array(n * m);
  for (let i = 0; i < m; i++) {
    let mx = -Infinity;
    for (let x = 0; x < n; x++) mx = Math.max(mx, r[i * n + x]);
    for (let x = 0; x < n; x++) w[i * n + x] = Math.exp((r[i * n + x] - mx) / tau);
  }
  return w;
}

/** v scaled to sum to 1. */
export function normalised(v: Float64Array): Float64Array {
  const s = v.reduce((a, b) => a + b, 0);
  return v.map((x) => x / s);
}

/** SHA-256 over the f64 bits of a run's p_T, recorded metrics (with their names), snapshots and largest mass defect. */
export function runDigest(result: { final: { p?: number[] }; trajectory: unknown[]; snapshots?: unknown[]; maxMassDefect: number }): string {
  const hash = createHash("sha256");
  const numbers = (v: unknown): void => {
    if (typeof v === "number") hash.update(new Uint8Array(Float64Array.of(v).buffer));
    else if (Array.isArray(v)) v.forEach(numbers);
    else if (v && typeof v === "object") {
      for (const [key, x] of Object.entries(v)) {
        hash.update(key);
        numbers(x);
      }
    } else hash.update(String(v));
  };
  numbers(result.final.p);
  numbers(result.trajectory);
  numbers(result.snapshots ?? []);
  numbers(result.maxMassDefect);
  return hash.digest("hex");
}
