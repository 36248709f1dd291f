// Refit kernels of finite-sample retraining (docs/model.md, section 6): one EM pass of a Gaussian
// mixture (E-step responsibilities fused with the M-step sums), the mixture density at the
// atoms, and Gaussian kernel density estimates onto the atoms. The M-step's division, the
// variance floor and the empty-component rule are in src/core/gmm.ts (C numbers, not a loop).
//
// Mixture parameters, C blocks: 1-D [weight, mean, var]; 2-D [weight, mx, my, sxx, sxy, syy].
// Sufficient statistics per component, centred at the component's current mean (so the
// variance does not cancel catastrophically): 1-D [S0, S1, S2] = sum r (1, d, d^2);
// 2-D [S0, Sx, Sy, Sxx, Sxy, Syy].

const LOG_2PI: f64 = 1.8378770664093453;

/** f64 slots per mixture component: 3 (1-D) or 6 (2-D). */
// @ts-ignore: decorator
@inline
function strideOf(dim: i32): i32 {
  return dim == 1 ? 3 : 6;
}

/**
 * One EM pass over N points (point-major, dim 1 or 2), optional point weights pw (0 = all 1):
 * responsibilities under params and their weighted sums into acc (C x stride, overwritten).
 * Components of weight 0 get no responsibility. scratch: 5 C f64. Returns the weighted
 * log-likelihood sum_p pw_p log sum_k w_k N(x_p; mu_k, Sigma_k).
 */
export function emPass(points: usize, pw: usize, N: i32, dim: i32, C: i32, params: usize, acc: usize, scratch: usize): f64 {
  const st = strideOf(dim);
  const lk = scratch + (<usize>(4 * C) << 3);
  // Per component: [logc, a, b, c]: log-density = logc - (a dx^2 + 2 b dx dy + c dy^2) / 2.
  for (let k = 0; k < C; k++) {
    const p = params + ((<usize>(k * st)) << 3);
    const c = scratch + ((<usize>(4 * k)) << 3);
    const wk = load<f64>(p);
    if (dim == 1) {
      const v = load<f64>(p, 16);
      store<f64>(c, wk > 0 ? Math.log(wk) - 0.5 * (LOG_2PI + Math.log(v)) : -Infinity);
      store<f64>(c, 1.0 / v, 8);
    } else {
      const sxx = load<f64>(p, 24), sxy = load<f64>(p, 32), syy = load<f64>(p, 40);
      const det = sxx * syy - sxy * sxy;
      store<f64>(c, wk > 0 ? Math.log(wk) - LOG_2PI - 0.5 * Math.log(det) : -Infinity);
      store<f64>(c, syy / det, 8);
      store<f64>(c, -sxy / det, 16);
      store<f64>(c, sxx / det, 24);
    }
  }
  memory.fill(acc, 0, <usize>(C * st) << 3);
  let ll: f64 = 0;
  for (let i = 0; i < N; i++) {
    const x = load<f64>(points + ((<usize>(i * dim)) << 3));
    const y = dim == 2 ? load<f64>(points + ((<usize>(i * dim)) << 3), 8) : 0.0;
    const weight = pw == 0 ? 1.0 : load<f64>(pw + (<usize>i << 3));
    if (weight == 0) continue;
    let hi = -Infinity;
    for (let k = 0; k < C; k++) {
      const c = scratch + ((<usize>(4 * k)) << 3);
      const logc = load<f64>(c);
      let l = -Infinity;
      if (logc > -Infinity) {
        const dx = x - load<f64>(params + ((<usize>(k * st)) << 3), 8);
        if (dim == 1) l = logc - 0.5 * dx * dx * load<f64>(c, 8);
        else {
          const dy = y - load<f64>(params + ((<usize>(k * st)) << 3), 16);
          l = logc - 0.5 * (load<f64>(c, 8) * dx * dx + 2.0 * load<f64>(c, 16) * dx * dy + load<f64>(c, 24) * dy * dy);
        }
      }
      store<f64>(lk + (<usize>k << 3), l);
      hi = max(hi, l);
    }
    let sum: f64 = 0;
    for (let k = 0; k < C; k++) {
      const e = Math.exp(load<f64>(lk + (<usize>k << 3)) - hi);
      store<f64>(lk + (<usize>k << 3), e);
      sum += e;
    }
    ll += weight * (hi + Math.log(sum));
    const inv = weight / sum;
    for (let k = 0; k < C; k++) {
      const r = load<f64>(lk + (<usize>k << 3)) * inv;
      if (r == 0) continue;
      const p = params + ((<usize>(k * st)) << 3);
      const a = acc + ((<usize>(k * st)) << 3);
      const dx = x - load<f64>(p, 8);
      store<f64>(a, load<f64>(a) + r);
      if (dim == 1) {
        store<f64>(a, load<f64>(a, 8) + r * dx, 8);
        store<f64>(a, load<f64>(a, 16) + r * dx * dx, 16);
      } else {
        const dy = y - load<f64>(p, 16);
        store<f64>(a, load<f64>(a, 8) + r * dx, 8);
        store<f64>(a, load<f64>(a, 16) + r * dy, 16);
        store<f64>(a, load<f64>(a, 24) + r * dx * dx, 24);
        store<f64>(a, load<f64>(a, 32) + r * dx * dy, 32);
        store<f64>(a, load<f64>(a, 40) + r * dy * dy, 40);
      }
    }
  }
  return ll;
}

