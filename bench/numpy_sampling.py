"""NumPy baseline for bench/sampling.ts: one generation of histogram curation, vectorised.
Per curated sample: a group drawn with probability q_i, K candidates drawn from p (inverse CDF
by searchsorted, NumPy's idiom; rng.choice does the same), one kept with probability
w_i(x_k) / sum_j w_i(x_j) (cumulative weights), then the histogram of kept atoms (bincount).
Reads a JSON config on argv[1]: {"n", "centres", "q", "cases": [[K, Ncur], ...]}; prints JSON
{"curate:n=..,K=..,Ncur=..": seconds per generation}. Every result is checked (the counts sum
to Ncur) so nothing is skipped."""
import json
import sys
import time

try:
    import numpy as np
except ImportError:
    print(json.dumps({"skipped": "numpy does not import"}))
    sys.exit(0)


def mean_time(fn, min_time=0.5, max_reps=50):
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < min_time and len(times) < max_reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.mean(times))


def main():
    cfg = json.loads(sys.argv[1])
    n = cfg["n"]
    x = np.linspace(-12, 12, n)
    centres = np.array(cfg["centres"])
    W = np.exp(-((x[None, :] - centres[:, None]) ** 2))
    q = np.array(cfg["q"])
    qcum = np.cumsum(q)
    p = np.exp(-(x ** 2) / 32)
    p /= p.sum()
    rng = np.random.default_rng(1)
    out = {}
    for K, ncur in cfg["cases"]:
        rows = np.arange(ncur)

        def generation():
            cdf = np.cumsum(p)
            g = np.minimum(np.searchsorted(qcum, rng.random(ncur), side="right"), len(q) - 1)
            cand = np.searchsorted(cdf, rng.random((ncur, K)) * cdf[-1], side="right")
            np.minimum(cand, n - 1, out=cand)
            cum = np.cumsum(W[g[:, None], cand], axis=1)
            t = rng.random(ncur) * cum[:, -1]
            k = (cum <= t[:, None]).sum(axis=1)
            np.minimum(k, K - 1, out=k)
            counts = np.bincount(cand[rows, k], minlength=n)
            if counts.sum() != ncur:
                raise RuntimeError("lost samples")
            return counts

        out[f"curate:n={n},K={K},Ncur={ncur}"] = mean_time(generation)
    print(json.dumps(out))


main()
