"""exp, log and tanh as branch-free C that gcc vectorizes: what `c.math` calls.

Expects: the names of the functions a module calls (`c_name`: `gradc_expf`
for f32, `gradc_exp` for f64, libm's naming).

Guarantees: `definitions` gives `static inline` C with no branches and no
calls, so a loop over them vectorizes at `-O3` without `-ffast-math`;
results within 3 ulp of the correctly rounded ones for f32 and f64, with
NumPy's special values (NaN in, NaN out; exp overflows to inf and
underflows through the subnormals to 0; log(0) = -inf, log(x < 0) = NaN,
log(inf) = inf; tanh(+-inf) = +-1, keeping the sign of zero).

`lower-loops-to-c{math=libm}` calls libm instead.

How the C keeps gcc from branching, and the errors measured:
docs/backend.md.
"""

from __future__ import annotations

from collections.abc import Iterable

from xdsl.dialects.builtin import Float32Type
from xdsl.ir import Attribute

INCLUDES = ("math.h", "stdint.h", "string.h")
"""What the definitions use: copysign, INFINITY and NAN; uint32_t; memcpy."""


def c_name(function: str, element: Attribute) -> str:
    """`gradc_expf` for f32, `gradc_exp` for f64 (libm's naming)."""
    return f"gradc_{function}{'f' if isinstance(element, Float32Type) else ''}"


BITS = """\
/* Bit casts: memcpy is how C reinterprets a float's bits; gcc emits no copy. */
static inline uint32_t gradc_bits_f32(float x) { uint32_t u; memcpy(&u, &x, sizeof u); return u; }
static inline float gradc_f32_from_bits(uint32_t u) { float x; memcpy(&x, &u, sizeof x); return x; }
static inline uint64_t gradc_bits_f64(double x) { uint64_t u; memcpy(&u, &x, sizeof u); return u; }
static inline double gradc_f64_from_bits(uint64_t u) { double x; memcpy(&x, &u, sizeof x); return x; }
/* `c ? a : b` with a mask: after `x = x < lo ? lo : x` gcc may fold what
   follows for x = lo on a branch of its own, and not vectorize (on AVX2). */
static inline float gradc_select_f32(int c, float a, float b)
{
    const uint32_t m = 0u - (uint32_t)c;
    return gradc_f32_from_bits((gradc_bits_f32(a) & m) | (gradc_bits_f32(b) & ~m));
}
static inline double gradc_select_f64(int c, double a, double b)
{
    const uint64_t m = 0u - (uint64_t)c;
    return gradc_f64_from_bits((gradc_bits_f64(a) & m) | (gradc_bits_f64(b) & ~m));
}"""

EXPM1_REDUCED_F32 = """\
/* expm1(r) for |r| <= ln2/2: r + r^2 * (1/2! + r/3! + ... + r^5/7!). The
   Taylor series truncated after r^7 is off by < 2^-26 relative; Horner in float
   adds about half an ulp. */
static inline float gradc_expm1f_reduced(float r)
{
    float q = 1.0f / 5040;
    q = q * r + 1.0f / 720;
    q = q * r + 1.0f / 120;
    q = q * r + 1.0f / 24;
    q = q * r + 1.0f / 6;
    q = q * r + 1.0f / 2;
    return r + r * r * q;
}"""

EXPM1_REDUCED_F64 = """\
/* expm1(r) for |r| <= ln2/2: r + r^2 * (1/2! + r/3! + ... + r^11/13!). The
   Taylor series truncated after r^13 is off by < 2^-57 relative; Horner in
   double adds about half an ulp. */
static inline double gradc_expm1_reduced(double r)
{
    double q = 1.0 / 6227020800;
    q = q * r + 1.0 / 479001600;
    q = q * r + 1.0 / 39916800;
    q = q * r + 1.0 / 3628800;
    q = q * r + 1.0 / 362880;
    q = q * r + 1.0 / 40320;
    q = q * r + 1.0 / 5040;
    q = q * r + 1.0 / 720;
    q = q * r + 1.0 / 120;
    q = q * r + 1.0 / 24;
    q = q * r + 1.0 / 6;
    q = q * r + 1.0 / 2;
    return r + r * r * q;
}"""

