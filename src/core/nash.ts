// The weighted Nash bargaining solution of docs/model.md, section 4, computed independently of the
// retraining dynamics: maximise F(p) = sum_i q_i log Z_i(p), Z_i(p) = sum_x p(x) w_i(x), over
// the distributions supported where p0 > 0. Pure TypeScript over Float64Arrays, no `node:`.
//
// Method: column generation with an active-set Newton master problem.
//   - The optimal Z* is unique (F is strictly concave in Z when every q_i > 0) and some optimal p
//     has at most m atoms (Caratheodory on the face of conv{w(x)} that holds Z*), so the work
//     happens on a small working set A of atoms.
//   - Master: maximise F over the simplex on A by projected Newton steps on the positive atoms
//     P. The Newton step is a least-squares problem (the Hessian is -U^T U with U of size m x |P|,
//     rank <= m), solved by pivoted Householder QR so rank deficiency and nearly collinear atoms
//     cost nothing; a ratio test drops atoms reaching 0, and an exact line search on the concave
//     step function phi(alpha) = sum_i q_i log(Z_i + alpha dZ_i) (bisection/Newton on phi',
//     which is free of the cancellation that ruins comparisons of F itself). An atom of A\P whose
//     gradient exceeds 1 enters by one Frank-Wolfe step towards its vertex (phi'(0) = g_x - 1 > 0).
//   - Pricing: one pass over all support atoms computes g(x) = sum_i q_i w_i(x) / Z_i; the gap
//     max g - 1 is the certificate of docs/model.md, section 4. If it exceeds tol, the atoms with the
//     largest g join A, with the best violator dominated by each group (largest term of g) for
//     diversity, and the master is solved again. Each round strictly increases F, so this
//     terminates; in practice it takes a handful of passes over memory.
// The update p <- p * grad F (the dynamics) is never iterated here.
//
// Non-unique maximisers. Z* is unique, p* need not be:
//   - atoms with identical weight vectors (w_i(x) = w_i(y) for every i, bit for bit) are
//     interchangeable; we return the class's total mass split in proportion to p0, which is
//     exactly where the dynamics send it (their ratio p_t(x)/p_t(y) never changes). For m = 1
//     this returns p0 restricted to the argmax set, renormalised (Ferbach Thm 2.1).
//   - other non-uniqueness (a face of dimension > 0 spanned by distinct vectors, e.g. one atom's
//     vector the average of two others on the face) returns the point the master reaches, usually
//     a basic solution with at most m distinct vectors; it need not be the dynamics' limit.

import { dmath } from "./detmath.js";
import { PlurisimError } from "./errors.js";

export interface NashOptions {
  /** Stop when nashGap(p) <= tol (default 1e-12; the contract is <= 1e-10). */
  tol?: number;
  /** Maximum pricing rounds (passes over all atoms); default 200. */
  maxIterations?: number;
}

export interface NashResult {
  /** p*, a distribution over the n atoms. */
  p: Float64Array;
  /** F(p*) = sum_i q_i log Z_i(p*) with the weights given. */
  welfare: number;
  /** nashGap(p*) >= F* - F(p*). */
  gap: number;
  /** Pricing rounds (full passes over the atoms). */
  iterations: number;
  method: string;
}

const METHOD = "column-generation/active-set-newton";

/** F(p) = sum_i q_i log Z_i(p) (docs/model.md, section 4); -Infinity when some Z_i with q_i > 0 is 0. */
export function nashWelfare(p: Float64Array, w: Float64Array, n: number, m: number, q: Float64Array): number {
  let f = 0;
  for (let i = 0; i < m; i++) {
    if (q[i] === 0) continue;
    let z = 0;
    const off = i * n;
    for (let x = 0; x < n; x++) z += p[x] * w[off + x];
    f += q[i] * dmath.log(z);
  }
  return f;
}

