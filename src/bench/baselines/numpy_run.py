"""NumPy baseline for a whole K = infinity run on a large grid (bench/whole-run.ts times it as a
whole process, against `plurisim run` on the same scenario).

A grid1d of n cells on [-12, 12] (atoms at cell centres), m groups with equal weights and
quadratic rewards r_i = -scale (x - c_i)^2 (centres -1 and 1 for m = 2, else evenly on [-3, 3]),
tau = 1, uniform p_0, T generations of docs/model.md, section 3, written as a careful NumPy user
would: weights hoisted out of the loop, preallocated out= arrays, one pass for the update and one
matrix-vector product for the next Z, NumPy's default BLAS threads. Prints JSON with the final Z
(checked against plurisim's logPartition by the bench) and the loop time.
Usage: python3 numpy_run.py n m T scale
"""
import json
import sys
import time

import numpy as np

n, m, T = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
scale = float(sys.argv[4])
t0 = time.perf_counter()
h = 24.0 / n
x = -12.0 + h * (np.arange(n) + 0.5)
centres = [-1.0, 1.0] if m == 2 else list(np.linspace(-3.0, 3.0, m))
R = np.stack([-scale * (x - c) ** 2 for c in centres])
W = np.exp(R - R.max(axis=1, keepdims=True))
q = np.full(m, 1.0 / m)
p = np.full(n, 1.0 / n)
mult = np.empty(n)
z = W @ p
for _ in range(T):
    np.dot(q / z, W, out=mult)
    np.multiply(p, mult, out=p)
    np.dot(W, p, out=z)
if not np.all(np.isfinite(z)):
    raise SystemExit("non-finite Z")
print(json.dumps({"z": z.tolist(), "mass": float(p.sum()), "loopSeconds": time.perf_counter() - t0, "numpy": np.__version__}))
