// Plain-TypeScript twin of the flow network (assembly/flow.ts) in f64, for the kernel tests:
// the same layout of parameters (per layer W row-major, then b), the same sinusoidal time
// features, the same loss. Not used by the engine.

/** Network shape: dim inputs plus timeFeatures, the hidden widths, dim outputs. */
export interface FlowTwinShape {
  dim: 1 | 2;
  hidden: number[];
  activation: "silu" | "tanh";
  timeFeatures: number;
}

function timeFeatures(t: number, count: number): number[] {
  const f: number[] = [];
  for (let k = 0; 2 * k < count; k++) f.push(Math.sin(Math.PI * 2 ** k * t), Math.cos(Math.PI * 2 ** k * t));
  return f;
}

/** v(x_t, t) for B points (point-major in and out). */
export function flowVelocityTwin(shape: FlowTwinShape, params: ArrayLike<number>, xt: Float64Array, t: Float64Array): Float64Array {
  const { dim } = shape;
  const widths = [dim + shape.timeFeatures, ...shape.hidden, dim];
  const B = t.length;
  const out = new Float64Array(B * dim);
  for (let b = 0; b < B; b++) {
    let a = [...Array.from(xt.subarray(b * dim, (b + 1) * dim)), ...timeFeatures(t[b], shape.timeFeatures)];
    let off = 0;
    for (let l = 0; l < widths.length - 1; l++) {
      const nin = widths[l], nout = widths[l + 1];
      const z = new Array<number>(nout);
      for (let o = 0; o < nout; o++) {
        let s = params[off + nin * nout + o];
        for (let i = 0; i < nin; i++) s += params[off + o * nin + i] * a[i];
        z[o] = s;
      }
      off += nin * nout + nout;
      const last = l === widths.length - 2;
      a = last ? z : z.map((v) => (shape.activation === "silu" ? v / (1 + Math.exp(-v)) : Math.tanh(v)));
    }
    for (let d = 0; d < dim; d++) out[b * dim + d] = a[d];
  }
  return out;
}

/** The flow-matching loss (1/B) sum_b |v(x_t, t)_b - target_b|^2. */
export function flowLossTwin(shape: FlowTwinShape, params: ArrayLike<number>, xt: Float64Array, t: Float64Array, target: Float64Array): number {
  const v = flowVelocityTwin(shape, params, xt, t);
  let loss = 0;
  for (let k = 0; k < v.length; k++) loss += (v[k] - target[k]) ** 2;
  return loss / t.length;
}