/** Mixture density sum_k w_k N(a_x; mu_k, Sigma_k) at the n atoms (atom-major coords) into out; returns its sum. */
export function gmmDensity(atoms: usize, n: i32, dim: i32, C: i32, params: usize, out: usize): f64 {
  const st = strideOf(dim);
  memory.fill(out, 0, <usize>n << 3);
  for (let k = 0; k < C; k++) {
    const p = params + ((<usize>(k * st)) << 3);
    const wk = load<f64>(p);
    if (!(wk > 0)) continue;
    const mx = load<f64>(p, 8);
    if (dim == 1) {
      const v = load<f64>(p, 16);
      const c = wk / Math.sqrt(6.283185307179586 * v);
      const h = -0.5 / v;
      for (let x = 0; x < n; x++) {
        const d = load<f64>(atoms + (<usize>x << 3)) - mx;
        const o = out + (<usize>x << 3);
        store<f64>(o, load<f64>(o) + c * Math.exp(h * d * d));
      }
    } else {
      const my = load<f64>(p, 16);
      const sxx = load<f64>(p, 24), sxy = load<f64>(p, 32), syy = load<f64>(p, 40);
      const det = sxx * syy - sxy * sxy;
      const c = wk / (6.283185307179586 * Math.sqrt(det));
      const a = syy / det, b = -sxy / det, e = sxx / det;
      for (let x = 0; x < n; x++) {
        const dx = load<f64>(atoms + (<usize>(2 * x) << 3)) - mx;
        const dy = load<f64>(atoms + (<usize>(2 * x) << 3), 8) - my;
        const o = out + (<usize>x << 3);
        store<f64>(o, load<f64>(o) + c * Math.exp(-0.5 * (a * dx * dx + 2.0 * b * dx * dy + e * dy * dy)));
      }
    }
  }
  let sum: f64 = 0;
  for (let x = 0; x < n; x++) sum += load<f64>(out + (<usize>x << 3));
  return sum;
}

// A Gaussian kernel term is exactly 0 in f64 beyond 40 bandwidths (exp(-800) underflows), so
// the grid kernels below visit only the cells within 40 h of a point: the same sums as the
// full double loop, in the same order per atom.
const CUTOFF: f64 = 40.0;

/**
 * Unnormalised Gaussian KDE on a regular 1-D grid: out[x] = sum_p exp(-(a_x - p)^2 / (2 h^2)),
 * a_x the atom coords (first centre x0, spacing dx). Returns sum_x out[x].
 */
