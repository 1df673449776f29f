"""exp, tanh, expm1, log1p and the normal CDF that LLVM can vectorise.

Numba lowers ``np.exp``/``np.tanh`` to one libm call per element: the loops around
them stay scalar (about 16 ns per tanh here), and PyPI's llvmlite has no SVML. These
versions use only arithmetic, compares, selects and bitcasts between floats and
integers, so a loop over them becomes SIMD code.

exp(x) = 2^k * exp(r), k = round(x / ln 2), r = x - k ln 2 with ln 2 split in two
parts (Cephes) and fused multiply-adds that fastmath cannot re-associate,
|r| <= ln(2)/2; exp(r) is its Taylor polynomial (degree 13 in
float64, truncation < 5e-18; degree 7 in float32, < 5e-9), and 2^k is built from
its IEEE bits. Overflow gives inf, underflow 0, NaN stays NaN.

tanh(x) = sign(x) * e / (e + 2) with e = expm1(2|x|): no cancellation near 0,
where expm1 is its own Taylor series; |x| > 20 (float64) or 10 (float32) gives
+-1. Accuracy is checked against NumPy in the tests (a few ulp).

expm1(x) = 2^k q(r) + (2^k - 1), q(r) = exp(r) - 1 as a Taylor polynomial (degree
13 in float64, 8 in float32), evaluated as 2 (s q + (s - 1/2)) with s = 2^(k-1):
nothing cancels (k = 0 near zero gives q itself), and k = 1024 at log(DBL_MAX)
needs no 2^1024. x is clamped to [-60, 709.78] ([-30, 88.72]) first; expm1 is -1
below in floating point, inf above.

log1p(x) is fdlibm's (musl's log1pf in float32) without branches: u = 1 + x
rounded is split from its bits into 2^k (1 + f), 1 + f in [sqrt(2)/2, sqrt(2)),
and log1p(x) = k ln 2 + log(1 + f) + ((1 + x) - u) / u, the last term undoing the
rounding of u; it is computed exactly by fused multiply-adds (fastmath would
re-associate x - (u - 1) into 0). k = 0 takes f = x itself. log(1 + f) is fdlibm's
polynomial in s = f / (2 + f). log1p(-1) = -inf, NaN below.

ndtr(x) = Phi(x) = erfc(z) / 2, z = -x / sqrt(2), with fdlibm's erf/erfc rational
approximations (s_erf.c: |z| < 0.84375, < 1.25, < 1/0.35, above): all numerators
and denominators are evaluated and the right pair selected, then one division.
|z| is carried as zh + zl, and in the tail erfc(z) = exp(-z^2 - 0.5625 + R/S) / z
takes -z^2 = -x^2/2 as -X^2/2 (exact, X = |x| cut to 21 bits) plus
-(|x| - X)(|x| + X)/2, in one exp of the sum: rounding x / sqrt(2) or x^2 would
cost up to x^2 ulp in the tail, which is what scipy.special.ndtr loses (about 1000
ulp at x = -37). Phi(x) = 1 - Phi(-x) for x > 0; results are subnormal from
x = -37.5 on (rounded once) and 0 below -38.5.

float32 has its own ndtr in float32 arithmetic only (twice the lanes per vector
register of the float64 round trip it replaces), in the same four regions with
FreeBSD's newer erff/erfcf polynomials (s_erff.c since 2017, fewer terms than
fdlibm's float version). In the tail X = |x| cut to 11 bits makes X^2/2 + 0.5625
and its reduction by ln2_hi exact, and the 1 / sqrt(2) of erfc(z) / 2 =
exp(-z^2 - 0.5625 + R/S) / (sqrt(2) |x|) is taken as half a step of ln 2 in that
reduction, so it costs no rounding; scaled by 2^32 as in float64, results are
subnormal from x = -12.95 on (rounded once) and 0 from -14.17. 1.5 ns per element
here instead of 4.3 through float64.

vndtr is inlined at Numba-IR level: too large for LLVM's inliner, a call to it
would keep the loop scalar (18 ns per element instead of 4.5).

Measured in the tests' style (ulp of the result's dtype): expm1 and log1p within
1.3 ulp of NumPy's; ndtr within 2.1 ulp of mpmath in float64 (x in [-37, 9]) and
2.1 ulp of SciPy's in float32 (every float32 with 2^-40 <= |x| <= 14.6; no more
than 4 float32 steps from SciPy's value rounded).
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
    def _float_to_bits(typingctx, x):
        """The IEEE bits of a float64 (float32) as an int64 (int32)."""
        if x not in (types.float32, types.float64):
            return None
        out = types.int64 if x == types.float64 else types.int32

        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], context.get_value_type(out))

        return out(x), codegen

    @intrinsic
    def _div(typingctx, a, b):
        """a / b, one correctly rounded fdiv flagged "nsz" only: neither the zero
        check of the error model of a caller that vndtr is inlined into (a loop
        that may raise does not vectorise) nor fastmath's reciprocal and
        re-association (so a result can round once into the subnormals)."""
        if not (a == b and a in (types.float32, types.float64)):
            return None

        def codegen(context, builder, sig, args):
            return builder.fdiv(args[0], args[1], flags=("nsz",))

        return a(a, b), codegen

    @intrinsic
    def _select(typingctx, cond, a, b):
        """a if cond else b, as one LLVM select: ndtr64 is inlined at Numba-IR level
        into its callers, and a variable assigned in two branches there failed
        Numba's IR scope check in a caller inlined in turn."""
        if not (isinstance(cond, types.Boolean) and a == b):
            return None

        def codegen(context, builder, sig, args):
            return builder.select(args[0], args[1], args[2])

        return a(cond, a, b), codegen

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
def _expm1_poly32(r):
    """exp(r) - 1 for small float32 r as r * (1 + r/2 + ...), Taylor degree 8
    (tanh32 near zero, expm1_32 after its reduction)."""
    f = np.float32
    q = f(1.0 / 40320.0)
    q = q * r + f(1.0 / 5040.0)
    q = q * r + f(1.0 / 720.0)
    q = q * r + f(1.0 / 120.0)
    q = q * r + f(1.0 / 24.0)
    q = q * r + f(1.0 / 6.0)
    q = q * r + f(0.5)
    q = q * r + f(1.0)
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
        e = _expm1_poly32(y)
    else:
        e = exp32(y) - f(1.0)
    t = e / (e + f(2.0))
    if x != x:
        t = x
    return t if x >= f(0.0) else -t


