// The Philox PRNG, the alias tables and the curation choice of assembly/prng.ts and
// assembly/sampling.ts against known answers and exact probabilities.
import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { instantiateKernels, type Kernels } from "../src/core/kernels.js";

let k: Kernels;
beforeAll(async () => {
  const bytes = await readFile(new URL("../src/core/wasm/plurisim.wasm", import.meta.url));
  k = await instantiateKernels(new WebAssembly.Module(bytes));
});

const u32At = (ptr: number, len: number) => new Uint32Array(k.raw.memory.buffer, ptr, len).slice();
const i32At = (ptr: number, len: number) => new Int32Array(k.raw.memory.buffer, ptr, len).slice();

/** Philox-4x32-10 in plain TypeScript (BigInt products), the twin of assembly/prng.ts. */
function philoxTwin(c: number[], key: number[]): number[] {
  let [c0, c1, c2, c3] = c.map((v) => v >>> 0);
  let [k0, k1] = key.map((v) => v >>> 0);
  for (let r = 0; r < 10; r++) {
    const p0 = 0xd2511f53n * BigInt(c0);
    const p1 = 0xcd9e8d57n * BigInt(c2);
    const n0 = (Number(p1 >> 32n) ^ c1 ^ k0) >>> 0;
    const n2 = (Number(p0 >> 32n) ^ c3 ^ k1) >>> 0;
    c1 = Number(p1 & 0xffffffffn);
    c3 = Number(p0 & 0xffffffffn);
    c0 = n0;
    c2 = n2;
    k0 = (k0 + 0x9e3779b9) >>> 0;
    k1 = (k1 + 0xbb67ae85) >>> 0;
  }
  return [c0, c1, c2, c3];
}

describe("Philox-4x32-10", () => {
  // Known-answer vectors of the Random123 distribution (kat_vectors, philox4x32 10 rounds).
  const kat: [number[], number[], number[]][] = [
    [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
  ];
  it("matches the Random123 known-answer vectors", () => {
    const out = k.allocU8(16);
    for (const [c, key, want] of kat) {
      k.raw.philoxBlock(c[0], c[1], c[2], c[3], key[0], key[1], out);
      expect(Array.from(u32At(out, 4))).toEqual(want);
      expect(philoxTwin(c, key)).toEqual(want);
    }
  });

  it("uniformAt is the 53-bit uniform of its block, independent of call order", () => {
    const idx = [0, 1, 2, 3, 1000, 1001, 0xfffffffe, 0xffffffff];
    const fwd = idx.map((i) => k.raw.uniformAt(7, 3, i));
    const rev = [...idx].reverse().map((i) => k.raw.uniformAt(7, 3, i)).reverse();
    expect(fwd).toEqual(rev);
    idx.forEach((i, j) => {
      const w = philoxTwin([i >>> 1, 0, 0, 0], [7, 3]);
      const [hi, lo] = (i & 1) === 0 ? [w[0], w[1]] : [w[2], w[3]];
      const want = Number(((BigInt(hi) << 32n) | BigInt(lo)) >> 11n) * 2 ** -53;
      expect(fwd[j]).toBe(want);
    });
  });

  it("fillUniforms equals uniformAt from odd and even starts", () => {
    const ptr = k.allocF64(101);
    for (const start of [0, 1, 12345, 4294967200]) {
      k.raw.fillUniforms(11, 5, start, 101, ptr);
      const got = k.read(ptr, 101);
      for (let j = 0; j < 101; j++) expect(got[j]).toBe(k.raw.uniformAt(11, 5, (start + j) >>> 0));
    }
  });

  it("uniforms have mean 1/2 and variance 1/12 (1e6 draws, 5 sigma)", () => {
    const count = 1_000_000;
    const ptr = k.allocF64(count);
    k.raw.fillUniforms(42, 0, 0, count, ptr);
    const u = k.read(ptr, count);
    let s = 0, s2 = 0, outside = 0;
    for (const v of u) {
      if (!(v >= 0 && v < 1)) outside++;
      s += v;
      s2 += v * v;
    }
    expect(outside).toBe(0);
    const mean = s / count;
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / count));
    expect(Math.abs(s2 / count - mean * mean - 1 / 12)).toBeLessThan(5 * Math.sqrt(1 / 180 / count));
  });
});

