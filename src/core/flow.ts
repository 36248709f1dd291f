// The flow model's network on the Wasm side (assembly/flow.ts): a small MLP vector field
// v_theta(x, t) on inputs x and sinusoidal features of t, trained by conditional flow
// matching with Adam and sampled by integrating dx/dt = v_theta(x, t) from t = 0 to 1.
// This file allocates its buffers in the kernels' arena and asks the kernels for their sizes;
// it never computes an offset inside them.
import type { Kernels } from "./kernels.js";

/** Adam's moment decay rates and epsilon (Kingma and Ba's defaults). */
export const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

/** Points integrated at once by the sampler (columns of one forward pass). */
export const SAMPLE_CHUNK = 512;

export interface FlowNetSpec {
  dim: 1 | 2;
  /** Hidden layer widths, each >= 1. */
  hidden: number[];
  activation: "silu" | "tanh";
  /** Training minibatch size B. */
  batch: number;
  /** Minibatch optimal-transport coupling of source noise and data (needs B <= 256 in 2-D). */
  ot: boolean;
}

/** Which noise counter a batch of sampled points uses (candidates, fresh metric samples, the K = infinity pool). */
export type SampleTag = "candidate" | "fresh" | "pool";

export interface FlowNet {
  readonly spec: FlowNetSpec;
  /** Number of f32 parameters. */
  readonly paramCount: number;
  /** Sinusoidal time features the network reads besides x. */
  readonly timeFeatures: number;
  /** Initialises the weights from the Philox block of (seed, stream) and clears Adam's moments. */
  init(seed: number, stream: number): void;
  /** Clears Adam's moments (a fresh optimiser on the current weights). */
  resetOptimiser(): void;
  /**
   * Runs `steps` Adam steps (numbered from step0: Adam's bias correction counts from 1 at
   * step 0) on the N points at dataPtr (f64 point-major); returns the losses, shorter than
   * steps when one is not finite (that loss is the last entry).
   */
  train(dataPtr: number, N: number, seed: number, stream: number, step0: number, steps: number, lr: number): Float64Array;
  /**
   * Draws count points into outPtr (f64 point-major): point q starts from the noise of Philox
   * counter (ids[2q], ids[2q + 1], tag, attempt); outside the box a point is redrawn up to
   * maxAttempts times, then clamped. Returns the number clamped, or -1 if a point is not finite.
   */
  sample(ids: Int32Array, tag: SampleTag, seed: number, stream: number, odeSteps: number, heun: boolean, maxAttempts: number, outPtr: number): number;
  /** The loss of one batch (x_t and target point-major, B x dim) and its gradient, as the trainer computes them. */
  lossGrad(xt: Float64Array, t: Float64Array, target: Float64Array): { loss: number; grad: Float32Array };
  /** The network's velocity v(x_t, t) at B points (point-major in, point-major out), in the network's normalised coordinates. */
  velocity(xt: Float64Array, t: Float64Array): Float64Array;
  /** The field dx/dt = v(x, t) at points of the box (point-major), in the box's coordinates: for drawing. */
  fieldAt(points: Float64Array, t: number): Float64Array;
  /** A copy of the parameters (f32). */
  params(): Float32Array;
  /** Overwrites the parameters. */
  setParams(p: Float32Array): void;
}

/**
 * The network of spec with its buffers allocated in the kernels' arena now. Coordinates enter
 * the network normalised by frame: (x_d - centre_d) / scale_d, so that the N(0, I) source
 * covers the box.
 */
