// The kernels, written once and compiled once per instruction set: the file
// that includes this one defines ISA_SUFFIX (the name suffix), KERNEL_FMA
// (1 when the build may fuse multiply-adds), KERNEL_PERMUTE (512 or 256 for the
// width of the build's lane permutes and masked loads and stores, 0 for none;
// those builds include <immintrin.h> first) and wraps the include in a
// `#pragma clang attribute push(target(…))`.
//
// Vectors are 16 floats whatever the build: one zmm register with AVX-512,
// two ymm with AVX2, four xmm on the baseline. Only the depthwise
// convolutions fuse multiply-adds; everything else is the same sequence of
// IEEE operations per lane in every build, so results do not depend on the CPU.

#include <stdint.h>
#include <string.h>
#include "KernelTable.h"

#pragma clang fp contract(off)
// Helpers pass 16-float vectors by value; they are always inlined, so no call ABI is involved.
#pragma clang diagnostic ignored "-Wpsabi"

#define CONCAT_(a, b) a##_##b
#define CONCAT(a, b) CONCAT_(a, b)
#define K(name) CONCAT(name, ISA_SUFFIX)

typedef float vf __attribute__((ext_vector_type(16)));
typedef int32_t vi __attribute__((ext_vector_type(16)));
#define W 16L

static inline __attribute__((always_inline)) vf K(load)(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline __attribute__((always_inline)) void K(store)(float *p, vf v) { memcpy(p, &v, sizeof v); }
/// Lanes [0, n) from p, the rest `fill`.
static inline __attribute__((always_inline)) vf K(load_tail)(const float *p, long n, float fill) {
    vf v = fill;
    for (long i = 0; i < n; i++) v[i] = p[i];
    return v;
}
static inline __attribute__((always_inline)) void K(store_tail)(float *p, vf v, long n) {
    for (long i = 0; i < n; i++) p[i] = v[i];
}
/// Σ lanes, in a fixed pairwise order.
static inline __attribute__((always_inline)) float K(hsum)(vf v) {
    typedef float v8 __attribute__((ext_vector_type(8)));
    typedef float v4 __attribute__((ext_vector_type(4)));
    v8 a = v.lo + v.hi;
    v4 b = a.lo + a.hi;
    return (b.x + b.z) + (b.y + b.w);
}
static inline __attribute__((always_inline)) vf K(madd)(vf a, vf b, vf c) {
#if KERNEL_FMA
    return __builtin_elementwise_fma(a, b, c);
#else
    return a * b + c;
#endif
}

#if KERNEL_PERMUTE
// Lane permutes and masked loads and stores, which the vector extension cannot express
// portably; the baseline build does without them.
static inline __attribute__((always_inline)) vi K(lane_numbers)(void) {
    return (vi){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
}
/// The most zero-bordered rows the lane-permute im2col and col2im keep (one vector each).
enum { narrowMaxRows = 64 };
#if KERNEL_PERMUTE == 512
/// result[l] = table[index[l]], index in [0, 16).
static inline __attribute__((always_inline)) vf K(permute)(vf table, vi index) {
    return (vf)_mm512_permutexvar_ps((__m512i)index, (__m512)table);
}
/// Lanes [c0, c1) from p + c0 ..< p + c1, the rest 0; nothing outside them is read.
static inline __attribute__((always_inline)) vf K(load_lanes)(const float *p, long c0, long c1) {
    __mmask16 lanes = (__mmask16)(((1u << c1) - 1) & ~((1u << c0) - 1));
    return (vf)_mm512_maskz_loadu_ps(lanes, p);
}
/// Lanes [0, n) to p ..< p + n; nothing after them is written.
static inline __attribute__((always_inline)) void K(store_first)(float *p, vf v, long n) {
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)v);
}
#else
typedef float vf8 __attribute__((ext_vector_type(8)));
typedef int32_t vi8 __attribute__((ext_vector_type(8)));
static inline __attribute__((always_inline)) vf8 K(permute_half)(vf table, vi8 index) {
    vf8 low = (vf8)_mm256_permutevar8x32_ps((__m256)table.lo, (__m256i)index);
    vf8 high = (vf8)_mm256_permutevar8x32_ps((__m256)table.hi, (__m256i)index);
    return index >= 8 ? high : low;
}
static inline __attribute__((always_inline)) vf K(permute)(vf table, vi index) {
    vf result;
    result.lo = K(permute_half)(table, index.lo);
    result.hi = K(permute_half)(table, index.hi);
    return result;
}
static inline __attribute__((always_inline)) vf K(load_lanes)(const float *p, long c0, long c1) {
    vi lane = K(lane_numbers)(), inside = lane >= (int32_t)c0 & lane < (int32_t)c1;
    vf result;
    result.lo = (vf8)_mm256_maskload_ps(p, (__m256i)inside.lo);
    result.hi = (vf8)_mm256_maskload_ps(p + 8, (__m256i)inside.hi);
    return result;
}
static inline __attribute__((always_inline)) void K(store_first)(float *p, vf v, long n) {
    vi inside = K(lane_numbers)() < (int32_t)n;
    _mm256_maskstore_ps(p, (__m256i)inside.lo, (__m256)v.lo);
    _mm256_maskstore_ps(p + 8, (__m256i)inside.hi, (__m256)v.hi);
}
#endif
#endif