/** Pearson chi-square of observed counts against expected probabilities. */
function chiSquare(counts: Float64Array, probs: number[], total: number): number {
  let c2 = 0;
  for (let x = 0; x < probs.length; x++) {
    if (probs[x] === 0) {
      expect(counts[x]).toBe(0);
      continue;
    }
    const e = probs[x] * total;
    c2 += (counts[x] - e) ** 2 / e;
  }
  return c2;
}

// Upper 0.1% points of the chi-square distribution (dof 4, 5, 6).
const CHI2_999: Record<number, number> = { 4: 18.467, 5: 20.515, 6: 22.458 };

describe("alias tables", () => {
  it("sample each atom with its weight; atoms of weight 0 never", () => {
    const wts = [0.3, 0, 1.2, 0.05, 2.0, 0, 0.45, 1.0];
    const n = wts.length;
    const wp = k.allocF64(n);
    k.write(wp, wts);
    const t = { prob: k.allocF64(n), atom: k.allocU8(4 * n), alias: k.allocU8(4 * n) };
    const scratch = k.allocU8(8 * n);
    const nPos = k.raw.aliasBuild(wp, n, t.prob, t.atom, t.alias, scratch);
    expect(nPos).toBe(6);
    const counts = k.allocF64(n);
    k.raw.zeroF64(counts, n);
    const N = 1_000_000;
    k.raw.sampleAtomCounts(9, 0, 3, 0, N, nPos, t.prob, t.atom, t.alias, counts);
    const total = wts.reduce((a, b) => a + b, 0);
    const c2 = chiSquare(k.read(counts, n), wts.map((v) => v / total), N);
    expect(c2, `chi2 = ${c2}`).toBeLessThan(CHI2_999[5]);
  });

  it("draws the same atoms whatever the split of the sample range", () => {
    const n = 50;
    const wp = k.allocF64(n);
    k.write(wp, Array.from({ length: n }, (_, x) => 1 + Math.sin(x)));
    const t = { prob: k.allocF64(n), atom: k.allocU8(4 * n), alias: k.allocU8(4 * n) };
    const nPos = k.raw.aliasBuild(wp, n, t.prob, t.atom, t.alias, k.allocU8(8 * n));
    const a = k.allocF64(n), b = k.allocF64(n);
    k.raw.zeroF64(a, n);
    k.raw.zeroF64(b, n);
    k.raw.sampleAtomCounts(1, 2, 3, 0, 10001, nPos, t.prob, t.atom, t.alias, a);
    k.raw.sampleAtomCounts(1, 2, 3, 0, 3333, nPos, t.prob, t.atom, t.alias, b);
    k.raw.sampleAtomCounts(1, 2, 3, 3333, 10001 - 3333, nPos, t.prob, t.atom, t.alias, b);
    expect(k.read(b, n)).toEqual(k.read(a, n));
  });
});

/** Exact law of the kept atom (docs/model.md, section 2) by brute force over all K-tuples. */
function exactCurated(p: number[], w: number[][], q: number[], K: number): number[] {
  const n = p.length;
  const out = new Array<number>(n).fill(0);
  const tuple = new Array<number>(K).fill(0);
  const total = n ** K;
  for (let code = 0; code < total; code++) {
    let c = code;
    let prob = 1;
    for (let j = 0; j < K; j++) {
      tuple[j] = c % n;
      c = Math.floor(c / n);
      prob *= p[tuple[j]];
    }
    if (prob === 0) continue;
    for (let i = 0; i < q.length; i++) {
      let W = 0;
      for (const x of tuple) W += w[i][x];
      for (const x of tuple) out[x] += prob * q[i] * (w[i][x] / W);
    }
  }
  return out;
}

