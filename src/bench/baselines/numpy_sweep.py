"""NumPy baseline for the table5 sweep preset (bench/sweep.ts runs it as a whole process).

The same grid as `plurisim sweep table5` (docs/model.md, section 5): 3001 cells on [-12, 12] with
atoms at cell centres, r_1 = -(x + D/2)^2, r_2 = -(x - D/2)^2, tau = 1, K = infinity, uniform
p_0, 400 generations, eps = 0.1, q = 0.1..0.9, D in {1, 2, 3, 5}: one Python loop over cells,
each a vectorised K = infinity update with preallocated out= arrays (docs/model.md, section 3).
Prints JSON: per D the mean over q of (a_400 - q)^2, and the wall time of the loop.
Usage: python3 src/bench/baselines/numpy_sweep.py [--grid centres|linspace]
"""
import json
import sys
import time

import numpy as np


def table5(grid="centres", n=3001, T=400, eps=0.1, Ds=(1, 2, 3, 5), nq=9):
    if grid == "centres":
        h = 24.0 / n
        x = -12.0 + h * (np.arange(n) + 0.5)
    else:
        x = np.linspace(-12.0, 12.0, n)
    qs = np.linspace(0.1, 0.9, nq)
    out = []
    p = np.empty(n)
    tmp = np.empty(n)
    acc = np.empty(n)
    for D in Ds:
        r1 = -(x + D / 2) ** 2
        r2 = -(x - D / 2) ** 2
        w1 = np.exp(r1 - r1.max())
        w2 = np.exp(r2 - r2.max())
        S1 = r1 >= r1.max() - eps
        devs = []
        for q in qs:
            p.fill(1.0 / n)
            for _ in range(T):
                Z1 = p @ w1
                Z2 = p @ w2
                np.multiply(w1, q / Z1, out=acc)
                np.multiply(w2, (1 - q) / Z2, out=tmp)
                np.add(acc, tmp, out=acc)
                np.multiply(p, acc, out=p)
                p /= p.sum()
            devs.append((p[S1].sum() - q) ** 2)
        out.append({"D": D, "meanSquaredDeviation": float(np.mean(devs))})
    return out


if __name__ == "__main__":
    grid = sys.argv[sys.argv.index("--grid") + 1] if "--grid" in sys.argv else "centres"
    t0 = time.perf_counter()
    nq = int(sys.argv[sys.argv.index("--q") + 1]) if "--q" in sys.argv else 9
    rows = table5(grid, nq=nq)
    print(json.dumps({"grid": grid, "cells": 4 * nq, "rows": rows, "loopSeconds": time.perf_counter() - t0, "numpy": np.__version__}))
