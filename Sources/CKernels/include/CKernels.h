// Run-time-dispatched numeric kernels and a BLAS loaded at run time.
//
// Every kernel exists in three builds of the same source (KernelBodies.h):
// AVX-512 (F, BW, DQ, VL), AVX2 + FMA, and baseline x86-64 (SSE2). The best
// build the CPU and OS support is chosen on first use; NET2NET_ISA
// (avx512 | avx2 | baseline) lowers the choice, never raises it. Lane-wise
// arithmetic is the same in every build (no contraction into FMA, reductions
// in a fixed 16-lane order), so results are bit-identical across builds except
// in the depthwise convolutions, which use FMA where the CPU has it.
#ifndef NET2NET_CKERNELS_H
#define NET2NET_CKERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: instruction-set dispatch

typedef enum {
    N2N_ISA_BASELINE = 0,
    N2N_ISA_AVX2 = 1,
    N2N_ISA_AVX512 = 2,
} n2n_isa;

/// The build in use (chosen on first call).
n2n_isa n2n_isa_current(void);
/// The best build this CPU and OS support.
n2n_isa n2n_isa_supported(void);
/// Switches to `isa`, or to the best supported build below it; returns the build now in use.
n2n_isa n2n_isa_select(n2n_isa isa);
/// "avx512", "avx2" or "baseline".
const char *n2n_isa_name(n2n_isa isa);
/// The CPU's brand string (e.g. "AMD EPYC 9R14"), and its vendor ("GenuineIntel", "AuthenticAMD").
void n2n_cpu_brand(char *brand, size_t capacity);
void n2n_cpu_vendor(char *vendor, size_t capacity);
/// Space-separated CPU features that matter here: "sse4.2 avx avx2 fma avx512f avx512bw avx512dq avx512vl avx512_bf16 amx".
void n2n_cpu_features(char *features, size_t capacity);

// MARK: activations used in the epilogues

typedef enum {
    N2N_ACT_NONE = 0,
    N2N_ACT_RELU = 1,   // max(x, 0)
    N2N_ACT_RELU6 = 2,  // min(max(x, 0), 6)
    N2N_ACT_TANH = 3,
} n2n_activation;

// MARK: elementwise maps (y may alias x)

void n2n_exp(const float *x, float *y, long n);
void n2n_tanh(const float *x, float *y, long n);
void n2n_sigmoid(const float *x, float *y, long n);
void n2n_erf(const float *x, float *y, long n);
void n2n_gelu(const float *x, float *y, long n);
/// y = x > 0 ? x : slope·x
void n2n_leaky_relu(const float *x, float *y, long n, float slope);
/// dx = x ≤ 0 ? slope·dy : dy. With slope > 0 the output y has the sign of x, so y may stand for x.
void n2n_leaky_relu_backward(const float *x, const float *dy, float *dx, long n, float slope);
/// dx = dy·(1 − y²) from the output y = tanh(x)
void n2n_tanh_backward(const float *y, const float *dy, float *dx, long n);
/// y = act(s·x + t (+ r))  (r may be NULL; y may alias x)
void n2n_affine_activation(const float *x, float *y, long n, float s, float t, const float *r, n2n_activation act);
/// y[p, c] = act(s[c]·x[p, c] + t[c] (+ r[p, c])) for `rows` rows of `channels` (y may alias x)
void n2n_affine_activation_rows(const float *x, float *y, long rows, long channels, const float *s, const float *t,
                                const float *r, n2n_activation act);
/// y = (x − m)·s
void n2n_normalize(const float *x, float *y, long n, float m, float s);
/// y = a·x
void n2n_scale(const float *x, float *y, long n, float a);
/// y += a·x
void n2n_axpy(float a, const float *x, float *y, long n);
/// z = x + y
void n2n_add(const float *x, const float *y, float *z, long n);
/// z = x · y
void n2n_multiply(const float *x, const float *y, float *z, long n);
/// z = a·x − b − c·y (BatchNorm's backward)
void n2n_scaled_difference(const float *x, const float *y, float *z, long n, float a, float b, float c);

// MARK: reductions (16 lanes, then a fixed pairwise order)

float n2n_sum(const float *x, long n);
/// Σ x², in Double over blocks of 4096.
double n2n_sum_of_squares(const float *x, long n);
/// Σ (x − m)²
float n2n_sum_of_squared_deviations(const float *x, long n, float m);
float n2n_dot(const float *x, const float *y, long n);
/// 1 when every x is finite.
int n2n_all_finite(const float *x, long n);

// MARK: fused layers

/// One Adam/AMSGrad step over [0, n): see Adam.swift for the formula; the updated p is then multiplied
/// by `decay` (decoupled weight decay; 1 for none). Returns Σ g² of the unscaled gradient.
double n2n_adam(float *p, const float *g, float *m, float *v, float *vmax, long n, float beta1, float beta2,
                float epsilon, float step_size, float inverse_sqrt_bias2, float gradient_scale, int amsgrad,
                float decay);
/// Row-wise LayerNorm of z = x (+ r): y = γ ⊙ (z − μ)/√(σ² + ε) + β; width a multiple of 16 is fastest.
void n2n_layer_norm(const float *x, const float *r, const float *gamma, const float *beta, float epsilon, long rows,
                    long width, float *y);