/** nashGap(p) = max_{x: p0(x) > 0} sum_i q_i w_i(x) / Z_i(p) - 1, an upper bound on F* - F(p). */
export function nashGap(p: Float64Array, w: Float64Array, n: number, m: number, q: Float64Array, p0: Float64Array): number {
  const mu = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    if (q[i] === 0) continue;
    let z = 0;
    const off = i * n;
    for (let x = 0; x < n; x++) z += p[x] * w[off + x];
    mu[i] = q[i] / z; // Infinity when Z_i = 0: the gap is then +Infinity (or NaN-free below)
  }
  let best = -Infinity;
  for (let x = 0; x < n; x++) {
    if (!(p0[x] > 0)) continue;
    let g = 0;
    for (let i = 0; i < m; i++) {
      const wi = w[i * n + x];
      if (mu[i] !== 0 && wi !== 0) g += mu[i] * wi;
    }
    if (g > best) best = g;
  }
  // sum_x p(x) g(x) = sum_i q_i = 1, so max g >= 1 and the gap is >= 0; rounding can leave -1e-16.
  const gap = best - 1;
  return gap < 0 ? 0 : gap;
}

function fail(field: string, value: unknown, message: string): never {
  throw new PlurisimError("INVALID_SCENARIO", `invalid argument. ${message}. Value: \`${String(value)}\`.`, { field, value });
}

