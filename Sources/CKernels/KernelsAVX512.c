// The kernels built for AVX-512 (F, BW, DQ, VL): Skylake-SP and later Xeons, Zen 4 and later.
#if defined(__x86_64__)
#define ISA_SUFFIX avx512
#define KERNEL_FMA 1
#define KERNEL_PERMUTE 512
#include <immintrin.h>
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c,bmi,bmi2"))), apply_to = function)
#include "KernelBodies.h"
#pragma clang attribute pop
#endif
