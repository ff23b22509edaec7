// The kernels built for the compiler's baseline (SSE2 on x86-64; NEON on arm64).
#define ISA_SUFFIX baseline
#define KERNEL_FMA 0
#define KERNEL_PERMUTE 0
#include "KernelBodies.h"