@inline_kernel
def expm1_64(x):
    """expm1(x) for float64 x, vectorisable: 2 * (s q(r) + (s - 1/2)) with
    s = 2^(k-1), so that k = 1024 (x up to log(DBL_MAX)) needs no 2^1024."""
    a = min(max(x, -60.0), 709.782712893384)
    k = np.floor(a * 1.4426950408889634 + 0.5)
    r = _fma(-k, 1.90821492927058770002e-10, _fma(-k, 6.93147180369123816490e-01, a))
    s = _pow2_64(k - 1.0)
    q = _expm1_poly64(r)
    y = 2.0 * _fma(s, q, s - 0.5)
    if k == 0.0:  # |x| < ln(2)/2, where halving would lose subnormal bits
        y = q
    if x > 709.782712893384:
        y = np.inf
    if x != x:
        y = x
    return y


@inline_kernel
def expm1_32(x):
    """expm1(x) for float32 x, vectorisable (as expm1_64; Taylor degree 8)."""
    f = np.float32
    a = min(max(x, f(-30.0)), f(88.72283))
    k = np.floor(a * f(1.44269504) + f(0.5))
    r = _fma(-k, f(-2.12194440e-4), _fma(-k, f(0.693359375), a))
    q = _expm1_poly32(r)
    s = _bits_to_float(np.int32((np.int32(k) + 126) << 23))
    y = f(2.0) * _fma(s, q, s - f(0.5))
    if k == f(0.0):
        y = q
    if x > f(88.72283):
        y = f(np.inf)
    if x != x:
        y = x
    return y


def _horner(t, c):
    """c[0] t^n + c[1] t^(n-1) + ... + c[n], for a tuple c of constants of t's type.
    Compiled as straight multiply-adds: a loop, inlined at Numba-IR level into vndtr
    and on into its caller, failed Numba's IR scope check."""
    p = c[0]
    for ci in c[1:]:
        p = p * t + ci
    return p


