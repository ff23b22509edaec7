// The kernels built for AVX2 + FMA (x86-64-v3): Haswell and later, Zen 1 and later.
#if defined(__x86_64__)
#define ISA_SUFFIX avx2
#define KERNEL_FMA 1
#define KERNEL_PERMUTE 256
#include <immintrin.h>
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,bmi,bmi2"))), apply_to = function)
#include "KernelBodies.h"
#pragma clang attribute pop
#endif