export function kdeGrid1d(points: usize, N: i32, h: f64, atoms: usize, n: i32, x0: f64, dx: f64, out: usize): f64 {
  memory.fill(out, 0, <usize>n << 3);
  const reach = CUTOFF * h;
  const c = -0.5 / (h * h);
  for (let i = 0; i < N; i++) {
    const p = load<f64>(points + (<usize>i << 3));
    const lo = <i32>max(0.0, Math.floor((p - reach - x0) / dx) - 1);
    const hi = <i32>min(<f64>(n - 1), Math.ceil((p + reach - x0) / dx) + 1);
    for (let x = lo; x <= hi; x++) {
      const d = load<f64>(atoms + (<usize>x << 3)) - p;
      const o = out + (<usize>x << 3);
      store<f64>(o, load<f64>(o) + Math.exp(c * (d * d)));
    }
  }
  let sum: f64 = 0;
  for (let x = 0; x < n; x++) sum += load<f64>(out + (<usize>x << 3));
  return sum;
}

/**
 * Unnormalised Gaussian KDE on a regular 2-D grid (cx x cy cells, atom = ix cy + iy), by
 * separability: each point adds the outer product of its x and y kernel rows. xs, ys: the
 * cell centres along each axis. scratch: cx + cy f64. Returns sum_x out[x].
 */
export function kdeGrid2d(
  points: usize, N: i32, h: f64,
  xs: usize, cx: i32, x0: f64, dx: f64, ys: usize, cy: i32, y0: f64, dy: f64,
  scratch: usize, out: usize,
): f64 {
  const n = cx * cy;
  memory.fill(out, 0, <usize>n << 3);
  const reach = CUTOFF * h;
  const c = -0.5 / (h * h);
  const kx = scratch;
  const ky = scratch + (<usize>cx << 3);
  for (let i = 0; i < N; i++) {
    const px = load<f64>(points + (<usize>(2 * i) << 3));
    const py = load<f64>(points + (<usize>(2 * i) << 3), 8);
    const xlo = <i32>max(0.0, Math.floor((px - reach - x0) / dx) - 1);
    const xhi = <i32>min(<f64>(cx - 1), Math.ceil((px + reach - x0) / dx) + 1);
    const ylo = <i32>max(0.0, Math.floor((py - reach - y0) / dy) - 1);
    const yhi = <i32>min(<f64>(cy - 1), Math.ceil((py + reach - y0) / dy) + 1);
    for (let a = xlo; a <= xhi; a++) {
      const d = load<f64>(xs + (<usize>a << 3)) - px;
      store<f64>(kx + (<usize>a << 3), Math.exp(c * (d * d)));
    }
    for (let b = ylo; b <= yhi; b++) {
      const d = load<f64>(ys + (<usize>b << 3)) - py;
      store<f64>(ky + (<usize>b << 3), Math.exp(c * (d * d)));
    }
    for (let a = xlo; a <= xhi; a++) {
      const ka = load<f64>(kx + (<usize>a << 3));
      if (ka == 0) continue;
      const row = out + ((<usize>(a * cy)) << 3);
      for (let b = ylo; b <= yhi; b++) {
        const o = row + (<usize>b << 3);
        store<f64>(o, load<f64>(o) + ka * load<f64>(ky + (<usize>b << 3)));
      }
    }
  }
  let sum: f64 = 0;
  for (let x = 0; x < n; x++) sum += load<f64>(out + (<usize>x << 3));
  return sum;
}

/** Unnormalised Gaussian KDE at arbitrary atoms (atom-major coords, dim 1 or 2), all pairs. Returns the sum. */
export function kdeAtoms(points: usize, N: i32, h: f64, atoms: usize, n: i32, dim: i32, out: usize): f64 {
  const c = -0.5 / (h * h);
  let sum: f64 = 0;
  for (let x = 0; x < n; x++) {
    const ax = load<f64>(atoms + (<usize>(x * dim) << 3));
    const ay = dim == 2 ? load<f64>(atoms + (<usize>(x * dim) << 3), 8) : 0.0;
    let s: f64 = 0;
    for (let i = 0; i < N; i++) {
      const dx = load<f64>(points + (<usize>(i * dim) << 3)) - ax;
      const dy = dim == 2 ? load<f64>(points + (<usize>(i * dim) << 3), 8) - ay : 0.0;
      s += Math.exp(c * (dx * dx + dy * dy));
    }
    store<f64>(out + (<usize>x << 3), s);
    sum += s;
  }
  return sum;
}
