// Chooses the kernel build for this CPU on first use and forwards every
// public kernel to it.
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "KernelTable.h"
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#if defined(__x86_64__)
/// Whether the OS saves the register state an instruction set needs (XCR0).
static int os_saves(unsigned mask) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;  // OSXSAVE
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & mask) == mask;
}
#endif

n2n_isa n2n_isa_supported(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512vl") && os_saves(0xE6))
        return N2N_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && os_saves(0x6)) return N2N_ISA_AVX2;
#endif
    return N2N_ISA_BASELINE;
}

const char *n2n_isa_name(n2n_isa isa) {
    switch (isa) {
    case N2N_ISA_AVX512: return "avx512";
    case N2N_ISA_AVX2: return "avx2";
    default: return "baseline";
    }
}

static const n2n_kernel_table *table_for(n2n_isa isa) {
#if defined(__x86_64__)
    if (isa == N2N_ISA_AVX512) return &n2n_kernels_avx512;
    if (isa == N2N_ISA_AVX2) return &n2n_kernels_avx2;
#endif
    return &n2n_kernels_baseline;
}

static _Atomic(const n2n_kernel_table *) current_table;
static _Atomic int current_isa = -1;

n2n_isa n2n_isa_select(n2n_isa wanted) {
    n2n_isa best = n2n_isa_supported();
    n2n_isa isa = wanted < best ? wanted : best;
    atomic_store(&current_isa, (int)isa);
    atomic_store(&current_table, table_for(isa));
    return isa;
}

/// The best supported build, lowered by NET2NET_ISA when it names a lower one.
static const n2n_kernel_table *kernels(void) {
    const n2n_kernel_table *table = atomic_load_explicit(&current_table, memory_order_acquire);
    if (table) return table;
    n2n_isa wanted = N2N_ISA_AVX512;
    const char *name = getenv("NET2NET_ISA");
    if (name && strcmp(name, "avx2") == 0) wanted = N2N_ISA_AVX2;
    if (name && strcmp(name, "baseline") == 0) wanted = N2N_ISA_BASELINE;
    n2n_isa_select(wanted);
    return atomic_load(&current_table);
}

n2n_isa n2n_isa_current(void) {
    kernels();
    return (n2n_isa)atomic_load(&current_isa);
}

void n2n_cpu_vendor(char *vendor, size_t capacity) {
    if (capacity == 0) return;
    vendor[0] = 0;
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    char v[13];
    memcpy(v, &b, 4); memcpy(v + 4, &d, 4); memcpy(v + 8, &c, 4); v[12] = 0;
    snprintf(vendor, capacity, "%s", v);
#endif
}

void n2n_cpu_brand(char *brand, size_t capacity) {
    if (capacity == 0) return;
    brand[0] = 0;
#if defined(__x86_64__)
    unsigned regs[12];
    if (__get_cpuid_max(0x80000000, 0) < 0x80000004) return;
    for (unsigned i = 0; i < 3; i++) __get_cpuid(0x80000002 + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
    char text[49];
    memcpy(text, regs, 48); text[48] = 0;
    const char *start = text;
    while (*start == ' ') start++;
    snprintf(brand, capacity, "%s", start);
    size_t n = strlen(brand);
    while (n > 0 && brand[n - 1] == ' ') brand[--n] = 0;
#endif
}

void n2n_cpu_features(char *features, size_t capacity) {
    if (capacity == 0) return;
    features[0] = 0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    size_t used = 0;
#define FEATURE(name)                                                                          \
    if (__builtin_cpu_supports(name) && used < capacity)                                        \
        used += (size_t)snprintf(features + used, capacity - used, "%s%s", used ? " " : "", name);
    FEATURE("sse4.2") FEATURE("avx") FEATURE("avx2") FEATURE("fma") FEATURE("avx512f") FEATURE("avx512bw")
    FEATURE("avx512dq") FEATURE("avx512vl") FEATURE("avx512vnni") FEATURE("avx512bf16")
#undef FEATURE
    unsigned a, b, c, d;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (d & (1u << 24)) && used < capacity)  // AMX-TILE
        used += (size_t)snprintf(features + used, capacity - used, "%samx", used ? " " : "");
#endif
}

// MARK: forwarding