if not JIT_DISABLED:

    @overload_kernel(_horner, inline=True)
    def _ol_horner(t, c):
        n = len(c)
        steps = "".join(f"    p{i} = p{i - 1} * t + c[{i}]\n" for i in range(1, n))
        namespace = {"__name__": __name__}  # a module, as a def here would have
        exec(f"def impl(t, c):\n    p0 = c[0]\n{steps}    return p{n - 1}\n", namespace)
        return namespace["impl"]


@inline_kernel
def _one_plus_err(x, u, T):
    """(1 + x) - u, exactly, for u = 1 + x rounded and x > -1 (T: the float type):
    x - (u - 1) below 1, else 1 - (u - x), both differences exact (Sterbenz), in
    fused multiply-adds that fastmath cannot re-associate into 0."""
    h = T(0.5)
    e = _fma(T(-2.0), _fma(u, h, -h), x)
    if x >= T(1.0):
        e = _fma(T(-2.0), _fma(u, h, -h * x), T(1.0))
    return e


@inline_kernel
def _log1p_tail(x, y, T):
    """y, or log1p's value at x = inf, -1, < -1 or NaN."""
    if x == T(np.inf):
        y = x
    if x == T(-1.0):
        y = T(-np.inf)
    if not x >= T(-1.0):
        y = T(np.nan)
    return y


# log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)), s = f / (2 + f): fdlibm's Lg1..Lg7
# (float32: musl's Lg1..Lg4), in two polynomials of w = s^4, highest degree first
_LG_ODD = (
    1.479819860511658591e-01,
    1.818357216161805012e-01,
    2.857142874366239149e-01,
    6.666666666666735130e-01,
)
_LG_EVEN = (
    1.531383769920937332e-01,
    2.222219843214978396e-01,
    3.999999999940941908e-01,
)
_LGF_ODD = (np.float32(0.28498786688), np.float32(0.66666662693))
_LGF_EVEN = (np.float32(0.24279078841), np.float32(0.40000972152))


@inline_kernel
def log1p64(x):
    """log1p(x) for float64 x, vectorisable (see module docstring)."""
    u = 1.0 + x
    b = _float_to_bits(u)
    ki = ((b + ((0x3FF00000 - 0x3FE6A09E) << 32)) >> 52) - 1023
    f = _bits_to_float(b - (ki << 52)) - 1.0  # 1 + f in [sqrt(2)/2, sqrt(2))
    c = _one_plus_err(x, u, np.float64) / u
    if ki == 0:
        f = x
        c = 0.0
    k = np.float64(np.int32(ki))
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    r = z * _horner(w, _LG_ODD) + w * _horner(w, _LG_EVEN)
    lo = s * (hfsq + r) + _fma(k, 1.90821492927058770002e-10, c)
    y = _fma(k, 6.93147180369123816490e-01, f - (hfsq - lo))
    return _log1p_tail(x, y, np.float64)


@inline_kernel
def log1p32(x):
    """log1p(x) for float32 x, vectorisable (as log1p64, with musl's log1pf)."""
    T = np.float32
    u = T(1.0) + x
    b = _float_to_bits(u)
    ki = (np.int32(b + np.int32(0x3F800000 - 0x3F3504F3)) >> 23) - np.int32(127)
    f = _bits_to_float(np.int32(b - (ki << 23))) - T(1.0)
    c = _one_plus_err(x, u, T) / u
    if ki == 0:
        f = x
        c = T(0.0)
    k = T(ki)
    hfsq = T(0.5) * f * f
    s = f / (T(2.0) + f)
    z = s * s
    w = z * z
    r = z * _horner(w, _LGF_ODD) + w * _horner(w, _LGF_EVEN)
    lo = s * (hfsq + r) + _fma(k, T(9.0580006145e-06), c)
    y = _fma(k, T(6.9313812256e-01), f - (hfsq - lo))
    return _log1p_tail(x, y, T)