// MARK: transcendentals (no libm per element)

/// e^x: range reduction to 2ⁿ·e^r, |r| ≤ ln2/2, Cephes' degree-6 polynomial
/// for e^r (≈ 2 ulp on [-87, 88]). Above 88.72 gives +Inf, below -87.34 gives 0; NaN stays NaN.
static inline __attribute__((always_inline)) vf K(vexp)(vf x) {
    const float log2e = 1.44269504088896341f, ln2High = 0.693359375f, ln2Low = -2.12194440e-4f;
    const float magic = 12582912.0f;  // 1.5·2²³: adding it rounds to an integer in the low mantissa bits
    vf c = x < -87.33654f ? (vf)-87.33654f : x;
    c = c > 88.72283f ? (vf)88.72283f : c;
    vf shifted = c * log2e + magic;
    vf n = shifted - magic;
    vf r = c - n * ln2High;
    r = r - n * ln2Low;
    vf p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    // 2ⁿ as 2^⌊n/2⌋·2^(n−⌊n/2⌋): n reaches 128 near the top, which one exponent field cannot hold.
    vi nBits = (vi)shifted - (vi)(vf)magic;
    vi nHalf = nBits >> 1;
    vf twoNHalf = (vf)((nHalf + 127) << 23);
    vf twoNRest = (vf)((nBits - nHalf + 127) << 23);
    vf result = p * twoNHalf * twoNRest;
    result = x > 88.72283f ? (vf)__builtin_inff() : result;
    result = x < -87.33654f ? (vf)0.0f : result;
    return x != x ? x : result;
}

/// tanh(x) = sign(x)·(1 − t)/(1 + t) with t = e^(−2|x|); an odd series below |x| = 1/16.
static inline __attribute__((always_inline)) vf K(vtanh)(vf x) {
    vf a = x < 0.0f ? -x : x;
    vf t = K(vexp)(-2.0f * a);
    vf y = (1.0f - t) / (1.0f + t);
    vf x2 = x * x;
    vf poly = -17.0f / 315.0f;
    poly = poly * x2 + 2.0f / 15.0f;
    poly = poly * x2 - 1.0f / 3.0f;
    poly = poly * x2 + 1.0f;
    vf series = x * poly;
    y = x < 0.0f ? -y : y;
    return a < 0.0625f ? series : y;
}

static inline __attribute__((always_inline)) vf K(vsigmoid)(vf x) { return 1.0f / (1.0f + K(vexp)(-x)); }

/// erf (N. Juffa's float minimax fits): |x| ≤ 0.9277: x + x·p(x²); above: sign(x)·(1 − e^q(|x|)).
static inline __attribute__((always_inline)) vf K(verf)(vf x) {
    vf t = x < 0.0f ? -x : x;
    vf s = x * x;
    vf r = (vf)-1.72853470e-5f * t + 3.83197126e-4f;
    vf u = (vf)-3.88396438e-3f * t + 2.42546219e-2f;
    r = r * s + u;
    r = r * t - 1.06777877e-1f;
    r = r * t - 6.34846687e-1f;
    r = r * t - 1.28717512e-1f;
    r = r * t - t;
    vf large = 1.0f - K(vexp)(r);
    large = x < 0.0f ? -large : large;
    vf p = -5.96761703e-4f;
    p = p * s + 4.99119423e-3f;
    p = p * s - 2.67681349e-2f;
    p = p * s + 1.12819925e-1f;
    p = p * s - 3.76125336e-1f;
    p = p * s + 1.28379166e-1f;
    vf small = p * x + x;
    return t > 0.927734375f ? large : small;
}

/// BERT's exact GELU: ½·x·(1 + erf(x/√2)).
static inline __attribute__((always_inline)) vf K(vgelu)(vf x) { return 0.5f * x * (1.0f + K(verf)(x * 0.70710678118654752f)); }