/** The maximiser p* of F over distributions supported where p0 > 0, with F(p*) and its certificate. */
export function solveNash(
  w: Float64Array,
  n: number,
  m: number,
  q: Float64Array,
  p0: Float64Array,
  opts: NashOptions = {},
): NashResult {
  const tol = opts.tol ?? 1e-12;
  const maxRounds = opts.maxIterations ?? 200;
  if (!Number.isInteger(n) || n < 1) fail("n", n, "n must be a positive integer");
  if (!Number.isInteger(m) || m < 1) fail("m", m, "m must be a positive integer");
  if (w.length !== n * m) fail("w", w.length, `w must have length n*m = ${n * m}`);
  if (q.length !== m) fail("q", q.length, `q must have length m = ${m}`);
  if (p0.length !== n) fail("p0", p0.length, `p0 must have length n = ${n}`);
  for (let i = 0; i < m; i++) if (!(q[i] >= 0) || !Number.isFinite(q[i])) fail(`q[${i}]`, q[i], "q must be finite and >= 0");

  // The support and, per group, the best atom on it (every w_i must be positive somewhere there).
  const support: number[] = [];
  for (let x = 0; x < n; x++) if (p0[x] > 0) support.push(x);
  if (support.length === 0) fail("p0", "all zero", "p0 must put mass on some atom");
  const seeds: number[] = [];
  for (let i = 0; i < m; i++) {
    const off = i * n;
    let best = -1;
    let bw = -Infinity;
    for (const x of support) {
      const v = w[off + x];
      if (!(v >= 0) || !Number.isFinite(v)) fail(`w[${off + x}]`, v, "weights must be finite and >= 0");
      if (v > bw) { bw = v; best = x; }
    }
    if (q[i] > 0 && !(bw > 0)) {
      throw new PlurisimError("REWARD_UNDERFLOW",
        `group ${i}: every curation weight on the support of p0 underflows to 0; rescale the rewards or raise tau`,
        { field: `groups[${i}]`, value: bw });
    }
    seeds.push(best);
  }
  // The utilitarian atom (largest sum_i q_i w_i / max w_i) is a good extra seed.
  {
    let best = support[0];
    let bv = -Infinity;
    for (const x of support) {
      let v = 0;
      for (let i = 0; i < m; i++) v += q[i] * w[i * n + x] / w[i * n + seeds[i]];
      if (v > bv) { bv = v; best = x; }
    }
    seeds.push(best);
  }

  const master = new Master(w, n, m, q);
  for (const x of seeds) master.add(x);
  master.initUniform();

  const g = new Float64Array(n);
  const groupX = new Int32Array(m);
  const groupG = new Float64Array(m);
  let rounds = 0;
  let gap = Infinity;
  const batch = Math.max(4, m + 2);
  for (;;) {
    master.solve();
    rounds++;
    const mu = master.mu();
    // Pricing pass: g(x) over the support, collecting the `batch` largest violators.
    gap = -Infinity;
    const topX: number[] = [];
    const topG: number[] = [];
    // Diversity: also the best violator among the atoms each group dominates (largest term of g),
    // so one round can improve every region of the optimal face, not only the steepest one.
    groupX.fill(-1);
    groupG.fill(-Infinity);
    for (const x of support) {
      let gx = 0;
      for (let i = 0; i < m; i++) gx += mu[i] * w[i * n + x];
      g[x] = gx;
      if (gx - 1 > gap) gap = gx - 1;
      if (m > 1 && gx - 1 > tol) {
        let dom = 0;
        let domV = -1;
        for (let i = 0; i < m; i++) {
          const t = mu[i] * w[i * n + x];
          if (t > domV) { domV = t; dom = i; }
        }
        if (gx > groupG[dom] && !master.has(x)) { groupG[dom] = gx; groupX[dom] = x; }
      }
      if (gx - 1 > tol && !master.has(x) && (topX.length < batch || gx > topG[topG.length - 1])) {
        let k = topX.length < batch ? topX.length : batch - 1;
        while (k > 0 && topG[k - 1] < gx) k--;
        topX.splice(k, 0, x);
        topG.splice(k, 0, gx);
        if (topX.length > batch) { topX.pop(); topG.pop(); }
      }
    }
    if (gap <= tol || rounds >= maxRounds || topX.length === 0) break;
    master.prune();
    for (let k = 0; k < topX.length; k++) master.addUnlessDuplicate(topX[k], topG[k], g);
    for (let i = 0; i < m; i++) if (groupX[i] >= 0) master.addUnlessDuplicate(groupX[i], groupG[i], g);
  }

  // Spread each class of bit-identical weight vectors over its members in proportion to p0.
  const p = new Float64Array(n);
  const classes = new Map<string, { members: number[]; mass: number }>();
  const gStar = master.activeG(g);
  const keyOf = (x: number): string => {
    let s = "";
    for (let i = 0; i < m; i++) s += w[i * n + x] + ",";
    return s;
  };
  for (let k = 0; k < master.size; k++) {
    const mass = master.p[k];
    if (mass > 0) {
      const key = keyOf(master.atoms[k]);
      const c = classes.get(key);
      if (c) c.mass += mass; else classes.set(key, { members: [], mass });
    }
  }
  if (classes.size > 0) {
    // Identical vectors have bit-identical g, so only atoms whose g equals an active atom's g can join.
    for (const x of support) {
      if (!gStar.has(g[x])) continue;
      const c = classes.get(keyOf(x));
      if (c) c.members.push(x);
    }
    for (const c of classes.values()) {
      let s = 0;
      for (const x of c.members) s += p0[x];
      for (const x of c.members) p[x] = c.mass * (p0[x] / s);
    }
  }
  let total = 0;
  for (let x = 0; x < n; x++) total += p[x];
  for (let x = 0; x < n; x++) p[x] /= total;

  return {
    p,
    welfare: nashWelfare(p, w, n, m, q),
    gap: nashGap(p, w, n, m, q, p0),
    iterations: rounds,
    method: METHOD,
  };
}

/** The restricted problem: maximise F over the simplex on a small working set of atoms. */
class Master {
  atoms: number[] = [];
  /** Weight vectors of the working set, atom-major: v[k * m + i] = w_i(atoms[k]). */
  private v: number[] = [];
  p: number[] = [];
  private readonly Z: Float64Array;
  private readonly inSet = new Set<number>();

  constructor(
    private readonly w: Float64Array,
    private readonly n: number,
    private readonly m: number,
    private readonly q: Float64Array,
  ) {
    this.Z = new Float64Array(m);
  }

