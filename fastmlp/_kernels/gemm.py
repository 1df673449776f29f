"""Matrix products for the three shapes an MLP needs.

    forward          U  = H  @ W      matmul_nn(C, A, B, accumulate, work, j0, j1)
    input gradient   dH = dU @ W.T    matmul_nt(C, A, B, work, j0, j1)
    weight gradient  dW = H.T @ dU    matmul_tn(C, A, B, work, j0, j1)

Each computes columns j0..j1-1 of C only (0 and C.shape[1]: the whole product),
every element by the same operations as the whole product, bit for bit
(tests/kernels/test_gemm.py), so a product can be divided into column tiles
among threads without changing a result.

All arrays are C-contiguous and share one dtype (float32 or float64). ``work`` is
a 1-D scratch buffer of that dtype with at least ``gemm_work_size(M, N, K)``
elements, allocated once per fit. Every kernel here is serial: the training
loop runs whole row chunks of a batch, or (layer phases, loop.py) column tiles
of a chunk's products, on each thread, and prediction whole row blocks, in one
parallel region per call (network.py), so no GEMM opens a parallel region of
its own. Each output element is computed by exactly one fixed sequence of
operations, whatever the thread that runs it.

``gemm_naive`` is the reference (and the fallback the tests compare against).

How the fast path works (GotoBLAS / BLIS structure, cut down to what an MLP needs)
---------------------------------------------------------------------------------
The only code that does arithmetic is ``_ukr``, a micro-kernel written directly
in LLVM IR (a Numba ``@intrinsic``). It computes one MR x NR tile of C,

    C[i0:i0+MR, j0:j0+NR] (+)= A[i0:i0+MR, k0:k0+kc] @ Bp[k0:k0+kc, 0:NR]

with MR = 8 rows and NR = 2 SIMD vectors (2 x 16 float32 or 2 x 8 float64, i.e.
two 512-bit registers per row). The 16 accumulators stay in zmm registers for the
whole k loop; per k it loads the two B vectors once, then for each of the 8 rows
broadcasts one A scalar and issues 2 ``llvm.fma``: 16 FMAs for 2 vector loads and
8 scalar broadcasts, so the loop is bound by FMA throughput, not by loads.
LLVM's auto-vectoriser gets only about half of this from plain loops (anchors),
because it keeps C in memory and does not hold a 2-D register tile.

A is read in place through two strides (row stride ``rsa``, k stride ``csa``), so
the same kernel does A @ B (rsa=K, csa=1) and A.T @ B (rsa=1, csa=M) without
packing A: its 8 scalars per k come from at most 8 cache lines that stay in L1
for 16 consecutive k.

B is packed once per call into ``work`` as column panels of width NR, each panel
K x NR contiguous and zero-padded on the right, so the micro-kernel streams it
with unit stride (no 4K aliasing between rows of B, no masked loads, no TLB walks
down a column). A @ B.T packs B transposed into the same layout, after which it
is the same product. Packing costs about K*N copies against M*K*N FMAs, so it is
skipped when fewer than PACK_MIN_TILES row tiles would reuse the panels; the
micro-kernel then reads B in place with masked loads on the right edge.

Loop nest (per task = a group of row tiles, one thread):

    for k0 in range(0, K, KC):        # KC x NR panel (32 KiB f32) is L1/L2 resident
        for each panel p:             # ... and reused by every tile of the group
            for each row tile t:      # A tile (8 x KC) read from L1/L2
                _ukr(tile t, panel p, k0:k0+KC)

Edge tiles use the same kernel: rows past M read a clamped (valid) row of A and
are not stored, columns past N are masked out of the C load/store.

Row tiles are visited in groups of GROUP tiles (64 rows), so each group's A
block stays in cache while it meets every B panel; the grouping never changes
the order of the k blocks within a tile, so it cannot change a bit.

A panel with at most NR/2 live columns (a 10-class output layer in float32, or
the last 4 columns of a 100-wide layer) uses ``_ukr_half``, the same kernel with
one vector per row, instead of computing half padding. B is packed only when more
than PACK_MIN_TILES - 1 row tiles reuse it; smaller products read it in place.

Small M (fewer rows than one tile, e.g. batch size 1) packs nothing: A @ B and
A.T @ B run each row of C as a GEMV through ``_ukr1`` (1 row x 4 vectors, B read
in place), A @ B.T as N dot products of contiguous rows. Both are memory-bound.
Thin shapes skip the micro-kernel altogether: one output column (N = 1) is M dot
products (A @ b) or an axpy over A's rows (A.T @ b), and A.T @ B over at most
SMALL_K rows (K = batch rows of 1-3, or A @ B.T with K = 1) is a rank-K update;
online SGD and single-output regression hit these on every step.

Measured (bench/gemm_gflops.py, 1 core of the 2-core znver4 dev VM, float32):
128x784 @ 784x512 108 GFLOP/s vs OpenBLAS 99; the nt and tn backward shapes
105-107 vs 90-100. ``inspect_asm`` shows vfmadd231ps on zmm registers.

Compile time: no ``prange`` here (a parfor body is a separate function that
Numba types, lowers and optimises again, with everything it calls), and the
small helpers are inlined at Numba-IR level instead of being dispatchers of
their own (each dispatcher is finalised with a copy of its callees).
Helper arguments are passed as np.intp / np.bool_ so that literal constants do
not create extra specialisations.
"""