describe("curation among K candidates", () => {
  const p = [0.1, 0.25, 0.3, 0.05, 0.3];
  const r = [
    [0, 1, 2, 3, 4],
    [3, -1, 0.5, 0, -2],
  ];
  const q = [0.35, 0.65];
  const tau = 1.3;
  const n = p.length;
  const m = q.length;

  const setup = (K: number) => {
    const w = r.map((ri) => {
      const hi = Math.max(...ri);
      return ri.map((v) => Math.exp((v - hi) / tau));
    });
    const pp = k.allocF64(n);
    k.write(pp, p);
    const wp = k.allocF64(m * n);
    k.write(wp, w.flat());
    const qc = k.allocF64(m);
    k.write(qc, [q[0], 1]);
    const t = { prob: k.allocF64(n), atom: k.allocU8(4 * n), alias: k.allocU8(4 * n) };
    const nPos = k.raw.aliasBuild(pp, n, t.prob, t.atom, t.alias, k.allocU8(8 * n));
    return { w, wp, qc, t, nPos, scratch: k.allocU8(12 * K + 16), counts: k.allocF64(n) };
  };

  for (const K of [2, 3, 5]) {
    it(`kept-atom frequencies match p sum_i q_i H_i at K = ${K} (chi-square, 400000 samples, seed 2024)`, () => {
      const s = setup(K);
      k.raw.zeroF64(s.counts, n);
      const N = 400_000;
      const draws = k.raw.curateAtoms(2024, 0, 0, N, s.nPos, s.t.prob, s.t.atom, s.t.alias, s.wp, n, s.qc, m, -1, K, s.scratch, s.counts, 0);
      expect(draws).toBe(N * K);
      const exact = exactCurated(p, s.w, q, K);
      expect(Math.abs(exact.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
      const c2 = chiSquare(k.read(s.counts, n), exact, N);
      expect(c2, `chi2 = ${c2}`).toBeLessThan(CHI2_999[4]);
    });
  }

  it("a fixed group (per-generation mixing) uses only that group's weights", () => {
    const K = 3;
    const s = setup(K);
    k.raw.zeroF64(s.counts, n);
    const N = 300_000;
    k.raw.curateAtoms(77, 5, 0, N, s.nPos, s.t.prob, s.t.atom, s.t.alias, s.wp, n, s.qc, m, 1, K, s.scratch, s.counts, 0);
    const c2 = chiSquare(k.read(s.counts, n), exactCurated(p, s.w, [0, 1], K), N);
    expect(c2, `chi2 = ${c2}`).toBeLessThan(CHI2_999[4]);
  });

  it("K = 1024 keeps the best atom almost surely and every sample gets one atom", () => {
    const K = 1024;
    const s = setup(K);
    k.raw.zeroF64(s.counts, n);
    const kept = k.allocU8(4 * 2000);
    k.raw.curateAtoms(5, 1, 0, 2000, s.nPos, s.t.prob, s.t.atom, s.t.alias, s.wp, n, s.qc, m, 0, K, s.scratch, s.counts, kept);
    const c = k.read(s.counts, n);
    expect(c.reduce((a, b) => a + b, 0)).toBe(2000);
    // Group 0 prefers atom 4 (w = 1); the next best has w = e^{-1/1.3} and K p(4) >> 1.
    const exactTop = 1 / (1 + (0.05 * Math.exp(-1 / tau) + 0.3 * Math.exp(-2 / tau) + 0.25 * Math.exp(-3 / tau) + 0.1 * Math.exp(-4 / tau)) / 0.3);
    expect(Math.abs(c[4] / 2000 - exactTop)).toBeLessThan(0.05);
    const keptAtoms = i32At(kept, 2000);
    expect(keptAtoms.every((x) => x >= 0 && x < n)).toBe(true);
  });

  it("K = infinity samples the tilted model p w_i / Z_i exactly", () => {
    const s = setup(2);
    const tilt = s.w.map((wi) => p.map((px, x) => px * wi[x]));
    const t = { prob: k.allocF64(m * n), atom: k.allocU8(4 * m * n), alias: k.allocU8(4 * m * n) };
    const nPos = k.allocU8(4 * m);
    const tmp = k.allocF64(n);
    const np: number[] = [];
    for (let i = 0; i < m; i++) {
      k.write(tmp, tilt[i]);
      np.push(k.raw.aliasBuild(tmp, n, t.prob + 8 * i * n, t.atom + 4 * i * n, t.alias + 4 * i * n, k.allocU8(8 * n)));
    }
    new Int32Array(k.raw.memory.buffer, nPos, m).set(np);
    k.raw.zeroF64(s.counts, n);
    const N = 400_000;
    k.raw.curateAtomsTilted(3, 0, 0, N, nPos, t.prob, t.atom, t.alias, n, s.qc, m, -1, s.counts, 0);
    const exact = p.map((_, x) => q.reduce((acc, qi, i) => acc + (qi * tilt[i][x]) / tilt[i].reduce((a, b) => a + b, 0), 0));
    const c2 = chiSquare(k.read(s.counts, n), exact, N);
    expect(c2, `chi2 = ${c2}`).toBeLessThan(CHI2_999[4]);
  });
});