/// Depthwise NCHW row: dst[j] = Σ_{u,v} f[u·kW + v]·src[u·row_length + j·stride + v] for j < count.
/// `src` must be readable up to (count−1)·stride + kW (+16 at stride 2) floats in each of kH rows.
void n2n_depthwise_row(const float *src, long row_length, const float *filter, long kernel_height, long kernel_width,
                       long stride, long count, float *dst);
/// Depthwise NHWC, output row i of one image (x `[H, W, C]`, weight `[kH, kW, C]`, out and r `[Wo, C]`):
/// out[j, c] = act(s[c]·Σ_{u,v} x[i·st − top + u, j·st − left + v, c]·w[u, v, c] + t[c] (+ r[j, c])),
/// taps outside the image skipped.
void n2n_depthwise_row_nhwc(const float *x, long height, long width, long channels, const float *weight,
                            long kernel_height, long kernel_width, long stride, long top, long left, long row,
                            long output_width, const float *s, const float *t, const float *r, n2n_activation act,
                            float *out);
/// col2im of a 4×4 window with stride 2 and padding 1 over a 2H × 2W plane, with the
/// plane's epilogue: out[y, x] = act(s·Σ columns[(u·4 + v)·row_stride + i·W + j] + t) over the
/// taps with y = 2i − 1 + u, x = 2j − 1 + v (0 ≤ i < H, 0 ≤ j < W), summed in tap order;
/// every output written once. The transposed convolution k4 s2 p1 (DCGAN) and the input
/// gradient of the convolution k4 s2 p1 of an even-sided image.
void n2n_col2im_k4s2(const float *columns, long row_stride, long height, long width, float s, float t,
                     n2n_activation act, float *out);
/// im2col of one H × W plane for a kH × kW window with stride 1 or 2 at out_h × out_w
/// positions, the image shifted by (top, left) and zero outside:
/// columns[(u·kW + v)·row_stride + i·out_w + j] = x[i·stride − top + u, j·stride − left + v].
/// Writes nothing past each tap's out_h·out_w values. Returns 1, or 0 without writing anything
/// for another stride or a plane whose zero-bordered copy exceeds 8192 floats (32 KB on the stack).
int n2n_im2col_plane(const float *x, long height, long width, long kernel_height, long kernel_width, long stride,
                      long top, long left, long out_h, long out_w, float *columns, long row_stride);
/// The adjoint of n2n_im2col_plane for planes whose zero-bordered rows fit a vector
/// ((out_w − 1)·stride + kernel_width ≤ 16, width ≤ 16, at most 64 bordered rows) and stride 1 or 2:
/// x[i·stride − top + u, j·stride − left + v] = Σ columns[(u·kW + v)·row_stride + i·out_w + j],
/// each pixel's sum taken in tap order from 0 (so it equals the scalar loop bit for bit), 0 where
/// no tap reaches; every pixel written. Returns 1, or 0 without writing anything for other planes,
/// and always in builds without lane permutes.
int n2n_col2im_plane(const float *columns, long row_stride, long height, long width, long kernel_height,
                     long kernel_width, long stride, long top, long left, long out_h, long out_w, float *x);
/// Row-major C ← α·op(A)·op(B) + β·C for op(A)·op(B) = A·B, A·Bᵀ or Aᵀ·B, single-threaded, reading the
/// operands where they are stored instead of packing them as BLAS does: for products of a batch with a
/// weight matrix streaming from memory (A·B, A·Bᵀ: A the batch) and for weight gradients (Aᵀ·B: k the
/// batch). β = 0 does not read C. Returns 1, or 0 without writing anything for Aᵀ·Bᵀ, empty shapes,
/// more than 16384 rows of A·B, and in builds without lane permutes.
int n2n_sgemm_in_place(int transpose_a, int transpose_b, long m, long n, long k, float alpha, const float *a, long lda,
                       const float *b, long ldb, float beta, float *c, long ldc);

// MARK: BLAS loaded at run time

/// Loads the BLAS once (later calls return the first result): NET2NET_BLAS names a
/// library file or soname, else the system OpenBLAS. Before an OpenBLAS loads, its
/// kernel (OPENBLAS_CORETYPE) is chosen from the CPU's features: see BLASLoader.c.
/// Returns 0 on success; otherwise a message is available from n2n_blas_error().
int n2n_blas_load(void);
const char *n2n_blas_error(void);
/// The loaded library's path, its own description (openblas_get_config), its
/// kernel (openblas_get_corename; "" when the library cannot say), and what the
/// loader decided about the kernel (a sentence, "" when nothing was decided).
const char *n2n_blas_library(void);
const char *n2n_blas_config(void);
const char *n2n_blas_kernel(void);
const char *n2n_blas_kernel_decision(void);
void n2n_blas_set_threads(int threads);
int n2n_blas_threads(void);
/// Row-major sgemm: C ← α·op(A)·op(B) + β·C.
void n2n_sgemm(int transpose_a, int transpose_b, int m, int n, int k, float alpha, const float *a, int lda,
               const float *b, int ldb, float beta, float *c, int ldc);
/// LAPACK dsyevd (column-major, Fortran convention); returns 0 when the library has none.
int n2n_dsyevd(char jobz, char uplo, int n, double *a, int lda, double *w, double *work, int lwork, int *iwork,
               int liwork, int *info);

#ifdef __cplusplus
}
#endif
#endif