void n2n_exp(const float *x, float *y, long n) { kernels()->exp(x, y, n); }
void n2n_tanh(const float *x, float *y, long n) { kernels()->tanh(x, y, n); }
void n2n_sigmoid(const float *x, float *y, long n) { kernels()->sigmoid(x, y, n); }
void n2n_erf(const float *x, float *y, long n) { kernels()->erf(x, y, n); }
void n2n_gelu(const float *x, float *y, long n) { kernels()->gelu(x, y, n); }
void n2n_leaky_relu(const float *x, float *y, long n, float slope) { kernels()->leaky_relu(x, y, n, slope); }
void n2n_leaky_relu_backward(const float *x, const float *dy, float *dx, long n, float slope) {
    kernels()->leaky_relu_backward(x, dy, dx, n, slope);
}
void n2n_tanh_backward(const float *y, const float *dy, float *dx, long n) { kernels()->tanh_backward(y, dy, dx, n); }
void n2n_affine_activation(const float *x, float *y, long n, float s, float t, const float *r, n2n_activation act) {
    kernels()->affine_activation(x, y, n, s, t, r, act);
}
void n2n_affine_activation_rows(const float *x, float *y, long rows, long channels, const float *s, const float *t,
                                const float *r, n2n_activation act) {
    kernels()->affine_activation_rows(x, y, rows, channels, s, t, r, act);
}
void n2n_normalize(const float *x, float *y, long n, float m, float s) { kernels()->normalize(x, y, n, m, s); }
void n2n_scale(const float *x, float *y, long n, float a) { kernels()->scale(x, y, n, a); }
void n2n_axpy(float a, const float *x, float *y, long n) { kernels()->axpy(a, x, y, n); }
void n2n_add(const float *x, const float *y, float *z, long n) { kernels()->add(x, y, z, n); }
void n2n_multiply(const float *x, const float *y, float *z, long n) { kernels()->multiply(x, y, z, n); }
void n2n_scaled_difference(const float *x, const float *y, float *z, long n, float a, float b, float c) {
    kernels()->scaled_difference(x, y, z, n, a, b, c);
}
float n2n_sum(const float *x, long n) { return kernels()->sum(x, n); }
double n2n_sum_of_squares(const float *x, long n) { return kernels()->sum_of_squares(x, n); }
float n2n_sum_of_squared_deviations(const float *x, long n, float m) { return kernels()->sum_of_squared_deviations(x, n, m); }
float n2n_dot(const float *x, const float *y, long n) { return kernels()->dot(x, y, n); }
int n2n_all_finite(const float *x, long n) { return kernels()->all_finite(x, n); }
double n2n_adam(float *p, const float *g, float *m, float *v, float *vmax, long n, float beta1, float beta2,
                float epsilon, float step_size, float inverse_sqrt_bias2, float gradient_scale, int amsgrad,
                float decay) {
    return kernels()->adam(p, g, m, v, vmax, n, beta1, beta2, epsilon, step_size, inverse_sqrt_bias2, gradient_scale,
                           amsgrad, decay);
}
void n2n_layer_norm(const float *x, const float *r, const float *gamma, const float *beta, float epsilon, long rows,
                    long width, float *y) {
    kernels()->layer_norm(x, r, gamma, beta, epsilon, rows, width, y);
}
void n2n_depthwise_row(const float *src, long row_length, const float *filter, long kernel_height, long kernel_width,
                       long stride, long count, float *dst) {
    kernels()->depthwise_row(src, row_length, filter, kernel_height, kernel_width, stride, count, dst);
}
void n2n_depthwise_row_nhwc(const float *x, long height, long width, long channels, const float *weight,
                            long kernel_height, long kernel_width, long stride, long top, long left, long row,
                            long output_width, const float *s, const float *t, const float *r, n2n_activation act,
                            float *out) {
    kernels()->depthwise_row_nhwc(x, height, width, channels, weight, kernel_height, kernel_width, stride, top, left,
                                  row, output_width, s, t, r, act, out);
}
void n2n_col2im_k4s2(const float *columns, long row_stride, long height, long width, float s, float t,
                     n2n_activation act, float *out) {
    kernels()->col2im_k4s2(columns, row_stride, height, width, s, t, act, out);
}
int n2n_im2col_plane(const float *x, long height, long width, long kernel_height, long kernel_width, long stride,
                     long top, long left, long out_h, long out_w, float *columns, long row_stride) {
    return kernels()->im2col_plane(x, height, width, kernel_height, kernel_width, stride, top, left, out_h, out_w, columns,
                            row_stride);
}
int n2n_col2im_plane(const float *columns, long row_stride, long height, long width, long kernel_height,
                     long kernel_width, long stride, long top, long left, long out_h, long out_w, float *x) {
    return kernels()->col2im_plane(columns, row_stride, height, width, kernel_height, kernel_width, stride, top, left,
                                   out_h, out_w, x);
}

int n2n_sgemm_in_place(int transpose_a, int transpose_b, long m, long n, long k, float alpha, const float *a, long lda,
                       const float *b, long ldb, float beta, float *c, long ldc) {
    return kernels()->sgemm_in_place(transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