static inline __attribute__((always_inline)) vf K(activate)(vf v, n2n_activation act) {
    switch (act) {
    case N2N_ACT_NONE: return v;
    case N2N_ACT_RELU: return v < 0.0f ? (vf)0.0f : v;
    case N2N_ACT_RELU6: v = v < 0.0f ? (vf)0.0f : v; return v > 6.0f ? (vf)6.0f : v;
    case N2N_ACT_TANH: return K(vtanh)(v);
    }
    return v;
}

// MARK: maps

// One input: y[i] = EXPR(v) with v = x[i]; the tail goes through one zero-padded vector.
#define MAP1(name, params, EXPR)                                                   \
    static void K(name)(const float *x, float *y, long n params) {                \
        long i = 0;                                                                \
        for (; i + W <= n; i += W) { vf v = K(load)(x + i); K(store)(y + i, EXPR); } \
        if (i < n) { vf v = K(load_tail)(x + i, n - i, 0.0f); K(store_tail)(y + i, EXPR, n - i); } \
    }
// Two inputs: z[i] = EXPR(a, b) with a = x[i], b = y[i].
#define MAP2(name, params, EXPR)                                                   \
    static void K(name)(const float *x, const float *y, float *z, long n params) { \
        long i = 0;                                                                \
        for (; i + W <= n; i += W) { vf a = K(load)(x + i), b = K(load)(y + i); K(store)(z + i, EXPR); } \
        if (i < n) {                                                               \
            vf a = K(load_tail)(x + i, n - i, 0.0f), b = K(load_tail)(y + i, n - i, 0.0f); \
            K(store_tail)(z + i, EXPR, n - i);                                     \
        }                                                                          \
    }
#define NONE
#define P(...) , __VA_ARGS__

MAP1(exp_map, NONE, K(vexp)(v))
MAP1(tanh_map, NONE, K(vtanh)(v))
MAP1(sigmoid_map, NONE, K(vsigmoid)(v))
MAP1(erf_map, NONE, K(verf)(v))
MAP1(gelu_map, NONE, K(vgelu)(v))
MAP1(leaky_relu, P(float slope), (v < 0.0f ? v * slope : v))
MAP1(normalize, P(float m, float s), ((v - m) * s))
MAP1(scale, P(float a), (v * a))
MAP2(leaky_relu_backward, P(float slope), (a <= 0.0f ? b * slope : b))
MAP2(tanh_backward, NONE, (b * (1.0f - a * a)))
MAP2(add, NONE, (a + b))
MAP2(multiply, NONE, (a * b))
MAP2(scaled_difference, P(float s, float t, float c), (s * a - t - b * c))

static void K(affine_activation)(const float *x, float *y, long n, float s, float t, const float *r,
                                 n2n_activation act) {
    long i = 0;
    if (r) {
        for (; i + W <= n; i += W) K(store)(y + i, K(activate)(K(load)(x + i) * s + t + K(load)(r + i), act));
        if (i < n) {
            vf v = K(load_tail)(x + i, n - i, 0.0f) * s + t + K(load_tail)(r + i, n - i, 0.0f);
            K(store_tail)(y + i, K(activate)(v, act), n - i);
        }
    } else {
        for (; i + W <= n; i += W) K(store)(y + i, K(activate)(K(load)(x + i) * s + t, act));
        if (i < n) K(store_tail)(y + i, K(activate)(K(load_tail)(x + i, n - i, 0.0f) * s + t, act), n - i);
    }
}

/// y[p, c] = act(s[c]·x[p, c] + t[c] (+ r[p, c])).
static inline __attribute__((always_inline)) void K(affine_channels)(const float *x, float *y, long C, const float *s, const float *t,
                                      const float *r, n2n_activation act) {
    long c = 0;
    for (; c + W <= C; c += W) {
        vf v = K(load)(x + c) * K(load)(s + c) + K(load)(t + c);
        if (r) v = v + K(load)(r + c);
        K(store)(y + c, K(activate)(v, act));
    }
    if (c < C) {
        long m = C - c;
        vf v = K(load_tail)(x + c, m, 0.0f) * K(load_tail)(s + c, m, 0.0f) + K(load_tail)(t + c, m, 0.0f);
        if (r) v = v + K(load_tail)(r + c, m, 0.0f);
        K(store_tail)(y + c, K(activate)(v, act), m);
    }
}

