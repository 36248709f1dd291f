// The Wasm boundary (STYLE.md): the raw kernels on pointers, an arena that owns their memory,
// and a typed-array level that allocates, copies in, calls and copies out. Runs anywhere: the
// caller compiles the WebAssembly.Module (from disk in Node, from fetch in a browser).
import { PlurisimError } from "./errors.js";
import { instantiate } from "./wasm/plurisim.js";

/** The raw exports of plurisim.wasm: pointers are byte offsets into `memory`. */
export type RawKernels = Awaited<ReturnType<typeof instantiate>>;

/** Kernel results for one K = infinity step. */
export interface KinfResult {
  out: Float64Array;
  zNext: Float64Array;
  sum: number;
}

/** Kernel results for one finite-K step: sum is taken before renormalisation. */
export interface FiniteKResult {
  out: Float64Array;
  sum: number;
}

/**
 * Every kernel on typed arrays; implemented by the Wasm kernels (below) and by the plain
 * TypeScript twins (twins.ts). Weights and rewards are group-major: w[i * n + x].
 */
export interface KernelArrays {
  /** w_i(x) = exp((r_i(x) - max r_i) / tau) and max[i] = max_x r_i(x). */
  computeWeightsArrays(r: Float64Array, n: number, m: number, tau: number): { w: Float64Array; max: Float64Array };
  /** out = lambda pData + (1 - lambda) p sum_i c_i w_i, zNext_i = sum out w_i, sum = sum out. */
  kinfStepArrays(p: Float64Array, w: Float64Array, n: number, m: number, c: Float64Array, lambda: number, pData?: Float64Array): KinfResult;
  /** The exact finite-K update (docs/model.md, section 3), unnormalised. */
  finiteKStepArrays(p: Float64Array, w: Float64Array, n: number, m: number, q: Float64Array, K: number, lambda: number, pData?: Float64Array): FiniteKResult;
  /** a * factor (a copy). */
  scaleArrays(a: Float64Array, factor: number): Float64Array;
  sumArray(a: Float64Array): number;
  /** Z_i = sum_x p(x) w_i(x). */
  zValuesArrays(p: Float64Array, w: Float64Array, n: number, m: number): Float64Array;
  /** [E_p r_i, Var_p r_i, Z_i] per group, flattened (length 3m). */
  groupStatsArrays(p: Float64Array, r: Float64Array, w: Float64Array, n: number, m: number): Float64Array;
  /** max over mask of sum_i c_i w_i(x); -Infinity for an empty mask. */
  maskedMultiplierMaxArrays(w: Float64Array, n: number, m: number, c: Float64Array, mask: Uint8Array): number;
  maskedSumArrays(p: Float64Array, mask: Uint8Array): number;
  entropyArray(p: Float64Array): number;
  klDivergenceArrays(p: Float64Array, q: Float64Array): number;
  l1DistanceArrays(a: Float64Array, b: Float64Array): number;
  w1GridArrays(p: Float64Array, q: Float64Array, width: number): number;
  countPositiveArray(p: Float64Array): number;
}

/** The instantiated kernels: raw exports, a bump arena over their memory, typed-array calls. */
export interface Kernels extends KernelArrays {
  raw: RawKernels;
  /** Frees every arena allocation (pointers from before become invalid) and bumps `epoch`. */
  reset(): void;
  /** Counts reset() calls: data laid out at one epoch is still in place while the epoch is unchanged. */
  readonly epoch: number;
  /** Returns the arena's current top (a mark for release). */
  mark(): number;
  /** Frees the allocations made after `mark` (earlier ones stay valid; the epoch is unchanged). */
  release(mark: number): void;
  /** Returns a 16-byte aligned pointer to len f64 slots, growing memory as needed. */
  allocF64(len: number): number;
  /** Returns a 16-byte aligned pointer to len bytes. */
  allocU8(len: number): number;
  write(ptr: number, src: ArrayLike<number> | Float64Array): void;
  writeU8(ptr: number, src: Uint8Array): void;
  /** Returns a copy of len f64 at ptr (safe across memory growth). */
  read(ptr: number, len: number): Float64Array;
  /** Returns a transient view of len f64 at ptr: invalid after any allocation or memory growth. */
  f64(ptr: number, len: number): Float64Array;
  /** Returns a transient view of len bytes at ptr (invalid as f64's views are). */
  u8(ptr: number, len: number): Uint8Array;
}

const PAGE = 65536;