  get size(): number {
    return this.atoms.length;
  }

  has(x: number): boolean {
    return this.inSet.has(x);
  }

  add(x: number): void {
    if (this.inSet.has(x)) return;
    this.inSet.add(x);
    this.atoms.push(x);
    for (let i = 0; i < this.m; i++) this.v.push(this.w[i * this.n + x]);
    this.p.push(0);
  }

  /** Adds x unless an atom of the set has the same weight vector (then g is bit-identical). */
  addUnlessDuplicate(x: number, gx: number, g: Float64Array): void {
    const m = this.m;
    for (let k = 0; k < this.atoms.length; k++) {
      if (g[this.atoms[k]] !== gx) continue;
      let same = true;
      for (let i = 0; i < m && same; i++) same = this.v[k * m + i] === this.w[i * this.n + x];
      if (same) return;
    }
    this.add(x);
  }

  initUniform(): void {
    const k = this.atoms.length;
    for (let a = 0; a < k; a++) this.p[a] = 1 / k;
    this.computeZ();
  }

  /** Drops atoms with zero mass, keeping the set small between rounds. */
  prune(): void {
    const m = this.m;
    const atoms: number[] = [];
    const v: number[] = [];
    const p: number[] = [];
    this.inSet.clear();
    for (let k = 0; k < this.atoms.length; k++) {
      if (!(this.p[k] > 0)) continue;
      atoms.push(this.atoms[k]);
      p.push(this.p[k]);
      for (let i = 0; i < m; i++) v.push(this.v[k * m + i]);
      this.inSet.add(this.atoms[k]);
    }
    this.atoms = atoms;
    this.v = v;
    this.p = p;
  }

  /** mu_i = q_i / Z_i at the current master point (0 for groups with q_i = 0). */
  mu(): Float64Array {
    const mu = new Float64Array(this.m);
    for (let i = 0; i < this.m; i++) mu[i] = this.q[i] === 0 ? 0 : this.q[i] / this.Z[i];
    return mu;
  }

  /** The set of g values of the atoms that carry mass (for the duplicate-class sweep). */
  activeG(g: Float64Array): Set<number> {
    const s = new Set<number>();
    for (let k = 0; k < this.atoms.length; k++) if (this.p[k] > 0) s.add(g[this.atoms[k]]);
    return s;
  }

  private computeZ(): void {
    const m = this.m;
    this.Z.fill(0);
    for (let k = 0; k < this.atoms.length; k++) {
      const pk = this.p[k];
      if (pk === 0) continue;
      for (let i = 0; i < m; i++) this.Z[i] += pk * this.v[k * m + i];
    }
  }

  /**
   * Exact line search: the root in [0, aMax] of phi'(a) = sum_i q_i dZ_i / (Z_i + a dZ_i),
   * decreasing in a because phi is concave. Returns aMax when phi'(aMax) >= 0.
   */
  private lineSearch(dZ: Float64Array, aMax: number): number {
    const { m, q, Z } = this;
    const dphi = (a: number): number => {
      let s = 0;
      for (let i = 0; i < m; i++) if (q[i] !== 0 && dZ[i] !== 0) s += (q[i] * dZ[i]) / (Z[i] + a * dZ[i]);
      return s;
    };
    const ddphi = (a: number): number => {
      let s = 0;
      for (let i = 0; i < m; i++) {
        if (q[i] === 0 || dZ[i] === 0) continue;
        const t = dZ[i] / (Z[i] + a * dZ[i]);
        s -= q[i] * t * t;
      }
      return s;
    };
    const atMax = dphi(aMax);
    if (atMax >= 0) return aMax;
    let lo = 0;
    let hi = aMax;
    let a = Math.min(1, aMax);
    if (a >= hi) a = 0.5 * (lo + hi);
    for (let it = 0; it < 200; it++) {
      const d = dphi(a);
      if (d > 0) lo = a; else if (d < 0) hi = a; else return a;
      const dd = ddphi(a);
      let next = dd < 0 ? a - d / dd : NaN;
      if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
      if (Math.abs(next - a) <= 1e-17 * Math.max(1, a) || hi - lo <= 1e-17 * Math.max(1, hi)) return next;
      a = next;
    }
    return a;
  }