static void K(affine_activation_rows)(const float *x, float *y, long rows, long channels, const float *s,
                                      const float *t, const float *r, n2n_activation act) {
    for (long p = 0; p < rows; p++)
        K(affine_channels)(x + p * channels, y + p * channels, channels, s, t, r ? r + p * channels : 0, act);
}

static void K(axpy)(float a, const float *x, float *y, long n) {
    long i = 0;
    for (; i + W <= n; i += W) K(store)(y + i, K(load)(y + i) + a * K(load)(x + i));
    for (; i < n; i++) y[i] = y[i] + a * x[i];
}

// MARK: reductions

static float K(sum)(const float *x, long n) {
    vf acc = 0.0f;
    long i = 0;
    for (; i + W <= n; i += W) acc += K(load)(x + i);
    if (i < n) acc += K(load_tail)(x + i, n - i, 0.0f);
    return K(hsum)(acc);
}

static double K(sum_of_squares)(const float *x, long n) {
    double total = 0;
    for (long start = 0; start < n; start += 4096) {
        long m = n - start < 4096 ? n - start : 4096;
        const float *p = x + start;
        vf acc = 0.0f;
        long i = 0;
        for (; i + W <= m; i += W) { vf v = K(load)(p + i); acc += v * v; }
        if (i < m) { vf v = K(load_tail)(p + i, m - i, 0.0f); acc += v * v; }
        total += (double)K(hsum)(acc);
    }
    return total;
}

static float K(sum_of_squared_deviations)(const float *x, long n, float m) {
    vf acc = 0.0f;
    long i = 0;
    for (; i + W <= n; i += W) { vf d = K(load)(x + i) - m; acc += d * d; }
    if (i < n) { vf d = K(load_tail)(x + i, n - i, m) - m; acc += d * d; }
    return K(hsum)(acc);
}

static float K(dot)(const float *x, const float *y, long n) {
    vf acc = 0.0f;
    long i = 0;
    for (; i + W <= n; i += W) acc += K(load)(x + i) * K(load)(y + i);
    if (i < n) acc += K(load_tail)(x + i, n - i, 0.0f) * K(load_tail)(y + i, n - i, 0.0f);
    return K(hsum)(acc);
}

static int K(all_finite)(const float *x, long n) {
    // x·0 is 0 for finite x and NaN for ±Inf and NaN; any NaN survives the sum.
    vf acc = 0.0f;
    long i = 0;
    for (; i + W <= n; i += W) acc += K(load)(x + i) * 0.0f;
    if (i < n) acc += K(load_tail)(x + i, n - i, 0.0f) * 0.0f;
    return K(hsum)(acc) == 0.0f;
}

// MARK: Adam

static double K(adam)(float *p, const float *g, float *m, float *v, float *vmax, long n, float b1, float b2,
                      float eps, float stepSize, float inverseSqrtBias2, float scale, int amsgrad, float decay) {
    double total = 0;
    const float c1 = 1.0f - b1, c2 = 1.0f - b2;
    for (long start = 0; start < n; start += 4096) {
        long end = n - start < 4096 ? n : start + 4096;
        vf acc = 0.0f;
        long i = start;
        for (; i < end; i += W) {
            long lanes = end - i < W ? end - i : W;
            vf raw, mi, vi_, pi, prev = 0.0f;
            if (lanes == W) {
                raw = K(load)(g + i); mi = K(load)(m + i); vi_ = K(load)(v + i); pi = K(load)(p + i);
                if (amsgrad) prev = K(load)(vmax + i);
            } else {
                raw = K(load_tail)(g + i, lanes, 0.0f); mi = K(load_tail)(m + i, lanes, 0.0f);
                vi_ = K(load_tail)(v + i, lanes, 0.0f); pi = K(load_tail)(p + i, lanes, 0.0f);
                if (amsgrad) prev = K(load_tail)(vmax + i, lanes, 0.0f);
            }
            acc += raw * raw;
            vf grad = raw * scale;
            mi = b1 * mi + c1 * grad;
            vi_ = b2 * vi_ + c2 * grad * grad;
            vf vhat = vi_;
            if (amsgrad) vhat = prev > vi_ ? prev : vi_;
            vf denominator = __builtin_elementwise_sqrt(vhat) * inverseSqrtBias2 + eps;
            pi = (pi - stepSize * mi / denominator) * decay;  // × 1 is exact: no decay changes nothing
            if (lanes == W) {
                K(store)(m + i, mi); K(store)(v + i, vi_); K(store)(p + i, pi);
                if (amsgrad) K(store)(vmax + i, vhat);
            } else {
                K(store_tail)(m + i, mi, lanes); K(store_tail)(v + i, vi_, lanes); K(store_tail)(p + i, pi, lanes);
                if (amsgrad) K(store_tail)(vmax + i, vhat, lanes);
            }
        }
        total += (double)K(hsum)(acc);
    }
    return total;
}