export function createFlowNet(kernels: Kernels, spec: FlowNetSpec, box: Float64Array): FlowNet {
  const raw = kernels.raw;
  const { dim } = spec;
  const TF = raw.flowTimeFeatures();
  const widths = [dim + TF, ...spec.hidden, dim];
  const descWords = [dim, spec.activation === "silu" ? 0 : 1, widths.length - 1, ...widths];
  const desc = kernels.allocU8(4 * descWords.length);
  new Int32Array(raw.memory.buffer, desc, descWords.length).set(descWords);
  const P = raw.flowParamCount(desc);
  // f32 buffers, rounded to whole f64 slots of the arena.
  const f32 = (count: number) => kernels.allocF64(Math.ceil(count / 2) + 2);
  const params = f32(P);
  const grads = f32(P);
  const m = f32(P);
  const v = f32(P);
  const cap = Math.max(spec.batch, SAMPLE_CHUNK);
  const work = kernels.allocU8(raw.flowWorkBytes(desc, cap, spec.ot ? 1 : 0));
  const frame = kernels.allocF64(4);
  // The box maps to [-3, 3] in each coordinate.
  const frameValues = [(box[0] + box[1]) / 2, (box[1] - box[0]) / 6, (box[2] + box[3]) / 2, (box[3] - box[2]) / 6];
  if (dim === 1) frameValues.splice(2, 2, 0, 1);
  kernels.write(frame, frameValues);
  const boxPtr = kernels.allocF64(4);
  kernels.write(boxPtr, box);
  let lossPtr = 0;
  let lossCap = 0;
  let idsPtr = 0;
  let pendPtr = 0;
  let idsCap = 0;
  const tags: Record<SampleTag, number> = { candidate: raw.flowTag(0), fresh: raw.flowTag(1), pool: raw.flowTag(2) };

  // Copies a batch into the network's input rows (the typed-array level, for tests, tools and
  // drawing the field), through buffers allocated on first use and kept.
  let xp = 0;
  let tp = 0;
  let up = 0;
  let vp = 0;
  const batchIn = (xt: Float64Array, t: Float64Array, target: Float64Array): void => {
    const B = t.length;
    if (B < 1 || B > cap || xt.length !== B * dim || target.length !== B * dim) throw new RangeError(`a batch needs 1 to ${cap} points of dimension ${dim}`);
    if (xp === 0) {
      xp = kernels.allocF64(cap * dim);
      tp = kernels.allocF64(cap);
      up = kernels.allocF64(cap * dim);
      vp = kernels.allocF64(cap * dim);
    }
    kernels.write(xp, xt);
    kernels.write(tp, t);
    kernels.write(up, target);
    raw.flowSetBatch(desc, work, B, xp, tp, up);
  };

  return {
    spec,
    paramCount: P,
    timeFeatures: TF,
    init(seed, stream) {
      raw.flowInit(desc, params, seed >>> 0, stream >>> 0);
      raw.flowZero(grads, P);
      this.resetOptimiser();
    },
    resetOptimiser() {
      raw.flowZero(m, P);
      raw.flowZero(v, P);
    },
    train(dataPtr, N, seed, stream, step0, steps, lr) {
      if (steps > lossCap) {
        lossPtr = kernels.allocF64(steps);
        lossCap = steps;
      }
      const done = raw.flowTrainSteps(desc, params, grads, m, v, P, work, spec.batch, dataPtr, N, frame, seed >>> 0, stream >>> 0, step0, steps, lr, ADAM.beta1, ADAM.beta2, ADAM.eps, spec.ot ? 1 : 0, lossPtr);
      return kernels.read(lossPtr, done < steps ? done + 1 : steps);
    },
    sample(ids, tag, seed, stream, odeSteps, heun, maxAttempts, outPtr) {
      const count = ids.length / 2;
      if (count > idsCap) {
        idsPtr = kernels.allocU8(8 * count);
        pendPtr = kernels.allocU8(4 * count);
        idsCap = count;
      }
      new Int32Array(raw.memory.buffer, idsPtr, ids.length).set(ids);
      return raw.flowSamplePoints(desc, params, work, SAMPLE_CHUNK, frame, seed >>> 0, stream >>> 0, tags[tag], idsPtr, count, odeSteps, heun ? 1 : 0, boxPtr, maxAttempts, pendPtr, outPtr);
    },
    lossGrad(xt, t, target) {
      const B = t.length;
      batchIn(xt, t, target);
      const loss = raw.flowLossGrad(desc, params, grads, work, B);
      return { loss, grad: new Float32Array(raw.memory.buffer, grads, P).slice() };
    },
    velocity(xt, t) {
      const B = t.length;
      batchIn(xt, t, new Float64Array(xt.length));
      raw.flowVelocityOf(desc, params, work, B, vp);
      return kernels.read(vp, B * dim);
    },
    fieldAt(points, t) {
      const count = points.length / dim;
      const out = new Float64Array(points.length);
      for (let a = 0; a < count; a += cap) {
        const b = Math.min(count, a + cap);
        const z = points.slice(a * dim, b * dim);
        for (let j = 0; j < z.length; j++) z[j] = (z[j] - frameValues[2 * (j % dim)]) / frameValues[2 * (j % dim) + 1];
        const v = this.velocity(z, new Float64Array(b - a).fill(t));
        for (let j = 0; j < v.length; j++) out[a * dim + j] = v[j] * frameValues[2 * (j % dim) + 1];
      }
      return out;
    },
    params: () => new Float32Array(raw.memory.buffer, params, P).slice(),
    setParams(p) {
      new Float32Array(raw.memory.buffer, params, P).set(p);
    },
  };
}

/** Counter ids (c0, c1) = (j, 0) of points j < count, for sample(). */
export function sequentialIds(count: number): Int32Array {
  const ids = new Int32Array(2 * count);
  for (let j = 0; j < count; j++) ids[2 * j] = j;
  return ids;
}

/**
 * The exact assignment of a B x B cost matrix (row-major): rowOf[j] is the row matched to
 * column j, minimising sum_j cost[rowOf[j]][j]. Allocates in the kernels' arena.
 */
export function exactAssignment(kernels: Kernels, cost: Float64Array, B: number): Int32Array {
  const c = kernels.allocF64(B * B);
  kernels.write(c, cost);
  const scratch = kernels.allocU8(3 * 8 * (B + 1) + 3 * 4 * (B + 1) + 96);
  const rowOf = kernels.allocU8(4 * B);
  kernels.raw.flowAssign(c, B, scratch, rowOf);
  return new Int32Array(kernels.raw.memory.buffer, rowOf, B).slice();
}
