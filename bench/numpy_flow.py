"""NumPy baseline for bench/flow.ts: the flow model's network and optimiser written the way a
NumPy user would (batch-major float32 arrays, matmuls through BLAS on one thread): an MLP
v(x, t) on [x, sin/cos(pi 2^k t) for k < 4], SiLU hidden layers, trained by conditional flow
matching with Adam (PyTorch's update), and the Euler ODE sampler. Reads a JSON config on
argv[1]: {"N", "dim", "hidden", "steps", "batch", "odeSteps", "lr"}; prints JSON
{"train": seconds for `steps` Adam steps, "sample": seconds to draw N points, and the same as
process CPU time, "trainCpu" and "sampleCpu"}, each the least of three runs. Results are
checked (finite loss, finite samples) so nothing is skipped."""
import json
import sys
import time

try:
    import numpy as np
except ImportError:
    print(json.dumps({"skipped": "numpy does not import"}))
    sys.exit(0)

TF = 8


def time_features(t):
    k = np.pi * (2.0 ** np.arange(TF // 2, dtype=np.float32))
    a = t[:, None] * k[None, :]
    return np.concatenate([np.sin(a), np.cos(a)], axis=1).astype(np.float32)


def init(widths, rng):
    layers = []
    for nin, nout in zip(widths[:-1], widths[1:]):
        b = 1.0 / np.sqrt(nin)
        layers.append([rng.uniform(-b, b, (nin, nout)).astype(np.float32), rng.uniform(-b, b, nout).astype(np.float32)])
    return layers


def forward(layers, h):
    cache = []
    for i, (W, b) in enumerate(layers):
        z = h @ W + b
        if i == len(layers) - 1:
            cache.append((h, None, None))
            return z, cache
        s = 1.0 / (1.0 + np.exp(-z))
        cache.append((h, z, s))
        h = z * s
    return h, cache


def train(layers, data, cfg, rng):
    B, dim = cfg["batch"], cfg["dim"]
    lr, b1, b2, eps = cfg["lr"], 0.9, 0.999, 1e-8
    m = [[np.zeros_like(W), np.zeros_like(b)] for W, b in layers]
    v = [[np.zeros_like(W), np.zeros_like(b)] for W, b in layers]
    loss = 0.0
    for step in range(1, cfg["steps"] + 1):
        x1 = data[rng.integers(0, len(data), B)]
        x0 = rng.standard_normal((B, dim), dtype=np.float32)
        t = rng.random(B, dtype=np.float32)
        xt = (1 - t[:, None]) * x0 + t[:, None] * x1
        u = x1 - x0
        out, cache = forward(layers, np.concatenate([xt, time_features(t)], axis=1))
        diff = out - u
        loss = float(np.sum(diff * diff)) / B
        g = diff * np.float32(2.0 / B)
        bc1, bc2 = 1 - b1 ** step, 1 - b2 ** step
        for i in range(len(layers) - 1, -1, -1):
            h, z, s = cache[i]
            W, b = layers[i]
            if z is not None:
                g = g * (s * (1 + z * (1 - s)))
            gW = h.T @ g
            gb = g.sum(axis=0)
            if i > 0:
                g = g @ W.T
            for p, gp, mp, vp in ((W, gW, m[i][0], v[i][0]), (b, gb, m[i][1], v[i][1])):
                mp *= b1
                mp += (1 - b1) * gp
                vp *= b2
                vp += (1 - b2) * gp * gp
                p -= (lr / bc1) * mp / (np.sqrt(vp / bc2) + eps)
    return loss


def sample(layers, cfg, rng):
    n, dim, S = cfg["N"], cfg["dim"], cfg["odeSteps"]
    x = rng.standard_normal((n, dim), dtype=np.float32)
    h = np.float32(1.0 / S)
    for s in range(S):
        tf = np.broadcast_to(time_features(np.array([s / S], dtype=np.float32)), (n, TF))
        v, _ = forward(layers, np.concatenate([x, tf], axis=1))
        x += h * v
    return x


def main():
    cfg = json.loads(sys.argv[1])
    rng = np.random.default_rng(1)
    dim = cfg["dim"]
    widths = [dim + TF, *cfg["hidden"], dim]
    data = (rng.standard_normal((cfg["N"], dim)) * 0.5 + np.where(rng.random((cfg["N"], 1)) < 0.3, -2.0, 2.0)).astype(np.float32)
    layers = init(widths, rng)
    train(layers, data, {**cfg, "steps": 5}, rng)
    out = {}
    for rep in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = train(layers, data, cfg, rng)
        t1, c1 = time.perf_counter(), time.process_time()
        if not np.isfinite(loss):
            raise SystemExit(f"non-finite loss {loss}")
        x = sample(layers, cfg, rng)
        t2, c2 = time.perf_counter(), time.process_time()
        if not np.all(np.isfinite(x)):
            raise SystemExit("non-finite samples")
        for key, v in (("train", t1 - t0), ("trainCpu", c1 - c0), ("sample", t2 - t1), ("sampleCpu", c2 - c1)):
            out[key] = min(out.get(key, v), v)
    print(json.dumps(out))


main()