// MARK: LayerNorm

static void K(layer_norm)(const float *x, const float *r, const float *gamma, const float *beta, float epsilon,
                          long rows, long width, float *y) {
    for (long row = 0; row < rows; row++) {
        const float *xr = x + row * width, *rr = r ? r + row * width : 0;
        float *yr = y + row * width;
        vf sum = 0.0f;
        long i = 0;
        for (; i + W <= width; i += W) {
            vf z = K(load)(xr + i);
            if (rr) z = z + K(load)(rr + i);
            K(store)(yr + i, z);
            sum += z;
        }
        if (i < width) {
            vf z = K(load_tail)(xr + i, width - i, 0.0f);
            if (rr) z = z + K(load_tail)(rr + i, width - i, 0.0f);
            K(store_tail)(yr + i, z, width - i);
            sum += z;
        }
        float mean = K(hsum)(sum) / (float)width;
        float inverse = 1.0f / __builtin_sqrtf(K(sum_of_squared_deviations)(yr, width, mean) / (float)width + epsilon);
        for (i = 0; i + W <= width; i += W) {
            vf d = K(load)(yr + i) - mean;
            K(store)(yr + i, d * inverse * K(load)(gamma + i) + K(load)(beta + i));
        }
        if (i < width) {
            long m = width - i;
            vf d = K(load_tail)(yr + i, m, mean) - mean;
            K(store_tail)(yr + i, d * inverse * K(load_tail)(gamma + i, m, 0.0f) + K(load_tail)(beta + i, m, 0.0f), m);
        }
    }
}

// MARK: depthwise convolutions

/// 16 outputs at column j of a zero-bordered NCHW scratch plane.
static inline __attribute__((always_inline)) vf K(depthwise_vector)(const float *src, long rowLength, const float *filter, long kH, long kW,
                                     long s, long j) {
    vf a = 0.0f;
    for (long u = 0; u < kH; u++) {
        const float *row = src + u * rowLength + j * s;
        for (long v = 0; v < kW; v++) {
            vf w = filter[u * kW + v];
            vf in;
            if (s == 1) {
                in = K(load)(row + v);
            } else if (s == 2) {
                vf lo = K(load)(row + v), hi = K(load)(row + v + W);
                in = __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            } else {
                for (long l = 0; l < W; l++) in[l] = row[v + l * s];
            }
            a = K(madd)(w, in, a);
        }
    }
    return a;
}

static void K(depthwise_row)(const float *src, long rowLength, const float *filter, long kH, long kW, long s,
                             long count, float *dst) {
    long j = 0;
    for (; j + W <= count; j += W) K(store)(dst + j, K(depthwise_vector)(src, rowLength, filter, kH, kW, s, j));
    if (j < count) K(store_tail)(dst + j, K(depthwise_vector)(src, rowLength, filter, kH, kW, s, j), count - j);
}

static void K(depthwise_row_nhwc)(const float *x, long H, long Wd, long C, const float *weight, long kH, long kW,
                                  long s, long top, long left, long i, long wo, const float *scale,
                                  const float *shift, const float *r, n2n_activation act, float *out) {
    long r0 = i * s - top;
    long uLow = r0 < 0 ? -r0 : 0, uHigh = H - r0 < kH ? H - r0 : kH;
    for (long j = 0; j < wo; j++) {
        long q0 = j * s - left;
        long vLow = q0 < 0 ? -q0 : 0, vHigh = Wd - q0 < kW ? Wd - q0 : kW;
        float *o = out + j * C;
        const float *res = r ? r + j * C : 0;
        long c = 0;
        // Two vectors of channels at a time: independent accumulation chains.
        for (; c + 2 * W <= C; c += 2 * W) {
            vf a0 = 0.0f, a1 = 0.0f;
            for (long u = uLow; u < uHigh; u++) {
                const float *src = x + ((r0 + u) * Wd + q0) * C + c;
                const float *w = weight + u * kW * C + c;
                for (long v = vLow; v < vHigh; v++) {
                    a0 = K(madd)(K(load)(src + v * C), K(load)(w + v * C), a0);
                    a1 = K(madd)(K(load)(src + v * C + W), K(load)(w + v * C + W), a1);
                }
            }
            vf y0 = a0 * K(load)(scale + c) + K(load)(shift + c);
            vf y1 = a1 * K(load)(scale + c + W) + K(load)(shift + c + W);
            if (res) { y0 = y0 + K(load)(res + c); y1 = y1 + K(load)(res + c + W); }
            K(store)(o + c, K(activate)(y0, act));
            K(store)(o + c + W, K(activate)(y1, act));
        }
        for (; c < C; c += W) {
            long lanes = C - c < W ? C - c : W;
            vf a = 0.0f;
            for (long u = uLow; u < uHigh; u++) {
                const float *src = x + ((r0 + u) * Wd + q0) * C + c;
                const float *w = weight + u * kW * C + c;
                for (long v = vLow; v < vHigh; v++) {
                    vf xv = lanes == W ? K(load)(src + v * C) : K(load_tail)(src + v * C, lanes, 0.0f);
                    vf wv = lanes == W ? K(load)(w + v * C) : K(load_tail)(w + v * C, lanes, 0.0f);
                    a = K(madd)(xv, wv, a);
                }
            }
            vf y = a * K(load_tail)(scale + c, lanes, 0.0f) + K(load_tail)(shift + c, lanes, 0.0f);
            if (res) y = y + K(load_tail)(res + c, lanes, 0.0f);
            K(store_tail)(o + c, K(activate)(y, act), lanes);
        }
    }
}