EXP_F32 = """\
/* exp(x) = 2^n * exp(r) with n = round(x / ln2), r = x - n ln2, |r| <= ln2/2.
   - Rounding: adding 1.5 * 2^23 leaves no fraction bits, so the sum is rounded
     to an integer, and its low mantissa bits hold n (no float-to-int convert).
   - Cody-Waite: ln2 = LN2_HI + LN2_LO where LN2_HI has 16 significant bits, so
     n * LN2_HI is exact for |n| < 2^8 and r keeps its low bits.
   - 2^n is two powers of two written into the exponent field, 2^(n/2) and
     2^(n - n/2), so that 2^128 (near overflow) and 2^-150 (subnormal results)
     need no special case; the last product rounds once.
   x is clamped to [-104, 89] first (exp is 0 or inf in float beyond), which
   bounds n; a NaN passes the clamps and the arithmetic unchanged. */
static inline float gradc_expf(float x)
{
    const float shifter = 0x1.8p23f;
    x = gradc_select_f32(x < -104.0f, -104.0f, x);
    x = gradc_select_f32(x > 89.0f, 89.0f, x);
    const float z = x * 0x1.715476p0f + shifter;
    const float n = z - shifter;
    const float r = (x - n * 0x1.62e4p-1f) - n * 0x1.7f7d1cp-20f;
    /* k = n + 256 >= 0; k1 = floor(n/2) + 128 and k2 = n - floor(n/2) + 128,
       and a biased exponent e + 127 is k - 1. */
    const uint32_t k = gradc_bits_f32(z) - gradc_bits_f32(shifter) + 256;
    const uint32_t k1 = k >> 1, k2 = k - k1;
    const float scale1 = gradc_f32_from_bits((k1 - 1) << 23);
    const float scale2 = gradc_f32_from_bits((k2 - 1) << 23);
    return (1.0f + gradc_expm1f_reduced(r)) * scale1 * scale2;
}"""

EXP_F64 = """\
/* exp(x) = 2^n * exp(r) with n = round(x / ln2), r = x - n ln2, |r| <= ln2/2.
   - Rounding: adding 1.5 * 2^52 leaves no fraction bits, so the sum is rounded
     to an integer, and its low mantissa bits hold n (no float-to-int convert).
   - Cody-Waite: ln2 = LN2_HI + LN2_LO where LN2_HI has 32 significant bits, so
     n * LN2_HI is exact for |n| < 2^21 and r keeps its low bits.
   - 2^n is two powers of two written into the exponent field, 2^(n/2) and
     2^(n - n/2), so that 2^1024 (near overflow) and 2^-1075 (subnormal
     results) need no special case; the last product rounds once.
   x is clamped to [-746, 710] first (exp is 0 or inf in double beyond), which
   bounds n; a NaN passes the clamps and the arithmetic unchanged. */
static inline double gradc_exp(double x)
{
    const double shifter = 0x1.8p52;
    x = gradc_select_f64(x < -746.0, -746.0, x);
    x = gradc_select_f64(x > 710.0, 710.0, x);
    const double z = x * 0x1.71547652b82fep0 + shifter;
    const double n = z - shifter;
    const double r = (x - n * 0x1.62e42feep-1) - n * 0x1.a39ef35793c76p-33;
    /* k = n + 2048 >= 0; k1 = floor(n/2) + 1024 and k2 = n - floor(n/2) + 1024,
       and a biased exponent e + 1023 is k - 1. */
    const uint64_t k = gradc_bits_f64(z) - gradc_bits_f64(shifter) + 2048;
    const uint64_t k1 = k >> 1, k2 = k - k1;
    const double scale1 = gradc_f64_from_bits((k1 - 1) << 52);
    const double scale2 = gradc_f64_from_bits((k2 - 1) << 52);
    return (1.0 + gradc_expm1_reduced(r)) * scale1 * scale2;
}"""

TANH_F32 = """\
/* tanh(x) = sign(x) * -u / (2 + u) with u = expm1(-2|x|) in (-1, 0]: no
   cancellation anywhere (tanh(tiny) = tiny, exactly), one division.
   expm1(y) = 2^n expm1(r) + (2^n - 1) with y = n ln2 + r as in gradc_expf;
   y is clamped to -40, where expm1 is already -1 in float, so 2^n is normal.
   tanh(+-inf) = +-1, NaN stays NaN, and copysign keeps the sign of -0. */
static inline float gradc_tanhf(float x)
{
    const float shifter = 0x1.8p23f;
    float y = -2.0f * fabsf(x);
    y = gradc_select_f32(y < -40.0f, -40.0f, y);
    const float z = y * 0x1.715476p0f + shifter;
    const float n = z - shifter;
    const float r = (y - n * 0x1.62e4p-1f) - n * 0x1.7f7d1cp-20f;
    const float scale = gradc_f32_from_bits((gradc_bits_f32(z) - gradc_bits_f32(shifter) + 127) << 23);
    const float u = scale * gradc_expm1f_reduced(r) + (scale - 1.0f);
    return copysignf(-u / (2.0f + u), x);
}"""

