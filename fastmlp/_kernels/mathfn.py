"""exp and tanh that LLVM can vectorise.

Numba lowers ``np.exp``/``np.tanh`` to one libm call per element: the loops around
them stay scalar (about 16 ns per tanh here), and PyPI's llvmlite has no SVML. These
versions use only arithmetic, compares and one integer-to-float bitcast, so a loop
over them becomes SIMD code.

exp(x) = 2^k * exp(r), k = round(x / ln 2), r = x - k ln 2 with ln 2 split in two
parts (Cephes) and fused multiply-adds that fastmath cannot re-associate,
|r| <= ln(2)/2; exp(r) is its Taylor polynomial (degree 13 in
float64, truncation < 5e-18; degree 7 in float32, < 5e-9), and 2^k is built from
its IEEE bits. Overflow gives inf, underflow 0, NaN stays NaN.

tanh(x) = sign(x) * e / (e + 2) with e = expm1(2|x|): no cancellation near 0,
where expm1 is its own Taylor series; |x| > 20 (float64) or 10 (float32) gives
+-1. Accuracy is checked against NumPy in the tests (a few ulp).
"""

import numpy as np
from numba import types

from .._jit import JIT_DISABLED, inline_kernel, overload_kernel

if not JIT_DISABLED:
    from llvmlite import ir as llvmir
    from numba.core import cgutils
    from numba.extending import intrinsic

    @intrinsic
    def _bits_to_float(typingctx, bits):
        """Reinterpret an int64 (int32) as the float64 (float32) with those bits."""
        if not isinstance(bits, types.Integer) or bits.bitwidth not in (32, 64):
            return None
        out = types.float64 if bits.bitwidth == 64 else types.float32

        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], context.get_value_type(out))

        return out(bits), codegen

    @intrinsic
    def _fma(typingctx, a, b, c):
        """a * b + c with one rounding (llvm.fma): never re-associated, so exp's
        two-part ln 2 reduction keeps its precision under fastmath."""
        if not (a == b == c and a in (types.float32, types.float64)):
            return None

        def codegen(context, builder, sig, args):
            ty = context.get_value_type(sig.return_type)
            name = (
                "llvm.fma.f64" if sig.return_type == types.float64 else "llvm.fma.f32"
            )
            fnty = llvmir.FunctionType(ty, [ty, ty, ty])
            fn = cgutils.get_or_insert_function(builder.module, fnty, name)
            return builder.call(fn, args)

        return a(a, b, c), codegen


@inline_kernel
def _reduce64(x):
    """(k, r) with x = k ln 2 + r, |r| <= ln(2)/2 (two-part ln 2, fused)."""
    k = np.floor(x * 1.4426950408889634 + 0.5)
    k = min(max(k, -1022.0), 1023.0)
    r = _fma(-k, 1.90821492927058770002e-10, _fma(-k, 6.93147180369123816490e-01, x))
    return k, r


@inline_kernel
def _expm1_poly64(r):
    """exp(r) - 1 for |r| <= ln(2)/2 as r * (1 + r/2 + ... ), Taylor degree 13."""
    q = 1.0 / 6227020800.0
    q = q * r + 1.0 / 479001600.0
    q = q * r + 1.0 / 39916800.0
    q = q * r + 1.0 / 3628800.0
    q = q * r + 1.0 / 362880.0
    q = q * r + 1.0 / 40320.0
    q = q * r + 1.0 / 5040.0
    q = q * r + 1.0 / 720.0
    q = q * r + 1.0 / 120.0
    q = q * r + 1.0 / 24.0
    q = q * r + 1.0 / 6.0
    q = q * r + 0.5
    q = q * r + 1.0
    return q * r


@inline_kernel
def _pow2_64(k):
    """2^k from its IEEE bits, for integral float k in [-1022, 1023]; via int32:
    float64 -> int32 vectorises, float64 -> int64 did not."""
    return _bits_to_float((np.int64(np.int32(k)) + 1023) << 52)


@inline_kernel
def exp64(x):
    """exp(x) for float64 x, vectorisable (see module docstring)."""
    k, r = _reduce64(x)
    y = (_expm1_poly64(r) + 1.0) * _pow2_64(k)
    if x > 709.782712893384:
        y = np.inf
    if x < -708.3964185322641:
        y = 0.0
    return y


@inline_kernel
def exp32(x):
    """exp(x) for float32 x, vectorisable (see module docstring)."""
    f = np.float32
    k = np.floor(x * f(1.44269504) + f(0.5))
    k = min(max(k, f(-126.0)), f(127.0))
    r = _fma(-k, f(-2.12194440e-4), _fma(-k, f(0.693359375), x))
    p = f(1.0 / 5040.0)
    p = p * r + f(1.0 / 720.0)
    p = p * r + f(1.0 / 120.0)
    p = p * r + f(1.0 / 24.0)
    p = p * r + f(1.0 / 6.0)
    p = p * r + f(0.5)
    p = p * r + f(1.0)
    p = p * r + f(1.0)
    y = p * _bits_to_float(np.int32((np.int32(k) + 127) << 23))
    if x > f(88.72283):
        y = f(np.inf)
    if x < f(-87.33654):
        y = f(0.0)
    return y


@inline_kernel
def _expm1_pos64(y):
    """expm1(y) for 0 <= y <= 40, branch-free: with y = k ln 2 + r,
    expm1(y) = 2^k * q(r) + (2^k - 1) where q(r) = exp(r) - 1 (_expm1_poly64), so
    nothing cancels: k = 0 near zero, and 2^k - 1 >= 1 otherwise. One path for
    every y lets LLVM vectorise tanh64 (a branch between two polynomials kept it
    scalar: 9.3 ns per element)."""
    k, r = _reduce64(y)
    s = _pow2_64(k)
    return _fma(s, _expm1_poly64(r), s - 1.0)


@inline_kernel
def tanh64(x):
    """tanh(x) for float64 x, vectorisable."""
    a = min(abs(x), 20.0)
    e = _expm1_pos64(2.0 * a)
    t = e / (e + 2.0)
    if x != x:
        t = x
    return t if x >= 0.0 else -t


@inline_kernel
def tanh32(x):
    """tanh(x) for float32 x, vectorisable."""
    f = np.float32
    a = min(abs(x), f(10.0))
    y = f(2.0) * a
    if y <= f(0.5):
        p = f(1.0 / 40320.0)
        p = p * y + f(1.0 / 5040.0)
        p = p * y + f(1.0 / 720.0)
        p = p * y + f(1.0 / 120.0)
        p = p * y + f(1.0 / 24.0)
        p = p * y + f(1.0 / 6.0)
        p = p * y + f(0.5)
        p = p * y + f(1.0)
        e = p * y
    else:
        e = exp32(y) - f(1.0)
    t = e / (e + f(2.0))
    if x != x:
        t = x
    return t if x >= f(0.0) else -t


def vexp(x):
    """exp of a float32 or float64 scalar, vectorisable in nopython loops."""
    return np.exp(x)


def vtanh(x):
    """tanh of a float32 or float64 scalar, vectorisable in nopython loops."""
    return np.tanh(x)


if not JIT_DISABLED:

    @overload_kernel(vexp)
    def _ol_vexp(x):
        if x == types.float32:
            return lambda x: exp32(x)
        if x == types.float64:
            return lambda x: exp64(x)

    @overload_kernel(vtanh)
    def _ol_vtanh(x):
        if x == types.float32:
            return lambda x: tanh32(x)
        if x == types.float64:
            return lambda x: tanh64(x)