// MARK: im2col with stride 1 or 2

#if KERNEL_PERMUTE
/// im2col of a plane whose zero-bordered rows are at most 16 wide (the small late layers of
/// a convolutional net, where a row of positions is narrower than a vector). Each bordered
/// row is one vector; every 16 consecutive positions of a tap are gathered from the rows
/// they span with one lane permute per row and written with one store, instead of a store
/// per row of positions. Returns 0, having written nothing, for wider or taller planes and
/// strides other than 1 and 2.
static int K(im2col_narrow)(const float *x, long H, long Wd, long kH, long kW, long stride, long top, long left,
                            long outH, long outW, float *columns, long rowStride) {
    long PH = (outH - 1) * stride + kH, PW = (outW - 1) * stride + kW;
    if ((stride != 1 && stride != 2) || PW > W || PH > narrowMaxRows) return 0;
    // Lane c of bordered row r is image column c − left, or 0 outside the image.
    vf rows[narrowMaxRows];
    long c0 = left > 0 ? left : 0, c1 = Wd + left < PW ? Wd + left : PW;
    for (long r = 0; r < PH; r++) {
        long i = r - top;
        rows[r] = i < 0 || i >= H || c1 <= c0 ? (vf)0.0f : K(load_lanes)(x + i * Wd - left, c0, c1);
    }
    long plane = outH * outW;
    const vi lane = K(lane_numbers)();
    const float inverseWidth = 1.0f / (float)outW;
    for (long first = 0; first < plane; first += W) {
        long count = plane - first < W ? plane - first : W;
        long i0 = first / outW, i1 = (first + count - 1) / outW;
        // Lane l is position first + l: row `row[l]`, bordered column `column[l]` for tap v = 0. The row
        // is (p + ½)/Wo rounded down, exact in float: p < 2¹⁴ here and its fraction is at least 1/(2·Wo) from 1.
        vi position = lane + (int32_t)first;
        vf fraction = (__builtin_convertvector(position, vf) + 0.5f) * inverseWidth;
        vi row = __builtin_convertvector(fraction, vi);
        vi column = (position - row * (int32_t)outW) * (int32_t)stride;
        float *dst = columns + first;
        for (long u = 0; u < kH; u++) {
            for (long v = 0; v < kW; v++, dst += rowStride) {
                vi index = column + (int32_t)v;
                vf value = 0.0f;
                for (long r = i0; r <= i1; r++) {
                    vf picked = K(permute)(rows[r * stride + u], index);
                    value = row == (int32_t)r ? picked : value;
                }
                if (count == W) K(store)(dst, value); else K(store_first)(dst, value, count);
            }
        }
    }
    return 1;
}
#endif