TANH_F64 = """\
/* tanh(x) = sign(x) * -u / (2 + u) with u = expm1(-2|x|) in (-1, 0]: no
   cancellation anywhere (tanh(tiny) = tiny, exactly), one division.
   expm1(y) = 2^n expm1(r) + (2^n - 1) with y = n ln2 + r as in gradc_exp;
   y is clamped to -40, where expm1 is already -1 in double, so 2^n is normal.
   tanh(+-inf) = +-1, NaN stays NaN, and copysign keeps the sign of -0. */
static inline double gradc_tanh(double x)
{
    const double shifter = 0x1.8p52;
    double y = -2.0 * fabs(x);
    y = gradc_select_f64(y < -40.0, -40.0, y);
    const double z = y * 0x1.71547652b82fep0 + shifter;
    const double n = z - shifter;
    const double r = (y - n * 0x1.62e42feep-1) - n * 0x1.a39ef35793c76p-33;
    const double scale = gradc_f64_from_bits((gradc_bits_f64(z) - gradc_bits_f64(shifter) + 1023) << 52);
    const double u = scale * gradc_expm1_reduced(r) + (scale - 1.0);
    return copysign(-u / (2.0 + u), x);
}"""

LOG_F32 = """\
/* log(x) = k ln2 + log(m) with x = m 2^k, m in [sqrt(1/2), sqrt(2)).
   - Subnormal x is first multiplied by 2^23 (and k lowered by 23).
   - k and m come from the bits: subtracting the bits of sqrt(1/2) makes the
     exponent field floor(log2(x / sqrt(1/2))); the mantissa bits, added back
     to those of sqrt(1/2), are m.
   - With f = m - 1 (exact) and s = f / (2 + f), |s| < 0.172:
     log(m) = 2 atanh(s) = 2s + s R, R = sum_j 2 s^2j / (2j + 1), j = 1..4
     (truncation < 2^-31 relative). As 2s = f - s f = f - (hfsq - s hfsq)
     with hfsq = f^2 / 2, log(m) = f - (hfsq - s (hfsq + R)): f, the
     largest term, is added last, which keeps log(x) near x = 1 accurate.
   - ln2 = LN2_HI + LN2_LO (Cody-Waite) so that k LN2_HI is exact.
   The special cases are computed anyway and selected at the end. */
static inline float gradc_logf(float x)
{
    const uint32_t sqrt_half = 0x3f3504f3;
    /* A mask rather than `?:`: gcc would make a branch of a choice used twice. */
    const uint32_t tiny = 0u - (uint32_t)(x < 0x1p-126f);
    const uint32_t bits = (gradc_bits_f32(x * 0x1p23f) & tiny) | (gradc_bits_f32(x) & ~tiny);
    const uint32_t d = bits - sqrt_half;
    /* gcc shifts signed integers arithmetically: floor(d / 2^23). */
    const float k = (float)(((int32_t)d >> 23) - (int32_t)(tiny & 23));
    const float f = gradc_f32_from_bits((d & 0x007fffff) + sqrt_half) - 1.0f;
    const float s = f / (2.0f + f);
    const float z = s * s;
    const float hfsq = 0.5f * f * f;
    float R = 2.0f / 9;
    R = R * z + 2.0f / 7;
    R = R * z + 2.0f / 5;
    R = R * z + 2.0f / 3;
    R = R * z;
    const float result = k * 0x1.62e4p-1f - ((hfsq - (s * (hfsq + R) + k * 0x1.7f7d1cp-20f)) - f);
    /* x <= 0, inf and NaN (after `?:`, gcc would move the whole computation
       into a branch for the ordinary case). */
    const float special = x < 0.0f ? NAN : x == 0.0f ? -INFINITY : x;
    return gradc_select_f32(!(x > 0.0f) | (x == INFINITY), special, result);
}"""