/** Returns the kernels of an already compiled plurisim.wasm. */
export async function instantiateKernels(module: WebAssembly.Module): Promise<Kernels> {
  const raw = await instantiate(module, {});
  const memory = raw.memory;
  const base = (raw.heapBase() + 15) & ~15;
  let top = base;
  let epoch = 0;

  const alloc = (bytes: number): number => {
    const ptr = top;
    // Arithmetic rounding: a bitwise mask would wrap sizes of 2 GiB and more to negative ones.
    const end = ptr + Math.ceil(bytes / 16) * 16;
    if (end > memory.buffer.byteLength) {
      try {
        memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE));
      } catch {
        throw new PlurisimError(
          "MEMORY_LIMIT",
          `the run needs ${(end / 2 ** 30).toFixed(2)} GiB of Wasm memory, more than this engine can have (4 GiB, or what the host allows); use fewer atoms, groups, samples or candidates`,
          { field: "space", value: { bytes: end } },
        );
      }
    }
    top = end;
    return ptr;
  };
  const allocF64 = (len: number): number => alloc(len * 8);
  const allocU8 = (len: number): number => alloc(len);
  const write = (ptr: number, src: ArrayLike<number> | Float64Array): void => {
    new Float64Array(memory.buffer, ptr, src.length).set(src);
  };
  const writeU8 = (ptr: number, src: Uint8Array): void => {
    new Uint8Array(memory.buffer, ptr, src.length).set(src);
  };
  const read = (ptr: number, len: number): Float64Array => new Float64Array(memory.buffer, ptr, len).slice();
  const f64 = (ptr: number, len: number): Float64Array => new Float64Array(memory.buffer, ptr, len);
  const u8 = (ptr: number, len: number): Uint8Array => new Uint8Array(memory.buffer, ptr, len);
  const put = (src: ArrayLike<number>): number => {
    const ptr = allocF64(Math.max(src.length, 1));
    write(ptr, src);
    return ptr;
  };
  const putU8 = (src: Uint8Array): number => {
    const ptr = allocU8(Math.max(src.length, 1));
    writeU8(ptr, src);
    return ptr;
  };
  // Each typed-array call runs in a fresh arena frame and releases it afterwards.
  const frame = <T>(body: () => T): T => {
    const mark = top;
    try {
      return body();
    } finally {
      top = mark;
    }
  };

  return {
    raw,
    reset: () => {
      top = base;
      epoch++;
    },
    get epoch() {
      return epoch;
    },
    mark: () => top,
    release: (mark: number) => {
      top = mark;
    },
    allocF64,
    allocU8,
    write,
    writeU8,
    read,
    f64,
    u8,
    computeWeightsArrays: (r, n, m, tau) =>
      frame(() => {
        const rp = put(r);
        const wp = allocF64(n * m);
        const mp = allocF64(m);
        raw.computeWeights(rp, wp, n, m, tau, mp);
        return { w: read(wp, n * m), max: read(mp, m) };
      }),
    kinfStepArrays: (p, w, n, m, c, lambda, pData) =>
      frame(() => {
        const pp = put(p);
        const wp = put(w);
        const cp = put(c);
        const dp = lambda !== 0 && pData ? put(pData) : 0;
        const op = allocF64(n);
        const zp = allocF64(m);
        const sum = raw.kinfStep(pp, op, wp, n, m, cp, zp, lambda, dp, 0, 0, 0);
        return { out: read(op, n), zNext: read(zp, m), sum };
      }),
    finiteKStepArrays: (p, w, n, m, q, K, lambda, pData) =>
      frame(() => {
        const pp = put(p);
        const wp = put(w);
        const qp = put(q);
        const dp = lambda !== 0 && pData ? put(pData) : 0;
        const op = allocF64(n);
        const sp = allocU8(raw.finiteKScratchBytes(n, m));
        const sum = raw.finiteKStep(pp, op, wp, n, m, qp, K, lambda, dp, sp, 0, 0, 0);
        return { out: read(op, n), sum };
      }),
    scaleArrays: (a, factor) =>
      frame(() => {
        const ap = put(a);
        raw.scale(ap, a.length, factor);
        return read(ap, a.length);
      }),
    sumArray: (a) => frame(() => raw.sum(put(a), a.length)),
    zValuesArrays: (p, w, n, m) =>
      frame(() => {
        const zp = allocF64(m);
        raw.zValues(put(p), put(w), n, m, zp);
        return read(zp, m);
      }),
    groupStatsArrays: (p, r, w, n, m) =>
      frame(() => {
        const op = allocF64(3 * m);
        raw.groupStats(put(p), put(r), put(w), n, m, op, 0);
        return read(op, 3 * m);
      }),
    maskedMultiplierMaxArrays: (w, n, m, c, mask) => frame(() => raw.maskedMultiplierMax(put(w), n, m, put(c), putU8(mask))),
    maskedSumArrays: (p, mask) => frame(() => raw.maskedSum(put(p), putU8(mask), p.length, 0)),
    entropyArray: (p) => frame(() => raw.entropy(put(p), p.length, 0)),
    klDivergenceArrays: (p, q) => frame(() => raw.klDivergence(put(p), put(q), p.length, 0)),
    l1DistanceArrays: (a, b) => frame(() => raw.l1Distance(put(a), put(b), a.length, 0, 0)),
    w1GridArrays: (p, q, width) => frame(() => raw.w1Grid(put(p), put(q), p.length, width)),
    countPositiveArray: (p) => frame(() => raw.countPositive(put(p), p.length, 0)),
  };
}
