"""NumPy baselines for bench/kernels.ts: the K = infinity step and a vectorised trapezoid of the
finite-K integral on the same node set (docs/model.md, section 3). Reads a JSON config on argv[1],
prints JSON {case: seconds per call}. Preallocated out= arrays; every timed call's result is
checked so nothing is skipped."""
import json
import sys
import time

try:
    import numpy as np
except ImportError:
    print(json.dumps({"skipped": "numpy does not import"}))
    sys.exit(0)


def best_time(fn, min_time=0.3, max_reps=200):
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < min_time and len(times) < max_reps):
        t0 = time.perf_counter()
        s = fn()
        times.append(time.perf_counter() - t0)
        if not np.isfinite(s):
            raise RuntimeError("non-finite result")
    return float(np.mean(times))


def kinf_case(n, m, rng):
    x = np.linspace(-12, 12, n)
    centres = np.linspace(-3, 3, m)
    W = np.exp(-((x[None, :] - centres[:, None]) ** 2))
    p = np.full(n, 1.0 / n)
    c = rng.random(m) + 0.5
    mult = np.empty(n)
    out = np.empty(n)
    z = np.empty(m)

    def step():
        np.dot(c, W, out=mult)
        np.multiply(p, mult, out=out)
        np.dot(W, out, out=z)
        return out.sum() + z[0]

    return best_time(step, min_time=0.3 if n <= 10**6 else 1.0)


def finitek_case(n, K, centres, q):
    x = np.linspace(-12, 12, n)
    W = np.exp(-((x[None, :] - np.array(centres)[:, None]) ** 2))
    p = np.full(n, 1.0 / n)
    h = np.log(2) / 3
    # The node set of the kernel (src/core/twins.ts): u_j = u0 2^(j/3) up to its stopping rule.
    nodes = []
    for i in range(len(centres)):
        w = W[i]
        u0 = 2.0**-56 / (K * w.max())
        wmin = w[w > 0].min()
        j = 0
        while j < 27 * 151:
            u = u0 * 2 ** (j / 3)
            phi = float(p @ np.exp(-u * w))
            j += 1
            if phi**K < 2.0**-1000 or u * wmin > 708:
                break
        nodes.append(u0 * 2 ** (np.arange(j) / 3))
    E = [np.empty((len(u), n)) for u in nodes]
    A = [np.empty((len(u), n)) for u in nodes]
    out = np.empty(n)
    mult = np.empty(n)
    acc = np.empty(n)

    def step():
        mult[:] = 0
        for i in range(len(centres)):
            u = nodes[i]
            np.multiply(u[:, None], W[i][None, :], out=A[i])
            np.negative(A[i], out=A[i])
            np.exp(A[i], out=E[i])
            phi = E[i] @ p
            g = h * u * phi ** (K - 1)
            np.dot(g, E[i], out=acc)
            mult[:] += q[i] * K * W[i] * acc
        np.multiply(p, mult, out=out)
        return out.sum()

    return best_time(step, min_time=1.0), [len(u) for u in nodes]


def main():
    cfg = json.loads(sys.argv[1])
    rng = np.random.default_rng(1)
    res = {}
    for n, m in cfg["kinf"]:
        res[f"kinf:n={n},m={m}"] = kinf_case(n, m, rng)
    fk = cfg["finitek"]
    t, nodes = finitek_case(fk["n"], fk["K"], fk["centres"], fk["q"])
    res[f"finitek:n={fk['n']},K={fk['K']},m={len(fk['centres'])}"] = t
    res["_numpy"] = np.__version__
    res["_finitek_nodes"] = nodes
    print(json.dumps(res))


main()