# fdlibm's erf/erfc (s_erf.c) rational approximations, highest degree first.
# erf(z) = z + z P/Q for z < 0.84375, polynomials in z^2
_ERF_P = (
    -2.37630166566501626084e-05,
    -5.77027029648944159157e-03,
    -2.84817495755985104766e-02,
    -3.25042107247001499370e-01,
    1.28379167095512558561e-01,
)
_ERF_Q = (
    -3.96022827877536812320e-06,
    1.32494738004321644526e-04,
    5.08130628187576562776e-03,
    6.50222499887672944485e-02,
    3.97917223959155352819e-01,
    1.0,
)
# erfc(z) = 1 - erx - P/Q for 0.84375 <= z < 1.25, polynomials in z - 1
_ERX = 8.45062911510467529297e-01
_ERFC1_P = (
    -2.16637559486879084300e-03,
    3.54783043256182359371e-02,
    -1.10894694282396677476e-01,
    3.18346619901161753674e-01,
    -3.72207876035701323847e-01,
    4.14856118683748331666e-01,
    -2.36211856075265944077e-03,
)
_ERFC1_Q = (
    1.19844998467991074170e-02,
    1.36370839120290507362e-02,
    1.26171219808761642112e-01,
    7.18286544141962662868e-02,
    5.40397917702171048937e-01,
    1.06420880400844228286e-01,
    1.0,
)
# erfc(z) = exp(-z^2 - 0.5625 + R/S) / z for 1.25 <= z < 1/0.35 (R2, S2) and
# above (R3, S3). fdlibm's R and S are polynomials in 1/z^2; times z^16 (z^14) they
# are polynomials in z^2 with the same ratio and no division for 1/z^2, and
# fdlibm's coefficients in their order are the highest degree first.
_ERFC2_R = (
    -9.86494403484714822705e-03,
    -6.93858572707181764372e-01,
    -1.05586262253232909814e01,
    -6.23753324503260060396e01,
    -1.62396669462573470355e02,
    -1.84605092906711035994e02,
    -8.12874355063065934246e01,
    -9.81432934416914548592e00,
    0.0,
)
_ERFC2_S = (
    1.0,
    1.96512716674392571292e01,
    1.37657754143519042600e02,
    4.34565877475229228821e02,
    6.45387271733267880336e02,
    4.29008140027567833386e02,
    1.08635005541779435134e02,
    6.57024977031928170135e00,
    -6.04244152148580987438e-02,
)
_ERFC3_R = (
    -9.86494292470009928597e-03,
    -7.99283237680523006574e-01,
    -1.77579549177547519889e01,
    -1.60636384855821916062e02,
    -6.37566443368389627722e02,
    -1.02509513161107724954e03,
    -4.83519191608651397019e02,
    0.0,
)
_ERFC3_S = (
    1.0,
    3.03380607434824582924e01,
    3.25792512996573918826e02,
    1.53672958608443695994e03,
    3.19985821950859553908e03,
    2.55305040643316442583e03,
    4.74528541206955367215e02,
    -2.24409524465858183362e01,
)


@inline_kernel
def _exp_sum64(a, b):
    """(p, k) with exp(a + b) = p 2^k, p in [0.7, 1.42], for an a that fdlibm's
    ln2_hi reduces exactly (42 significant bits at most) and a small b."""
    k = np.floor((a + b) * 1.4426950408889634 + 0.5)
    r = _fma(-k, 6.93147180369123816490e-01, a)
    r = _fma(-k, 1.90821492927058770002e-10, r) + b
    return _expm1_poly64(r) + 1.0, k


