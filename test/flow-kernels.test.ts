// The flow network's kernels (assembly/flow.ts) against their f64 twin (src/core/flow-twin.ts):
// the SIMD exp, the forward pass, the loss gradient against central finite differences, one
// Adam step, the exact assignment against brute force, and a sampler that does not depend on
// how its points are chunked.
import { beforeAll, describe, expect, it } from "vitest";
import { createFlowNet, exactAssignment, sequentialIds, type FlowNetSpec } from "../src/core/flow.js";
import { flowLossTwin, flowVelocityTwin, type FlowTwinShape } from "../src/core/flow-twin.js";
import type { Kernels } from "../src/core/kernels.js";
import { loadKernels, rng } from "./helpers.js";

let k: Kernels;
beforeAll(async () => {
  k = await loadKernels();
});

const box2 = new Float64Array([-3, 3, -3, 3]);

function randomBatch(dim: number, B: number, seed: number) {
  const rand = rng(seed);
  const xt = Float64Array.from({ length: B * dim }, () => 4 * rand() - 2);
  const t = Float64Array.from({ length: B }, () => rand());
  const target = Float64Array.from({ length: B * dim }, () => 4 * rand() - 2);
  return { xt, t, target };
}

function netOf(spec: Omit<FlowNetSpec, "ot" | "batch">, seed: number) {
  k.reset();
  const net = createFlowNet(k, { ...spec, batch: 64, ot: false }, spec.dim === 1 ? new Float64Array([-3, 3, 0, 0]) : box2);
  net.init(seed, 7);
  const shape: FlowTwinShape = { dim: spec.dim, hidden: spec.hidden, activation: spec.activation, timeFeatures: net.timeFeatures };
  return { net, shape };
}

const shapes: Omit<FlowNetSpec, "ot" | "batch">[] = [
  { dim: 1, hidden: [7, 5], activation: "silu" },
  { dim: 2, hidden: [16, 12], activation: "silu" },
  { dim: 2, hidden: [9], activation: "tanh" },
  { dim: 1, hidden: [8, 8, 3], activation: "tanh" },
];

