"""Kernel benchmarks: each GEMM shape of the workloads, float32 and float64."""

import numpy as np

from fastmlp._kernels.gemm import gemm_work_size, matmul_nn, matmul_nt, matmul_tn

# (op, M, N, K): W3's forward, input-gradient and weight-gradient products at
# batch 128, W1's at batch 200, and a batch-1 row.
SHAPES = [
    ("nn", 128, 512, 784),
    ("nt", 128, 784, 512),
    ("tn", 784, 512, 128),
    ("nn", 200, 100, 64),
    ("tn", 64, 100, 200),
    ("nn", 1, 100, 64),
]


class Gemm:
    params = ([f"{op} {m}x{n}x{k}" for op, m, n, k in SHAPES], ["float32", "float64"])
    param_names = ["shape", "dtype"]

    def setup(self, shape, dtype):
        op, dims = shape.split()
        M, N, K = (int(d) for d in dims.split("x"))
        rng = np.random.default_rng(0)
        self.op = op
        self.C = np.empty((M, N), dtype=dtype)
        if op == "nn":
            self.A, self.B = rng.random((M, K)), rng.random((K, N))
        elif op == "nt":
            self.A, self.B = rng.random((M, K)), rng.random((N, K))
        else:
            self.A, self.B = rng.random((K, M)), rng.random((K, N))
        self.A = self.A.astype(dtype)
        self.B = self.B.astype(dtype)
        self.work = np.empty(gemm_work_size(M, N, K), dtype=dtype)
        self.time_product(shape, dtype)  # compile outside the timing

    def time_product(self, shape, dtype):
        if self.op == "nn":
            matmul_nn(
                self.C, self.A, self.B, np.bool_(False), self.work, 0, self.C.shape[1]
            )
        elif self.op == "nt":
            matmul_nt(self.C, self.A, self.B, self.work, 0, self.C.shape[1])
        else:
            matmul_tn(self.C, self.A, self.B, self.work, 0, self.C.shape[1])