  /** Solves the master problem to high accuracy (Newton decrement at rounding level). */
  solve(): void {
    const m = this.m;
    const q = this.q;
    const u = new Float64Array(m);
    const dZ = new Float64Array(m);
    let stall = 0;
    for (let iter = 0; iter < 500; iter++) {
      this.computeZ();
      const k = this.atoms.length;
      for (let i = 0; i < m; i++) u[i] = q[i] === 0 ? 0 : 1 / this.Z[i];
      // g_a = sum_i q_i w_i(a) / Z_i for every atom of the set.
      const gA = new Float64Array(k);
      for (let a = 0; a < k; a++) {
        let s = 0;
        for (let i = 0; i < m; i++) if (q[i] !== 0) s += q[i] * this.v[a * m + i] * u[i];
        gA[a] = s;
      }
      const P: number[] = [];
      let resid = 0;
      let worst = -1;
      let worstG = 1;
      for (let a = 0; a < k; a++) {
        if (this.p[a] > 0) {
          P.push(a);
          resid = Math.max(resid, Math.abs(gA[a] - 1));
        } else if (gA[a] > worstG) {
          worstG = gA[a];
          worst = a;
        }
      }
      const innerTol = 4e-15 * Math.max(1, m);
      if (resid <= innerTol || stall >= 3) {
        stall = 0;
        if (worst < 0 || worstG - 1 <= innerTol) return;
        // Frank-Wolfe step towards the vertex of the most violating atom.
        for (let i = 0; i < m; i++) dZ[i] = this.v[worst * m + i] - this.Z[i];
        const alpha = this.lineSearch(dZ, 1);
        for (let a = 0; a < k; a++) this.p[a] *= 1 - alpha;
        this.p[worst] += alpha;
        continue;
      }
      // Newton step on P. With c_i = sqrt(q_i) and U[i][a] = c_i w_i(a) / Z_i, the quadratic model
      // g.d - d^T M d / 2 (g = U^T c, M = U^T U, the negated Hessian) equals (|c|^2 - |c - U d|^2) / 2,
      // so the step is the least-squares problem min |U d - c| over sum d = 0. Solving it by
      // pivoted QR works with cond(U) = sqrt(cond(M)) and copes with rank(U) < |P| (neighbouring,
      // nearly collinear atoms; more atoms than groups).
      const s = P.length;
      let ref = 0;
      for (let r = 1; r < s; r++) if (this.p[P[r]] > this.p[P[ref]]) ref = r;
      const cols = s - 1;
      const A = new Float64Array(m * Math.max(cols, 1));
      const colOf: number[] = [];
      for (let r = 0, j = 0; r < s; r++) {
        if (r === ref) continue;
        colOf.push(r);
        for (let i = 0; i < m; i++) {
          const ci = Math.sqrt(q[i]) * u[i];
          A[i * cols + j] = ci * (this.v[P[r] * m + i] - this.v[P[ref] * m + i]);
        }
        j++;
      }
      const c = new Float64Array(m);
      for (let i = 0; i < m; i++) c[i] = Math.sqrt(q[i]);
      const y = cols > 0 ? leastSquares(A, c, m, cols) : new Float64Array(0);
      const d = new Float64Array(s);
      let dRef = 0;
      for (let j = 0; j < cols; j++) { d[colOf[j]] = y[j]; dRef -= y[j]; }
      d[ref] = dRef;
      if (cols === 0) { stall = 3; continue; }
      // Ratio test, then exact line search on [0, aMax].
      let aMax = Infinity;
      for (let r = 0; r < s; r++) if (d[r] < 0) aMax = Math.min(aMax, this.p[P[r]] / -d[r]);
      dZ.fill(0);
      let slope = 0;
      for (let r = 0; r < s; r++) {
        slope += gA[P[r]] * d[r];
        for (let i = 0; i < m; i++) dZ[i] += d[r] * this.v[P[r] * m + i];
      }
      if (!(slope > 0)) { stall = 3; continue; }
      const alpha = this.lineSearch(dZ, Math.min(aMax, 1e6));
      let moved = false;
      for (let r = 0; r < s; r++) {
        const a = P[r];
        const before = this.p[a];
        let after = before + alpha * d[r];
        if (alpha === aMax && d[r] < 0 && this.p[a] / -d[r] === aMax) after = 0;
        if (after < 0) after = 0;
        if (after !== before) moved = true;
        this.p[a] = after;
      }
      let total = 0;
      for (let a = 0; a < k; a++) total += this.p[a];
      for (let a = 0; a < k; a++) this.p[a] /= total;
      stall = moved ? 0 : stall + 1;
    }
  }
}