describe("flow network kernels", () => {
  it("exp on four f32 lanes is within 4e-7 relative of exp over [-80, 80]", () => {
    let worst = 0;
    for (let x = -80; x <= 80; x += 0.0137) {
      const xf = Math.fround(x);
      const e = Math.abs(k.raw.flowExp4(xf) / Math.exp(xf) - 1);
      if (e > worst) worst = e;
    }
    expect(worst, `worst relative error ${worst}`).toBeLessThan(4e-7);
  });

  for (const s of shapes) {
    const name = `dim ${s.dim}, hidden [${s.hidden}], ${s.activation}`;

    it(`forward pass matches the f64 twin within 2e-5 (${name}, B = 13)`, () => {
      const { net, shape } = netOf(s, 3);
      const { xt, t } = randomBatch(s.dim, 13, 11);
      const v = net.velocity(xt, t);
      const twin = flowVelocityTwin(shape, net.params(), xt, t);
      const scale = Math.max(...twin.map(Math.abs));
      for (let j = 0; j < v.length; j++) expect(Math.abs(v[j] - twin[j]) / scale, `output ${j}: ${v[j]} vs ${twin[j]}`).toBeLessThan(2e-5);
    });

    it(`loss gradient matches central finite differences of the twin's loss (${name})`, () => {
      const { net, shape } = netOf(s, 5);
      const { xt, t, target } = randomBatch(s.dim, 21, 17);
      const { loss, grad } = net.lossGrad(xt, t, target);
      const params = Float64Array.from(net.params());
      expect(Math.abs(loss - flowLossTwin(shape, params, xt, t, target)) / loss).toBeLessThan(1e-5);
      const h = 1e-6;
      let gmax = 0;
      const fd = new Float64Array(params.length);
      for (let j = 0; j < params.length; j++) {
        const keep = params[j];
        params[j] = keep + h;
        const up = flowLossTwin(shape, params, xt, t, target);
        params[j] = keep - h;
        const down = flowLossTwin(shape, params, xt, t, target);
        params[j] = keep;
        fd[j] = (up - down) / (2 * h);
        gmax = Math.max(gmax, Math.abs(fd[j]));
      }
      let worst = 0;
      let at = 0;
      for (let j = 0; j < params.length; j++) {
        const e = Math.abs(grad[j] - fd[j]) / gmax;
        if (e > worst) [worst, at] = [e, j];
      }
      expect(worst, `parameter ${at}: ${grad[at]} vs ${fd[at]} (max |g| ${gmax})`).toBeLessThan(1e-4);
    });
  }

  it("one Adam step follows p -= lr/(1 - b1) m / (sqrt(v / (1 - b2)) + eps) lane by lane, tail included", () => {
    k.reset();
    const P = 11;
    const rand = rng(4);
    const f = () => Float32Array.from({ length: P }, () => 2 * rand() - 1);
    const [p, g, m0, v0] = [f(), f(), f(), f().map(Math.abs)];
    const ptr = (a: Float32Array) => {
      const q = k.allocF64(8);
      new Float32Array(k.raw.memory.buffer, q, P).set(a);
      return q;
    };
    const [pp, gp, mp, vp] = [ptr(p), ptr(g), ptr(m0), ptr(v0)];
    const [lr, b1, b2, eps] = [0.01, 0.9, 0.999, 1e-8];
    k.raw.flowAdam(pp, gp, mp, vp, P, lr, b1, b2, eps, 1 - b1, 1 - b2);
    const out = new Float32Array(k.raw.memory.buffer, pp, P);
    for (let j = 0; j < P; j++) {
      const m = b1 * m0[j] + (1 - b1) * g[j];
      const v = b2 * v0[j] + (1 - b2) * g[j] * g[j];
      const want = p[j] - ((lr / (1 - b1)) * m) / (Math.sqrt(v / (1 - b2)) + eps);
      expect(Math.abs(out[j] - want), `parameter ${j}`).toBeLessThan(1e-6);
    }
  });

  it("the exact assignment reaches the brute-force optimum on random 7 x 7 costs (40 draws) and is a permutation", () => {
    const rand = rng(21);
    const B = 7;
    const perms: number[][] = [];
    const build = (prefix: number[], left: number[]) => {
      if (left.length === 0) perms.push(prefix);
      left.forEach((x, i) => build([...prefix, x], [...left.slice(0, i), ...left.slice(i + 1)]));
    };
    build([], [0, 1, 2, 3, 4, 5, 6]);
    for (let trial = 0; trial < 40; trial++) {
      k.reset();
      const cost = Float64Array.from({ length: B * B }, () => (trial % 2 ? Math.floor(4 * rand()) : rand()));
      const rowOf = exactAssignment(k, cost, B);
      expect([...rowOf].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
      const total = (rows: ArrayLike<number>) => Array.from(rows).reduce((s, r, j) => s + cost[r * B + j], 0);
      const best = Math.min(...perms.map(total));
      expect(total(rowOf) - best, `trial ${trial}`).toBeLessThan(1e-12);
    }
  });

  it("sampled points do not depend on how they are split into calls, stay in the box and differ by tag", () => {
    const { net } = netOf({ dim: 2, hidden: [16, 16], activation: "silu" }, 9);
    const count = 700;
    const box = new Float64Array([-1, 1, -1, 1]);
    k.reset();
    const small = createFlowNet(k, { dim: 2, hidden: [16, 16], activation: "silu", batch: 64, ot: false }, box);
    small.setParams(net.params());
    const out = k.allocF64(2 * count);
    small.sample(sequentialIds(count), "fresh", 1, 2, 8, true, 16, out);
    const whole = k.read(out, 2 * count);
    const ids = sequentialIds(count);
    small.sample(ids.subarray(0, 2 * 300), "fresh", 1, 2, 8, true, 16, out);
    small.sample(ids.subarray(2 * 300), "fresh", 1, 2, 8, true, 16, out + 8 * 2 * 300);
    expect(k.read(out, 2 * count)).toEqual(whole);
    for (const x of whole) expect(Math.abs(x)).toBeLessThanOrEqual(1);
    small.sample(sequentialIds(count), "pool", 1, 2, 8, true, 16, out);
    expect(k.read(out, 2 * count)).not.toEqual(whole);
  });
});