LOG_F64 = """\
/* log(x) = k ln2 + log(m) with x = m 2^k, m in [sqrt(1/2), sqrt(2)).
   - Subnormal x is first multiplied by 2^52 (and k lowered by 52).
   - k and m come from the bits: subtracting the bits of sqrt(1/2) makes the
     exponent field floor(log2(x / sqrt(1/2))); the mantissa bits, added back
     to those of sqrt(1/2), are m.
   - With f = m - 1 (exact) and s = f / (2 + f), |s| < 0.172:
     log(m) = 2 atanh(s) = 2s + s R, R = sum_j 2 s^2j / (2j + 1), j = 1..10
     (truncation < 2^-60 relative). As 2s = f - s f = f - (hfsq - s hfsq)
     with hfsq = f^2 / 2, log(m) = f - (hfsq - s (hfsq + R)): f, the
     largest term, is added last, which keeps log(x) near x = 1 accurate.
   - ln2 = LN2_HI + LN2_LO (Cody-Waite) so that k LN2_HI is exact.
   The special cases are computed anyway and selected at the end. */
static inline double gradc_log(double x)
{
    const uint64_t sqrt_half = 0x3fe6a09e667f3bcd;
    /* A mask rather than `?:`: gcc would make a branch of a choice used twice. */
    const uint64_t tiny = 0u - (uint64_t)(x < 0x1p-1022);
    const uint64_t bits = (gradc_bits_f64(x * 0x1p52) & tiny) | (gradc_bits_f64(x) & ~tiny);
    const uint64_t d = bits - sqrt_half;
    /* floor(d / 2^52), with d read as signed: offset by 2^62 to shift an
       unsigned number (AVX2 has no arithmetic shift of 64-bit lanes). int32_t
       converts to double exactly, so gcc need not fear an inexact trap. */
    const double k = (double)((int32_t)((d + ((uint64_t)1 << 62)) >> 52) - 1024 - (int32_t)(tiny & 52));
    const double f = gradc_f64_from_bits((d & 0x000fffffffffffff) + sqrt_half) - 1.0;
    const double s = f / (2.0 + f);
    const double z = s * s;
    const double hfsq = 0.5 * f * f;
    double R = 2.0 / 21;
    R = R * z + 2.0 / 19;
    R = R * z + 2.0 / 17;
    R = R * z + 2.0 / 15;
    R = R * z + 2.0 / 13;
    R = R * z + 2.0 / 11;
    R = R * z + 2.0 / 9;
    R = R * z + 2.0 / 7;
    R = R * z + 2.0 / 5;
    R = R * z + 2.0 / 3;
    R = R * z;
    const double result = k * 0x1.62e42feep-1 - ((hfsq - (s * (hfsq + R) + k * 0x1.a39ef35793c76p-33)) - f);
    /* x <= 0, inf and NaN (after `?:`, gcc would move the whole computation
       into a branch for the ordinary case). */
    const double special = x < 0.0 ? NAN : x == 0.0 ? -INFINITY : x;
    return gradc_select_f64(!(x > 0.0) | (x == INFINITY), special, result);
}"""

DEFINITIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "gradc_bits": (BITS, ()),
    "gradc_expm1f_reduced": (EXPM1_REDUCED_F32, ()),
    "gradc_expm1_reduced": (EXPM1_REDUCED_F64, ()),
    "gradc_expf": (EXP_F32, ("gradc_bits", "gradc_expm1f_reduced")),
    "gradc_exp": (EXP_F64, ("gradc_bits", "gradc_expm1_reduced")),
    "gradc_tanhf": (TANH_F32, ("gradc_bits", "gradc_expm1f_reduced")),
    "gradc_tanh": (TANH_F64, ("gradc_bits", "gradc_expm1_reduced")),
    "gradc_logf": (LOG_F32, ("gradc_bits",)),
    "gradc_log": (LOG_F64, ("gradc_bits",)),
}
"""C name -> (definition, what it calls); in an order where callees come first."""


def definitions(used: Iterable[str]) -> list[str]:
    """The C definitions `used` functions need, callees included, each once and
    in a fixed order (so the generated source is deterministic).

    The functions are those of `c.math` (gradc.dialects.c.GRADC_MATH_FUNCTIONS)."""
    needed = set()
    for name in used:
        needed.add(name)
        needed.update(DEFINITIONS[name][1])
    return [text for name, (text, _) in DEFINITIONS.items() if name in needed]