/**
 * A basic least-squares solution of min |A y - b| for a dense rows x cols matrix A (row-major),
 * by Householder QR with column pivoting; columns beyond the numerical rank get y = 0.
 * Overwrites A and b.
 */
function leastSquares(A: Float64Array, b: Float64Array, rows: number, cols: number): Float64Array {
  const perm = Array.from({ length: cols }, (_, j) => j);
  const norms = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += A[i * cols + j] ** 2;
    norms[j] = s;
  }
  const steps = Math.min(rows, cols);
  let rank = 0;
  let first = 0;
  for (let k = 0; k < steps; k++) {
    // Pivot: the remaining column of largest norm (recomputed exactly to avoid downdating drift).
    let piv = k;
    let best = -1;
    for (let j = k; j < cols; j++) {
      let s = 0;
      for (let i = k; i < rows; i++) s += A[i * cols + j] ** 2;
      norms[j] = s;
      if (s > best) { best = s; piv = j; }
    }
    const colNorm = Math.sqrt(best);
    if (k === 0) first = colNorm;
    if (!(colNorm > 1e-14 * first) || colNorm === 0) break;
    if (piv !== k) {
      for (let i = 0; i < rows; i++) {
        const t = A[i * cols + k]; A[i * cols + k] = A[i * cols + piv]; A[i * cols + piv] = t;
      }
      const t = perm[k]; perm[k] = perm[piv]; perm[piv] = t;
    }
    // Householder vector v = x + sign(x_k) |x| e_k on rows k..rows-1 of column k.
    const akk = A[k * cols + k];
    const alpha = akk >= 0 ? -colNorm : colNorm;
    const v = new Float64Array(rows - k);
    v[0] = akk - alpha;
    for (let i = k + 1; i < rows; i++) v[i - k] = A[i * cols + k];
    let vv = 0;
    for (let i = 0; i < v.length; i++) vv += v[i] * v[i];
    if (vv > 0) {
      for (let j = k; j < cols; j++) {
        let dot = 0;
        for (let i = k; i < rows; i++) dot += v[i - k] * A[i * cols + j];
        const f = (2 * dot) / vv;
        for (let i = k; i < rows; i++) A[i * cols + j] -= f * v[i - k];
      }
      let dot = 0;
      for (let i = k; i < rows; i++) dot += v[i - k] * b[i];
      const f = (2 * dot) / vv;
      for (let i = k; i < rows; i++) b[i] -= f * v[i - k];
    }
    rank = k + 1;
  }
  const z = new Float64Array(cols);
  for (let k = rank - 1; k >= 0; k--) {
    let s = b[k];
    for (let j = k + 1; j < rank; j++) s -= A[k * cols + j] * z[j];
    z[k] = s / A[k * cols + k];
  }
  const y = new Float64Array(cols);
  for (let k = 0; k < cols; k++) y[perm[k]] = z[k];
  return y;
}