@inline_kernel
def ndtr64(x):
    """Phi(x) = erfc(-x / sqrt(2)) / 2 for float64 x, vectorisable (see module
    docstring)."""
    ax = min(abs(x), 40.0)  # Phi(-40) = 0, Phi(40) = 1
    zh = ax * 0.7071067811865476  # |z| = |x| / sqrt(2) = zh + zl
    zl = _fma(ax, 0.7071067811865476, -zh) - ax * 4.833646656726457e-17
    t = zh * zh
    r1, r2, r3 = zh >= 0.84375, zh >= 1.25, zh >= 2.857142857142857
    # every approximation's numerator and denominator, one division for the right
    # pair; selects only (see _select)
    s1 = (zh - 1.0) + zl
    n = _select(r1, _horner(s1, _ERFC1_P), _horner(t, _ERF_P))
    n = _select(r3, _horner(t, _ERFC3_R), _select(r2, _horner(t, _ERFC2_R), n))
    d = _select(r1, _horner(s1, _ERFC1_Q), _horner(t, _ERF_Q))
    d = _select(r3, _horner(t, _ERFC3_S), _select(r2, _horner(t, _ERFC2_S), d))
    q = _div(n, d)
    # h = erfc(|z|) / 2 = Phi(-|x|)
    h0 = 0.5 * (0.5 - ((zh - 0.5) + (zl + zh * q)))
    h1 = 0.5 * ((1.0 - _ERX) - q)
    # -z^2 = -c^2 / 2 - (a - c)(a + c) / 2, c = a cut to 21 bits: c^2 is exact
    a = min(max(ax, 1.0), 38.5)
    c = _bits_to_float(_float_to_bits(a) & -4294967296)
    p, k = _exp_sum64(-0.5 * c * c - 0.5625, 0.5 * (c - a) * (c + a) + q)
    # h2 = p 2^k / (sqrt(2) a), scaled by 2^60 above and below: exp() alone would
    # be subnormal from x = -37.5 on, the quotient rounds once
    h2 = _div(p * 0.7071067811865476 * _pow2_64(k + 60.0), a * 1.152921504606847e18)
    h = _select(r2, h2, _select(r1, h1, h0))
    y = _select(x < -38.5, 0.0, _select(x < 0.0, h, 1.0 - h))
    return _select(x != x, x, y)


# FreeBSD's erff/erfcf (s_erff.c, since 2017: fewer terms than fdlibm's float
# version), arranged as _ERF_P ... _ERFC3_S above (R and S times z^8)
_F = np.float32
_ERFF_P = (_F(-1.86260219e-03), _F(-3.36030394e-01), _F(1.28379166e-01))
_ERFF_Q = (_F(-1.98859419e-03), _F(2.16070302e-02), _F(3.12324286e-01), _F(1.0))
_ERXF = _F(8.42697144e-01)  # erf(1) rounded to 16 bits: 1 - erx is exact
_ERFCF1_P = (
    _F(1.10914491e-01),
    _F(-1.65179938e-01),
    _F(4.15109694e-01),
    _F(3.64939137e-06),
)
_ERFCF1_Q = (
    _F(5.62181212e-02),
    _F(1.68576106e-01),
    _F(5.35934687e-01),
    _F(6.02074385e-01),
    _F(1.0),
)
_ERFCF2_R = (
    _F(-9.87132732e-03),
    _F(-5.53605914e-01),
    _F(-2.17589188e00),
    _F(-1.43268085e00),
    _F(0.0),
)
_ERFCF2_S = (
    _F(1.0),
    _F(5.45995426e00),
    _F(6.69798088e00),
    _F(1.43113089e00),
    _F(-5.77397496e-02),
)
_ERFCF3_R = (
    _F(-9.86494310e-03),
    _F(-6.25171244e-01),
    _F(-6.16498327e00),
    _F(-1.66696873e01),
    _F(-9.53764343e00),
)
_ERFCF3_S = (
    _F(1.0),
    _F(1.26884899e01),
    _F(4.51839523e01),
    _F(4.72810211e01),
    _F(8.93033314e00),
)