import numpy as np

from .._jit import JIT_DISABLED, inline_kernel, kernel
from .views import view1d, view2d

MR = 8  # rows of C per micro-tile (8 broadcasts x 2 vectors = 16 zmm accumulators)
NR_BYTES = 128  # columns of C per micro-tile: two 64-byte vectors (32 f32 / 16 f64)
NR_MAX = 32  # NR for the narrowest dtype (float32); sizes `work` for both dtypes
NR1_BYTES = 256  # columns of the 1-row kernel for tiny M: four 64-byte vectors
KC = 256  # k block: a KC x NR float32 panel is 32 KiB, the A tile 8 KiB
GROUP = 8  # row tiles per task (64 rows): B panel reused 8 times from cache
# Pack B only for more than 64 rows: 16-64 rows ran 3-15% faster read in place.
PACK_MIN_TILES = 9
ALIGN = 64  # bytes; packed panels start on a cache line


def gemm_work_size(M, N, K):
    """Scratch elements needed by any product with dimensions <= (M, N, K).

    K x N rounded up to whole panels of NR_MAX columns, plus slack to align the
    first panel to 64 bytes. Valid for float32 and float64 work arrays."""
    n_pad = -(-max(int(N), 1) // NR_MAX) * NR_MAX
    return int(K) * n_pad + ALIGN // 4


# ---------------------------------------------------------------------------
# Micro-kernels and copy helpers, as LLVM IR (or plain Python without the JIT)
# ---------------------------------------------------------------------------

if JIT_DISABLED:

    def _nr(C):
        """Columns per MR x NR micro-tile for C's dtype (32 float32, 16 float64)."""
        return NR_BYTES // C.itemsize

    def _nr1(C):
        """Columns per 1-row micro-tile for C's dtype (64 float32, 32 float64)."""
        return NR1_BYTES // C.itemsize

    def _data_address(X):
        return X.ctypes.data

    def _copy(dst, d_off, src, s_off, n):
        dst.reshape(dst.size)[d_off : d_off + n] = src.reshape(src.size)[
            s_off : s_off + n
        ]

    def _zero(dst, d_off, n):
        dst.reshape(dst.size)[d_off : d_off + n] = 0

    def _transpose_block(dst, d_off, ldd, src, s_off, lds):
        w = 64 // dst.itemsize
        d = dst.reshape(dst.size)
        s = src.reshape(src.size)
        for t in range(w):
            for r in range(w):
                d[d_off + t * ldd + r] = s[s_off + r * lds + t]

    def _ukr(C, c_off, ldc, A, a_off, rsa, csa, B, b_off, ldb, K, mr, nr, flags):
        """Plain-Python twin of the IR micro-kernels (same arguments, same result
        up to FMA rounding). Used only with NUMBA_DISABLE_JIT=1."""
        c = C.reshape(C.size)
        a = A.reshape(A.size)
        b = B.reshape(B.size)
        for r in range(mr):
            for j in range(nr):
                s = c.dtype.type(0)
                for k in range(K):
                    s += a[a_off + r * rsa + k * csa] * b[b_off + k * ldb + j]
                if flags & 1:
                    s = s + c[c_off + r * ldc + j]
                c[c_off + r * ldc + j] = s

    _ukr1 = _ukr
    _ukr_half = _ukr

else:
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    def _float_array(*xs):
        return (
            all(
                isinstance(x, types.Array) and x.dtype in (types.float32, types.float64)
                for x in xs
            )
            and len({x.dtype for x in xs}) == 1
        )

    def _const_intrinsic(nbytes):
        @intrinsic
        def nr(typingctx, C):
            if not _float_array(C):
                return None
            n = nbytes // (C.dtype.bitwidth // 8)

            def codegen(context, builder, sig, args):
                return context.get_constant(types.intp, n)

            return types.intp(C), codegen

        return nr

    _nr = _const_intrinsic(NR_BYTES)
    _nr.__doc__ = "Columns per MR x NR micro-tile (32 float32, 16 float64), a constant."
    _nr1 = _const_intrinsic(NR1_BYTES)
    _nr1.__doc__ = "Columns per 1-row micro-tile (64 float32, 32 float64), a constant."

    def _ptr(context, builder, aryty, ary, off, offty):
        """Pointer to element `off` of array `ary` (any layout; C-contiguous assumed)."""
        data = context.make_array(aryty)(context, builder, value=ary).data
        return builder.gep(data, [context.cast(builder, off, offty, types.intp)])

    @intrinsic
    def _data_address(typingctx, X):
        """Address of X's first element, as an integer (to align packed panels)."""
        if not isinstance(X, types.Array):
            return None

        def codegen(context, builder, sig, args):
            data = context.make_array(sig.args[0])(context, builder, value=args[0]).data
            return builder.ptrtoint(data, context.get_value_type(types.intp))

        return types.intp(X), codegen

    @intrinsic
    def _copy(typingctx, dst, d_off, src, s_off, n):
        """dst.flat[d_off:d_off+n] = src.flat[s_off:s_off+n] as llvm.memcpy: a
        constant n (a full panel row) becomes two inline vector moves."""
        if not _float_array(dst, src):
            return None

        def codegen(context, builder, sig, args):
            d = _ptr(context, builder, sig.args[0], args[0], args[1], sig.args[1])
            s = _ptr(context, builder, sig.args[2], args[2], args[3], sig.args[3])
            cnt = context.cast(builder, args[4], sig.args[4], types.intp)
            cgutils.raw_memcpy(builder, d, s, cnt, sig.args[0].dtype.bitwidth // 8)
            return context.get_dummy_value()

        return types.void(dst, d_off, src, s_off, n), codegen

    @intrinsic
    def _zero(typingctx, dst, d_off, n):
        """dst.flat[d_off:d_off+n] = 0 as llvm.memset."""
        if not _float_array(dst):
            return None

        def codegen(context, builder, sig, args):
            d = _ptr(context, builder, sig.args[0], args[0], args[1], sig.args[1])
            cnt = context.cast(builder, args[2], sig.args[2], types.intp)
            nbytes = builder.mul(
                cnt, ir.Constant(cnt.type, sig.args[0].dtype.bitwidth // 8)
            )
            cgutils.memset(builder, d, nbytes, 0)
            return context.get_dummy_value()

        return types.void(dst, d_off, n), codegen

    def _vec_types(dtype):
        isz = dtype.bitwidth // 8
        W = 64 // isz  # lanes per 512-bit vector
        return isz, W, "v%d%s" % (W, "f32" if isz == 4 else "f64")

    @intrinsic
    def _transpose_block(typingctx, dst, d_off, ldd, src, s_off, lds):
        """dst[d_off + t*ldd + r] = src[s_off + r*lds + t] for r, t < W (16 f32 / 8 f64).

        W vector loads, log2(W) rounds of W two-source shuffles, W vector stores.
        Round h swaps the off-diagonal h x h blocks of every 2h x 2h block: an
        element whose row and column differ in bit h moves to (row^h, col^h), so
        after all rounds (r, c) -> (c, r). Each shuffle is one vpermt2ps/pd."""
        if not _float_array(dst, src):
            return None

        def codegen(context, builder, sig, args):
            isz, W, _ = _vec_types(sig.args[0].dtype)
            vt = ir.VectorType(context.get_value_type(sig.args[0].dtype), W)
            i64 = ir.IntType(64)
            i32 = ir.IntType(32)
            d0 = _ptr(context, builder, sig.args[0], args[0], args[1], sig.args[1])
            s0 = _ptr(context, builder, sig.args[3], args[3], args[4], sig.args[4])
            ldd = context.cast(builder, args[2], sig.args[2], types.intp)
            lds = context.cast(builder, args[5], sig.args[5], types.intp)
            rows = []
            for r in range(W):
                p = builder.gep(s0, [builder.mul(ir.Constant(i64, r), lds)])
                rows.append(
                    builder.load(builder.bitcast(p, vt.as_pointer()), align=isz)
                )
            h = W // 2
            while h >= 1:
                out = list(rows)
                for i in range(W):
                    if i & h:
                        continue
                    lo = [j if not j & h else W + j - h for j in range(W)]
                    hi = [j + h if not j & h else W + j for j in range(W)]
                    out[i] = builder.shuffle_vector(
                        rows[i], rows[i + h], ir.Constant(ir.VectorType(i32, W), lo)
                    )
                    out[i + h] = builder.shuffle_vector(
                        rows[i], rows[i + h], ir.Constant(ir.VectorType(i32, W), hi)
                    )
                rows = out
                h //= 2
            for t in range(W):
                p = builder.gep(d0, [builder.mul(ir.Constant(i64, t), ldd)])
                builder.store(rows[t], builder.bitcast(p, vt.as_pointer()), align=isz)
            return context.get_dummy_value()

        return types.void(dst, d_off, ldd, src, s_off, lds), codegen

    def _make_ukr(MR_, NVEC):
        """An MR_ x (NVEC vectors) FMA micro-kernel intrinsic; see _ukr's docstring."""

        def codegen(context, builder, sig, args):
            Cty, Aty, Bty = sig.args[0], sig.args[3], sig.args[7]
            isz, W, vname = _vec_types(Cty.dtype)
            NR = W * NVEC
            ft = context.get_value_type(Cty.dtype)
            vt = ir.VectorType(ft, W)
            vpt = vt.as_pointer()
            i64 = ir.IntType(64)
            i32 = ir.IntType(32)
            mt = ir.VectorType(ir.IntType(1), W)
            zero_v = ir.Constant(vt, None)
            zero_i = ir.Constant(i64, 0)
            splat_mask = ir.Constant(ir.VectorType(i32, W), [0] * W)

            def iarg(n):
                return context.cast(builder, args[n], sig.args[n], types.intp)

            def splat(x, vty):
                undef = ir.Constant(vty, ir.Undefined)
                one = builder.insert_element(undef, x, ir.Constant(i32, 0))
                return builder.shuffle_vector(one, undef, splat_mask)

            ldc, rsa, csa, ldb, K, mr, nr, flags = (
                iarg(n) for n in (2, 5, 6, 9, 10, 11, 12, 13)
            )
            c0 = _ptr(context, builder, Cty, args[0], args[1], sig.args[1])
            a0 = _ptr(context, builder, Aty, args[3], args[4], sig.args[4])
            b0 = _ptr(context, builder, Bty, args[7], args[8], sig.args[8])

            # llvmlite's declare_intrinsic cannot name vector types: declare by hand.
            def declare(name, ret, argtys):
                return cgutils.get_or_insert_function(
                    builder.module, ir.FunctionType(ret, argtys), name
                )

            mload = declare("llvm.masked.load.%s.p0" % vname, vt, [vpt, i32, mt, vt])
            mstore = declare(
                "llvm.masked.store.%s.p0" % vname, ir.VoidType(), [vt, vpt, i32, mt]
            )
            fma = declare("llvm.fma.%s" % vname, vt, [vt, vt, vt])

            # Rows past mr read row mr-1 (always valid memory) and are never stored.
            mr1 = builder.sub(mr, ir.Constant(i64, 1))
            arows = []
            for r in range(MR_):
                rc = ir.Constant(i64, r)
                rr = builder.select(builder.icmp_signed("<", rc, mr), rc, mr1)
                arows.append(builder.gep(a0, [builder.mul(rr, rsa)]))
            # Right-edge masks: lane l of vector v is live iff v*W + l < nr.
            vi64 = ir.VectorType(i64, W)
            nr_v = splat(nr, vi64)
            masks = [
                builder.icmp_signed(
                    "<", ir.Constant(vi64, [v * W + j for j in range(W)]), nr_v
                )
                for v in range(NVEC)
            ]
            add_c = builder.icmp_signed(
                "!=", builder.and_(flags, ir.Constant(i64, 1)), zero_i
            )
            mask_b = builder.and_(
                builder.icmp_signed(
                    "!=", builder.and_(flags, ir.Constant(i64, 2)), zero_i
                ),
                builder.icmp_signed("<", nr, ir.Constant(i64, NR)),
            )

            fn = builder.function
            bb_pick = fn.append_basic_block("ukr.pick")
            bb_plain = fn.append_basic_block("ukr.loop")
            bb_masked = fn.append_basic_block("ukr.loop_masked")
            bb_done = fn.append_basic_block("ukr.done")
            bb_entry = builder.block
            builder.cbranch(builder.icmp_signed(">", K, zero_i), bb_pick, bb_done)
            builder.position_at_end(bb_pick)
            builder.cbranch(mask_b, bb_masked, bb_plain)

            def emit_loop(bb, masked):
                # One basic block; k, the A offset, the B pointer and the
                # MR_ x NVEC accumulators are phis, so they live in registers.
                builder.position_at_end(bb)
                k = builder.phi(i64)
                aoff = builder.phi(i64)
                bp = builder.phi(b0.type)
                acc = [[builder.phi(vt) for _ in range(NVEC)] for _ in range(MR_)]
                bvec = []
                for v in range(NVEC):
                    p = builder.bitcast(builder.gep(bp, [ir.Constant(i64, v * W)]), vpt)
                    if masked:
                        bvec.append(
                            builder.call(
                                mload, [p, ir.Constant(i32, isz), masks[v], zero_v]
                            )
                        )
                    else:
                        bvec.append(builder.load(p, align=isz))
                new = []
                for r in range(MR_):
                    a_v = splat(
                        builder.load(builder.gep(arows[r], [aoff]), align=isz), vt
                    )
                    new.append(
                        [
                            builder.call(fma, [a_v, bvec[v], acc[r][v]])
                            for v in range(NVEC)
                        ]
                    )
                k1 = builder.add(k, ir.Constant(i64, 1))
                for phi, init, nxt in (
                    (k, zero_i, k1),
                    (aoff, zero_i, builder.add(aoff, csa)),
                    (bp, b0, builder.gep(bp, [ldb])),
                ):
                    phi.add_incoming(init, bb_pick)
                    phi.add_incoming(nxt, bb)
                for r in range(MR_):
                    for v in range(NVEC):
                        acc[r][v].add_incoming(zero_v, bb_pick)
                        acc[r][v].add_incoming(new[r][v], bb)
                builder.cbranch(builder.icmp_signed("<", k1, K), bb, bb_done)
                return new

            new_plain = emit_loop(bb_plain, False)
            new_masked = emit_loop(bb_masked, True)

            builder.position_at_end(bb_done)
            acc = []
            for r in range(MR_):
                row = []
                for v in range(NVEC):
                    phi = builder.phi(vt)
                    phi.add_incoming(zero_v, bb_entry)
                    phi.add_incoming(new_plain[r][v], bb_plain)
                    phi.add_incoming(new_masked[r][v], bb_masked)
                    row.append(phi)
                acc.append(row)

            # C tile = acc (+ C tile if add_c); rows < mr, lanes < nr only.
            add_v = splat(add_c, mt)
            load_masks = [builder.and_(m, add_v) for m in masks]
            bb_exit = fn.append_basic_block("ukr.exit")
            for r in range(MR_):
                if r > 0:
                    bb_row = fn.append_basic_block("ukr.store%d" % r)
                    builder.cbranch(
                        builder.icmp_signed("<", ir.Constant(i64, r), mr),
                        bb_row,
                        bb_exit,
                    )
                    builder.position_at_end(bb_row)
                crow = builder.gep(c0, [builder.mul(ir.Constant(i64, r), ldc)])
                for v in range(NVEC):
                    p = builder.bitcast(
                        builder.gep(crow, [ir.Constant(i64, v * W)]), vpt
                    )
                    old = builder.call(
                        mload, [p, ir.Constant(i32, isz), load_masks[v], zero_v]
                    )
                    val = builder.fadd(acc[r][v], old)
                    builder.call(mstore, [val, p, ir.Constant(i32, isz), masks[v]])
            builder.branch(bb_exit)
            builder.position_at_end(bb_exit)
            return context.get_dummy_value()

        @intrinsic
        def ukr(
            typingctx,
            C,
            c_off,
            ldc,
            A,
            a_off,
            rsa,
            csa,
            B,
            b_off,
            ldb,
            K,
            mr,
            nr,
            flags,
        ):
            if not _float_array(C, A, B):
                return None
            sig = types.void(
                C, c_off, ldc, A, a_off, rsa, csa, B, b_off, ldb, K, mr, nr, flags
            )
            return sig, codegen

        return ukr

    _ukr = _make_ukr(MR, NR_BYTES // 64)
    _ukr.__doc__ = """One register tile of C (+)= A @ B, on flat element offsets:

    C[c_off + r*ldc + j] (+)= sum_k A[a_off + r*rsa + k*csa] * B[b_off + k*ldb + j]
    for r < mr <= MR, j < nr <= NR (element offsets into the buffers).
    flags bit 0: add to the existing C (else overwrite); bit 1: B is not
    zero-padded, mask its loads when nr < NR. The K products are summed by
    FMA in k order into a zero accumulator, which is then added to C once."""
    _ukr_half = _make_ukr(MR, NR_BYTES // 128)
    _ukr_half.__doc__ = """_ukr with one vector per row (NR/2 columns): for narrow C (N <= NR/2,
    e.g. a 10-class output layer), where two vectors would be half padding."""
    _ukr1 = _make_ukr(1, NR1_BYTES // 64)
    _ukr1.__doc__ = """_ukr for one row and NR1 (4 vectors) columns: GEMV rows for tiny M.

    4 independent accumulators cover the 4-cycle FMA latency; B is read in place."""


# ---------------------------------------------------------------------------
# Reference
# ---------------------------------------------------------------------------


@kernel
def gemm_naive(C, A, B):
    """C = A @ B by the textbook triple loop. A (M, K), B (K, N) -> C (M, N)."""
    M, K = A.shape
    N = B.shape[1]
    for i in range(M):
        for j in range(N):
            s = C.dtype.type(0)
            for k in range(K):
                s += A[i, k] * B[k, j]
            C[i, j] = s


# ---------------------------------------------------------------------------
# Packing: B -> work as panels of NR columns, each K x NR contiguous, zero-padded
# ---------------------------------------------------------------------------


@kernel
def _pack_panels(work, w0, B, p0, p1):
    """Panels p0..p1-1 of B (K, N): work[w0 + p*K*NR + k*NR + jj] = B[k, p*NR + jj] (0 past N).

    k outermost, so B is read row by row (no page-stride walk down a column,
    which cost 3x for float64 with N = 512); one memcpy of NR elements per
    (k, p): a constant 128 bytes, i.e. two inline vector moves."""
    K, N = B.shape
    NR = _nr(work)
    p_full = min(p1, N // NR)  # panels before this one are full
    for k in range(K):  # full panels: the memcpy length is the constant NR
        for p in range(p0, p_full):
            _copy(work, w0 + p * K * NR + k * NR, B, k * N + p * NR, NR)
    if p_full < p1:  # the ragged last panel, in its own loop so LLVM cannot
        j0 = p_full * NR  # merge the two memcpy calls into one of variable length
        nr = N - j0
        for k in range(K):
            d = w0 + p_full * K * NR + k * NR
            _copy(work, d, B, k * N + j0, nr)
            _zero(work, d + nr, NR - nr)


@kernel
def _pack_panel_t(work, w0, B, p):
    """Panel p of B.T for B (N, K): work[w0 + p*K*NR + k*NR + jj] = B[p*NR + jj, k].

    Each half-panel of W = NR/2 columns is W rows of B; full W x W blocks are
    transposed in registers (_transpose_block), the ragged edges (k past the
    last whole block, rows past N) go element by element."""
    N, K = B.shape
    NR = _nr(work)
    W = NR // 2
    T = work.dtype.type
    d = w0 + p * K * NR
    kw = K - K % W  # k covered by whole W x W blocks
    for q in range(2):
        jb = p * NR + q * W  # first row of B in this half-panel
        dq = d + q * W
        if jb + W <= N:
            for k0 in range(0, kw, W):
                _transpose_block(work, dq + k0 * NR, NR, B, jb * K + k0, K)
            for jj in range(W):
                for k in range(kw, K):
                    work[dq + k * NR + jj] = B[jb + jj, k]
        else:
            nj = max(0, N - jb)
            for k in range(K):
                for jj in range(nj):
                    work[dq + k * NR + jj] = B[jb + jj, k]
                for jj in range(nj, W):
                    work[dq + k * NR + jj] = T(0)


# ---------------------------------------------------------------------------
# Tiled product on packed (or in-place) B, shared by nn / nt / tn
# ---------------------------------------------------------------------------


@inline_kernel
def _tiles(C, A, rsa, csa, Bp, b0, ldb, pstride, K, add, masked_b, t0, t1, p0, p1):
    """Row tiles t0..t1-1 of C (M, N) (+)= A @ B in column panels p0..p1-1, A
    read with strides (rsa, csa).

    Bp holds B's panels: panel p starts at b0 + p*pstride, row k of it at +k*ldb
    (packed: pstride = K*NR, ldb = NR; in place: pstride = NR, ldb = N).
    The k-block loop is outermost so a KC x NR panel is reused by the whole
    group of tiles; each C tile sees its k blocks in order (fixed summation)."""
    M, N = C.shape
    NR = _nr(C)
    mflag = 2 if masked_b else 0
    for k0 in range(0, K, KC):
        kc = min(KC, K - k0)
        flags = mflag | (1 if (add or k0 > 0) else 0)
        for p in range(p0, p1):
            j0 = p * NR
            nr = min(NR, N - j0)
            boff = b0 + p * pstride + k0 * ldb
            if nr <= NR // 2:  # at most half the panel live: 1-vector rows
                for t in range(t0, t1):
                    i0 = t * MR
                    _ukr_half(
                        C, i0 * N + j0, N, A, i0 * rsa + k0 * csa, rsa, csa,
                        Bp, boff, ldb, kc, min(MR, M - i0), nr, flags,
                    )  # fmt: skip
            else:
                for t in range(t0, t1):
                    i0 = t * MR
                    _ukr(
                        C, i0 * N + j0, N, A, i0 * rsa + k0 * csa, rsa, csa,
                        Bp, boff, ldb, kc, min(MR, M - i0), nr, flags,
                    )  # fmt: skip


@kernel
def _run_tiles(C, A, rsa, csa, Bp, b0, ldb, pstride, K, add, masked_b, p0, p1):
    """All row tiles of C in column panels p0..p1-1, in groups of GROUP tiles
    (64 rows): each group's A block (64 x KC) stays in L1/L2 while it meets
    every B panel."""
    n_tiles = (C.shape[0] + MR - 1) // MR
    for t0 in range(0, n_tiles, GROUP):
        _tiles(
            C, A, rsa, csa, Bp, b0, ldb, pstride, K, add, masked_b,
            t0, min(t0 + GROUP, n_tiles), p0, p1,
        )  # fmt: skip


@inline_kernel
def _work_offset(work):
    """First element of work on a 64-byte boundary (gemm_work_size leaves the slack)."""
    return ((ALIGN - _data_address(work) % ALIGN) % ALIGN) // work.itemsize


# ---------------------------------------------------------------------------
# Small M (fewer rows than one tile, e.g. batch size 1): no packing
# ---------------------------------------------------------------------------


@inline_kernel
def _gemv_row(C, i, A, a_off, csa, B, add, j0, j1):
    """C[i, j0:j1] (+)= sum_k A.flat[a_off + k*csa] * B[k, j0:j1]: one row of C
    by _ukr1 over NR1-column strips of B read in place (masked on the right
    edge). Memory-bound on B; 4 accumulators hide the FMA latency. Each
    element is its own k-ordered chain of FMAs, whatever strip it is in."""
    M, N = C.shape
    K = B.shape[0]
    NR1 = _nr1(C)
    flags = 2 | (1 if add else 0)
    for j in range(j0, j1, NR1):
        _ukr1(C, i * N + j, N, A, a_off, 0, csa, B, j, N, K, 1, min(NR1, j1 - j), flags)


@inline_kernel
def _nt_row(C, A, B, i, j0, j1):
    """C[i, j0:j1] = A[i] @ B[j0:j1].T: dot products of contiguous rows. The k
    loop indexes 1-D row views by the loop counter, so LLVM vectorises the
    reduction (in the same order for every j)."""
    N, K = B.shape
    T = C.dtype.type
    a = A[i]
    c = C[i]
    for j in range(j0, j1):
        b = B[j]
        s = T(0)
        for k in range(K):
            s += a[k] * b[k]
        c[j] = s


# ---------------------------------------------------------------------------
# Thin shapes (one output column, or a reduction of a few rows): no packing.
# A packed panel would hold one live column of 32, or a micro-tile would load
# and store its whole C tile for one or two FMAs; these loops are memory-bound
# and run at the speed of reading their operands. Online SGD (batch 1) and
# single-output regression hit them on every step.
# ---------------------------------------------------------------------------

SMALL_K = 3  # C = A.T @ B over at most this many rows of A and B: rank-K update


@inline_kernel
def _dot_row(C, A, b, i, add):
    """C[i, 0] (+)= A[i] . b (A (M, K), b (K,) contiguous)."""
    T = C.dtype.type
    a = A[i]
    s = T(0)
    for k in range(b.shape[0]):
        s += a[k] * b[k]
    if add:
        C[i, 0] += s
    else:
        C[i, 0] = s


@inline_kernel
def _rank_k(C, A, B, j0, j1):
    """C[:, j0:j1] = A.T @ B[:, j0:j1] for few rows K (A (K, M), B (K, N)):
    C[i] = sum_k A[k, i] * B[k], each row of C written in k order (vectorised
    over columns)."""
    K = A.shape[0]
    n, width = C.shape[1], j1 - j0
    for i in range(C.shape[0]):
        c = view1d(C, i * n + j0, width)
        b = view1d(B, j0, width)
        a = A[0, i]
        for j in range(width):
            c[j] = a * b[j]
        for k in range(1, K):
            b = view1d(B, k * n + j0, width)
            a = A[k, i]
            for j in range(width):
                c[j] += a * b[j]


@inline_kernel
def _gemv_t(c, A, b):
    """c = A.T @ b for A (K, M), b (K,): axpy of A's contiguous rows in k order."""
    for i in range(c.shape[0]):
        c[i] = 0
    for k in range(A.shape[0]):
        a = A[k]
        bk = b[k]
        for i in range(c.shape[0]):
            c[i] += a[i] * bk


# ---------------------------------------------------------------------------
# Public kernels
# ---------------------------------------------------------------------------

# Helpers' arguments are wrapped so they are typed int64 / bool, never
# Literal[int](1) / Literal[bool](False): every distinct literal would compile
# (and link) another copy of a callee.
intp = np.intp


@inline_kernel
def _panels(C, j0, j1):
    """The column panels (p0, p1) that hold columns j0..j1-1 of C."""
    NR = _nr(C)
    return j0 // NR, (j1 + NR - 1) // NR


@inline_kernel
def _zero_columns(C, j0, j1):
    """C[:, j0:j1] = 0 (a product over K = 0)."""
    T = C.dtype.type
    for i in range(C.shape[0]):
        c = C[i][j0:j1]
        for j in range(c.shape[0]):
            c[j] = T(0)


@kernel
def _strided_times_b(C, A, rsa, csa, B, accumulate, work, p0, p1):
    """C (M, N) (+)= A' @ B for M >= MR in column panels p0..p1-1, where
    A'[i, k] = A.flat[i*rsa + k*csa] (rsa=K, csa=1: A @ B; rsa=1, csa=M:
    A.T @ B). B's panels p0..p1-1 are packed into ``work`` (from its start)
    when at least PACK_MIN_TILES row tiles reuse them, else B is read in place
    with masked loads on the right edge. Packing or not never changes the
    arithmetic: each element of C is the same k-ordered FMA chain."""
    M, N = C.shape
    K = B.shape[0]
    NR = _nr(C)
    if (M + MR - 1) // MR >= PACK_MIN_TILES:
        # panel p at w0 + (p - p0) * K * NR
        w0 = _work_offset(work) - p0 * K * NR
        _pack_panels(work, w0, B, p0, p1)
        _run_tiles(
            C, A, rsa, csa, work, w0, NR, K * NR, K, accumulate, np.bool_(False),
            p0, p1,
        )  # fmt: skip
    else:  # one group of row tiles: read B in place
        _run_tiles(
            C, A, rsa, csa, view1d(B, 0, B.size), intp(0), N, NR, K, accumulate,
            np.bool_(True), p0, p1,
        )  # fmt: skip


# The products below compute columns j0..j1-1 of C, the rest untouched: j0 a
# multiple of the panel width NR (NR_BYTES // itemsize) and j1 one too or N.
# Every element of C is computed by the same sequence of operations whatever
# the column range, so a product split into column ranges among threads
# equals the whole product bit for bit (tests/kernels/test_gemm.py).


@kernel
def matmul_nn(C, A, B, accumulate, work, j0, j1):
    """C[:, j0:j1] (+)= A @ B[:, j0:j1].  A (M, K), B (K, N) -> C (M, N);
    work: gemm_work_size scratch.

    With accumulate, C += A @ B (C holds e.g. the bias rows). Serial: the caller
    runs whole row chunks of a batch, or column ranges of a chunk, on each
    thread. No allocation."""
    M, K = A.shape
    N = B.shape[1]
    if j0 >= j1:
        return
    if N == 1:  # one output column: M dot products with B's only column
        b = view1d(B, 0, K)
        for i in range(M):
            _dot_row(C, A, b, i, accumulate)
        return
    if M < MR:  # GEMV rows: B streamed once per row, nothing to reuse a packing
        for i in range(M):
            _gemv_row(C, i, A, i * K, intp(1), B, accumulate, j0, j1)
        return
    p0, p1 = _panels(C, j0, j1)
    _strided_times_b(C, A, intp(K), intp(1), B, accumulate, work, p0, p1)
    if K == 0 and not accumulate:
        _zero_columns(C, j0, j1)


@kernel
def matmul_nt(C, A, B, work, j0, j1):
    """C[:, j0:j1] = A @ B[j0:j1].T.  A (M, K), B (N, K) -> C (M, N); work:
    gemm_work_size scratch.

    B.T is packed into NR-column panels (a transposing copy in 16 x 16 register
    blocks), then it is the A @ B product."""
    M, K = A.shape
    N = B.shape[0]
    NO = np.bool_(False)
    if j0 >= j1:
        return
    if K == 1:  # outer product of A's and B's only columns
        _rank_k(C, view2d(A, 0, 1, M), view2d(B, 0, 1, N), j0, j1)
        return
    if M < MR:
        for i in range(M):
            _nt_row(C, A, B, i, j0, j1)
        return
    NR = _nr(C)
    p0, p1 = _panels(C, j0, j1)
    w0 = _work_offset(work) - p0 * K * NR  # panel p at w0 + (p - p0) * K * NR
    for p in range(p0, p1):
        _pack_panel_t(work, w0, B, intp(p))
    _run_tiles(C, A, K, intp(1), work, w0, NR, K * NR, K, NO, NO, p0, p1)
    if K == 0:
        _zero_columns(C, j0, j1)


@kernel
def matmul_tn(C, A, B, work, j0, j1):
    """C[:, j0:j1] = A.T @ B[:, j0:j1].  A (K, M), B (K, N) -> C (M, N); work:
    gemm_work_size scratch.

    A is read in place with row stride 1 and k stride M (8 contiguous scalars
    per k)."""
    K, M = A.shape
    N = B.shape[1]
    NO = np.bool_(False)
    if j0 >= j1:
        return
    if N == 1:  # one column: A.T @ b as axpy of A's rows
        _gemv_t(view1d(C, 0, M), A, view1d(B, 0, K))
        return
    if 1 <= K <= SMALL_K:  # a few rows (small batch): rank-K update, no packing
        _rank_k(C, A, B, j0, j1)
        return
    if M < MR:
        for i in range(M):
            _gemv_row(C, i, A, i, M, B, NO, j0, j1)
        return
    p0, p1 = _panels(C, j0, j1)
    _strided_times_b(C, A, intp(1), intp(M), B, NO, work, p0, p1)
    if K == 0:
        _zero_columns(C, j0, j1)