/// The adjoint of im2col_narrow, one bordered row at a time: each tap whose window row lands
/// on the row adds its positions, spread to their columns by a lane permute, in tap order
/// (lanes no position of the tap reaches add +0, which leaves every sum as it was); the
/// image's columns are then shifted out of the bordered row.
static int K(col2im_plane)(const float *columns, long rowStride, long H, long Wd, long kH, long kW, long stride,
                           long top, long left, long outH, long outW, float *x) {
#if KERNEL_PERMUTE
    long PH = (outH - 1) * stride + kH, PW = (outW - 1) * stride + kW;
    if ((stride != 1 && stride != 2) || PW > W || Wd > W || PH > narrowMaxRows) return 0;
    const vi lane = K(lane_numbers)();
    // Bordered column c takes position j = (c − v) / stride of tap column v, where that is one.
    // (Stride 1 or 2: shifts and masks instead of divisions, which have no vector instruction.)
    int32_t half = stride == 2, odd = (int32_t)stride - 1;
    vi from[W], reaches[W];
    for (long v = 0; v < kW; v++) {
        vi offset = lane - (int32_t)v;
        reaches[v] = offset >= 0 & (offset & odd) == 0 & (offset >> half) < (int32_t)outW;
        from[v] = reaches[v] ? offset >> half : 0;
    }
    vi shifted = lane + (int32_t)left, kept = shifted < (int32_t)PW;
    shifted = kept ? shifted : 0;
    for (long row = 0; row < H; row++) {
        long r = row + top;
        vf sum = 0.0f;
        for (long u = 0; u < kH && u <= r; u++) {
            long d = r - u, i = d >> half;
            if ((d & odd) != 0 || i >= outH) continue;
            for (long v = 0; v < kW; v++) {
                vf positions = K(load_lanes)(columns + (u * kW + v) * rowStride + i * outW, 0, outW);
                vf spread = K(permute)(positions, from[v]);
                sum = sum + (reaches[v] ? spread : 0.0f);
            }
        }
        vf pixels = K(permute)(sum, shifted);
        K(store_first)(x + row * Wd, kept ? pixels : 0.0f, Wd);
    }
    return 1;
#else
    (void)columns, (void)rowStride, (void)H, (void)Wd, (void)kH, (void)kW, (void)stride, (void)top, (void)left;
    (void)outH, (void)outW, (void)x;
    return 0;
#endif
}

static int K(im2col_plane)(const float *x, long H, long Wd, long kH, long kW, long stride, long top, long left,
                           long outH, long outW, float *columns, long rowStride) {
#if KERNEL_PERMUTE
    if (K(im2col_narrow)(x, H, Wd, kH, kW, stride, top, left, outH, outW, columns, rowStride)) return 1;
#endif
    // A zero-bordered copy covers every window: padded (r, c) is image (r − top, c − left).
    long PH = (outH - 1) * stride + kH, PW = (outW - 1) * stride + kW;
    long size = PH * PW + 2 * W + kW;  // slack: a row's last vector may read past its end
    float pad[8192];
    if ((stride != 1 && stride != 2) || size > 8192) return 0;
    memset(pad, 0, (size_t)size * sizeof(float));
    for (long r = 0; r < PH; r++) {
        long i = r - top;
        if (i < 0 || i >= H) continue;
        long c0 = left < 0 ? -left : 0, c1 = Wd < PW - left ? Wd : PW - left;
        if (c1 > c0) memcpy(pad + r * PW + c0 + left, x + i * Wd + c0, (size_t)(c1 - c0) * sizeof(float));
    }
    long plane = outH * outW;
    for (long u = 0; u < kH; u++) {
        for (long v = 0; v < kW; v++) {
            float *dst = columns + (u * kW + v) * rowStride;
            for (long i = 0; i < outH; i++) {
                const float *src = pad + (i * stride + u) * PW + v;
                for (long j = 0; j < outW; j += W) {
                    vf value;
                    if (stride == 1) {
                        value = K(load)(src + j);
                    } else {
                        vf lo = K(load)(src + 2 * j), hi = K(load)(src + 2 * j + W);
                        value = __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
                    }
                    // Lanes past the row's end spill into the next rows, which are written after
                    // this one; only the plane's end is a hard limit.
                    long at = i * outW + j, room = plane - at;
                    if (room >= W) K(store)(dst + at, value); else K(store_tail)(dst + at, value, room);
                }
            }
        }
    }
    return 1;
}

// MARK: col2im of a 4×4 window with stride 2 and padding 1

/// Lanes start ..< start + 16 of a row of n floats, 0 outside it.
static inline __attribute__((always_inline)) vf K(load_window)(const float *p, long start, long n) {
    if (start >= 0 && start + W <= n) return K(load)(p + start);
    vf v = 0.0f;
    for (long l = 0; l < W; l++) {
        long i = start + l;
        if (i >= 0 && i < n) v[l] = p[i];
    }
    return v;
}

/// Tap row `tap` read at q + shift, zero where `keep` is false.
static inline __attribute__((always_inline)) vf K(tap_window)(const float *columns, long rowStride, long tap, long q0,
                                                              long shift, long n, vi keep) {
    vf v = K(load_window)(columns + tap * rowStride, q0 + shift, n);
    return keep ? v : (vf)0.0f;
}