@inline_kernel
def ndtr32(x):
    """Phi(x) for float32 x in float32 arithmetic, vectorisable (see module
    docstring)."""
    f = np.float32
    ax = min(abs(x), f(14.5))  # Phi(-14.5) rounds to 0, Phi(14.5) to 1
    zh = ax * f(0.70710677)  # |z| = |x| / sqrt(2) = zh + zl
    zl = _fma(ax, f(0.70710677), -zh) + ax * f(1.2101617e-08)
    t = zh * zh
    r1, r2, r3 = zh >= f(0.84375), zh >= f(1.25), zh >= f(2.857142857142857)
    # |z| - 1 from x in a fused multiply-add: fastmath re-associated
    # (zh - 1) + zl, which cost 3.4 ulp at x = -1.76 (1.8 now)
    s1 = _fma(ax, f(0.70710677), f(-1.0)) + ax * f(1.2101617e-08)
    n = _select(r1, _horner(s1, _ERFCF1_P), _horner(t, _ERFF_P))
    n = _select(r3, _horner(t, _ERFCF3_R), _select(r2, _horner(t, _ERFCF2_R), n))
    d = _select(r1, _horner(s1, _ERFCF1_Q), _horner(t, _ERFF_Q))
    d = _select(r3, _horner(t, _ERFCF3_S), _select(r2, _horner(t, _ERFCF2_S), d))
    q = _div(n, d)
    # h = erfc(|z|) / 2 = Phi(-|x|)
    h0 = f(0.5) * (f(0.5) - ((zh - f(0.5)) + (zl + zh * q)))
    h1 = f(0.5) * ((f(1.0) - _ERXF) - q)
    # -z^2 = -c^2 / 2 - (a - c)(a + c) / 2, c = a cut to 11 bits: c^2 is exact,
    # and so is c^2 / 2 + 0.5625 and its reduction by ln2_hi below
    a = max(ax, f(1.0))
    c = _bits_to_float(np.int32(_float_to_bits(a) & np.int32(-8192)))
    e = f(-0.5) * c * c - f(0.5625)
    b = f(0.5) * (c - a) * (c + a) + q
    # erfc(z) / 2 = exp(e + b) / (sqrt(2) a) and exp(e + b) / sqrt(2) = 2^k exp(r)
    # with r = e + b - (k + 1/2) ln 2, reduced exactly as above: 1 / sqrt(2)
    # costs no rounding. exp(r) as in exp32
    k = np.floor((e + b) * f(1.44269504))
    kh = k + f(0.5)
    r = _fma(-kh, f(-2.12194440e-4), _fma(-kh, f(0.693359375), e)) + b
    p = f(1.0 / 5040.0)
    p = p * r + f(1.0 / 720.0)
    p = p * r + f(1.0 / 120.0)
    p = p * r + f(1.0 / 24.0)
    p = p * r + f(1.0 / 6.0)
    p = p * r + f(0.5)
    p = p * r + f(1.0)
    p = p * r + f(1.0)
    # h2 = 2^k exp(r) / a, scaled by 2^32 above and below: 2^k alone would be
    # subnormal from x = -13.2 on, the quotient rounds once
    s = _bits_to_float(np.int32((np.int32(k) + 159) << 23))
    h2 = _div(p * s, a * f(4294967296.0))
    h = _select(r2, h2, _select(r1, h1, h0))
    y = _select(x < f(-14.5), f(0.0), _select(x < f(0.0), h, f(1.0) - h))
    return _select(x != x, x, y)


def vexp(x):
    """exp of a float32 or float64 scalar, vectorisable in nopython loops."""
    return np.exp(x)


def vtanh(x):
    """tanh of a float32 or float64 scalar, vectorisable in nopython loops."""
    return np.tanh(x)


def vexpm1(x):
    """exp(x) - 1 of a float32 or float64 scalar, vectorisable in nopython loops."""
    return np.expm1(x)


def vlog1p(x):
    """log(1 + x) of a float32 or float64 scalar, vectorisable in nopython loops."""
    return np.log1p(x)


def vndtr(x):
    """Standard normal CDF of a float32 or float64 scalar, vectorisable in nopython
    loops (without the JIT: scipy.special.ndtr)."""
    from scipy.special import ndtr

    return ndtr(x)


def _overload_per_dtype(stub, impl32, impl64, inline=False):
    """Register ``stub``'s nopython implementation: impl32 for a float32
    argument, impl64 for a float64 one."""

    @overload_kernel(stub, inline=inline)
    def _overload(x):
        if x == types.float32:
            return lambda x: impl32(x)
        if x == types.float64:
            return lambda x: impl64(x)

    return _overload


if not JIT_DISABLED:
    for _stub, _impl32, _impl64 in (
        (vexp, exp32, exp64),
        (vtanh, tanh32, tanh64),
        (vexpm1, expm1_32, expm1_64),
        (vlog1p, log1p32, log1p64),
    ):
        _overload_per_dtype(_stub, _impl32, _impl64)
    # inlined at Numba-IR level (module docstring), hence _div and _select
    _overload_per_dtype(vndtr, ndtr32, ndtr64, inline=True)