static void K(col2im_k4s2)(const float *columns, long rowStride, long H, long Wd, float s, float t,
                           n2n_activation act, float *out) {
    long n = H * Wd, outWidth = 2 * Wd;
    for (long q0 = 0; q0 < n; q0 += W) {
        // Each lane's input row a and column m, filled as plain arrays (inserting lanes one by one
        // into a vector spills it to the stack on every insert in the AVX2 build).
        int32_t rows[W], cols[W];
        long row = q0 / Wd, col = q0 % Wd;
        for (long l = 0; l < W; l++) {
            rows[l] = (int32_t)row; cols[l] = (int32_t)col;
            if (++col == Wd) { col = 0; row++; }
        }
        vi m;
        memcpy(&m, cols, sizeof m);
        vi left = m >= 1, right = m <= (int32_t)(Wd - 2), all = m == m;
        // Output (2a + ρ, 2m + κ) sums the taps (u, v) with u ≡ ρ + 1 and v ≡ κ + 1 (mod 2), read at
        // i = a + (1 + ρ − u)/2, j = m + (1 + κ − v)/2, in the order of increasing tap (as col2im adds them).
        // A read at j = m ± 1 would wrap into the neighbouring row, so it is masked; a read at
        // i = a ± 1 past the first or last row falls outside the plane, which the window zeroes.
#define TAP(u, v) K(tap_window)(columns, rowStride, (u) * 4 + (v), q0, ((1 + rho - (u)) / 2) * Wd + (1 + kappa - (v)) / 2, n, \
                                (v) == 3 ? left : (v) == 0 ? right : all)
        vf phase[4];
        for (int rho = 0; rho < 2; rho++) {
            for (int kappa = 0; kappa < 2; kappa++) {
                int u0 = 1 - rho, v0 = 1 - kappa;  // the smaller tap of each pair: 1 or 0
                vf sum = (vf)0.0f + TAP(u0, v0);
                sum = sum + TAP(u0, v0 + 2);
                sum = sum + TAP(u0 + 2, v0);
                sum = sum + TAP(u0 + 2, v0 + 2);
                phase[rho * 2 + kappa] = K(activate)(sum * s + t, act);
            }
        }
#undef TAP
        // Interleave the column phases and store each input row's run of lanes.
        for (int rho = 0; rho < 2; rho++) {
            typedef float vf2 __attribute__((ext_vector_type(32)));
            vf2 zipped = __builtin_shufflevector(phase[rho * 2], phase[rho * 2 + 1], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5,
                                                 21, 6, 22, 7, 23, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            float pairs[2 * W];
            memcpy(pairs, &zipped, sizeof pairs);
            long l = 0;
            while (l < W && q0 + l < n) {
                long r = rows[l], run = Wd - cols[l];
                if (run > W - l) run = W - l;
                if (run > n - q0 - l) run = n - q0 - l;
                memcpy(out + (2 * r + rho) * outWidth + 2 * cols[l], pairs + 2 * l, (size_t)(2 * run) * sizeof(float));
                l += run;
            }
        }
    }
}

#include "SmallGEMM.h"

const n2n_kernel_table K(n2n_kernels) = {
    .exp = K(exp_map),
    .tanh = K(tanh_map),
    .sigmoid = K(sigmoid_map),
    .erf = K(erf_map),
    .gelu = K(gelu_map),
    .leaky_relu = K(leaky_relu),
    .leaky_relu_backward = K(leaky_relu_backward),
    .tanh_backward = K(tanh_backward),
    .affine_activation = K(affine_activation),
    .affine_activation_rows = K(affine_activation_rows),
    .normalize = K(normalize),
    .axpy = K(axpy),
    .scale = K(scale),
    .add = K(add),
    .multiply = K(multiply),
    .scaled_difference = K(scaled_difference),
    .sum = K(sum),
    .sum_of_squares = K(sum_of_squares),
    .sum_of_squared_deviations = K(sum_of_squared_deviations),
    .dot = K(dot),
    .all_finite = K(all_finite),
    .adam = K(adam),
    .layer_norm = K(layer_norm),
    .depthwise_row = K(depthwise_row),
    .depthwise_row_nhwc = K(depthwise_row_nhwc),
    .col2im_k4s2 = K(col2im_k4s2),
    .im2col_plane = K(im2col_plane),
    .col2im_plane = K(col2im_plane),
    .sgemm_in_place = K(sgemm_in_place),
};
