// The BLAS, loaded at run time rather than linked, so that its kernel can be
// chosen before it initialises.
//
// OpenBLAS picks its kernels from the CPU model when it loads, and an older
// build falls back to generic SSE3 ("Prescott") kernels on a CPU it does not
// know (e.g. Debian's 0.3.21 on Xeons of family 6 model 207), at a fifth of the
// machine's speed. It honours OPENBLAS_CORETYPE, read once at load. So before
// loading, the kernel class is decided from CPUID features, never from the
// model number:
//   AVX-512 F/BW/DQ/VL/CD → SkylakeX (Cooperlake where AVX512-BF16 exists),
//   AVX2 + FMA            → Haswell (Zen on AMD),
//   otherwise             → OpenBLAS decides.
// NET2NET_BLAS_CORETYPE forces a kernel. An OPENBLAS_CORETYPE already in the
// environment is kept unless it names a kernel class below what the CPU runs
// (say Prescott on an AVX-512 CPU). The environment is restored after loading.
//
// NET2NET_BLAS names another library (path or soname): any CBLAS with
// `cblas_sgemm` (OpenBLAS, BLIS, MKL's mkl_rt), or scipy-openblas's build,
// whose symbols carry the prefix `scipy_`.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "CKernels.h"

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *,
                         int);
typedef void (*sgemv_fn)(int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*dsyevd_fn)(const char *, const char *, const int *, double *, const int *, double *, double *,
                          const int *, int *, const int *, int *, size_t, size_t);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*text_fn)(void);

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_status = -1;
static char load_error[1024];
static char library_path[1024];
static char library_config[512];
static char kernel_name[64];
static char kernel_decision[512];
static void *handle;
static sgemm_fn sgemm;
static sgemv_fn sgemv;
static dsyevd_fn dsyevd;
static set_threads_fn set_threads;
static get_threads_fn get_threads;
static int threads_requested = 0;

/// 2 for OpenBLAS kernels that use AVX-512, 1 for AVX2 ones, 0 for anything older or unknown.
static int kernel_class(const char *name) {
    static const char *avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    static const char *avx2[] = {"Haswell", "Zen", "SkylakeX_AVX2"};
    for (size_t i = 0; i < sizeof avx512 / sizeof *avx512; i++)
        if (strcasecmp(name, avx512[i]) == 0) return 2;
    for (size_t i = 0; i < sizeof avx2 / sizeof *avx2; i++)
        if (strcasecmp(name, avx2[i]) == 0) return 1;
    return 0;
}

/// The kernel this CPU should run, from its features (NULL: leave it to the library).
static const char *kernel_for_cpu(int *cpu_class) {
    *cpu_class = 0;
#if defined(__x86_64__)
    n2n_isa isa = n2n_isa_supported();
    char vendor[16];
    n2n_cpu_vendor(vendor, sizeof vendor);
    int amd = strcmp(vendor, "AuthenticAMD") == 0;
    if (isa == N2N_ISA_AVX512 && __builtin_cpu_supports("avx512cd")) {
        *cpu_class = 2;
        return __builtin_cpu_supports("avx512bf16") ? "Cooperlake" : "SkylakeX";
    }
    if (isa >= N2N_ISA_AVX2) {
        *cpu_class = 1;
        return amd ? "Zen" : "Haswell";
    }
#endif
    return NULL;
}

static void *symbol(const char *prefix, const char *name) {
    char full[128];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    return dlsym(handle, full);
}

static void load(void) {
    // 1. The kernel to ask for.
    const char *forced = getenv("NET2NET_BLAS_CORETYPE");
    const char *previous = getenv("OPENBLAS_CORETYPE");
    char saved[64] = "";
    if (previous) snprintf(saved, sizeof saved, "%s", previous);
    int cpu_class;
    const char *best = kernel_for_cpu(&cpu_class);
    const char *wanted = NULL;
    if (forced && *forced) {
        wanted = forced;
        snprintf(kernel_decision, sizeof kernel_decision, "kernel %s forced by NET2NET_BLAS_CORETYPE", forced);
    } else if (previous && *previous && kernel_class(previous) >= cpu_class) {
        snprintf(kernel_decision, sizeof kernel_decision, "kernel %s from OPENBLAS_CORETYPE", previous);
    } else if (best) {
        wanted = best;
        if (previous && *previous)
            snprintf(kernel_decision, sizeof kernel_decision,
                     "OPENBLAS_CORETYPE=%s names a kernel below this CPU's; asked for %s instead "
                     "(NET2NET_BLAS_CORETYPE forces one)", previous, best);
        else
            snprintf(kernel_decision, sizeof kernel_decision, "asked for kernel %s from the CPU's features", best);
    }
    if (wanted) setenv("OPENBLAS_CORETYPE", wanted, 1);

    // 2. The library.
    const char *named = getenv("NET2NET_BLAS");
    const char *candidates[] = {"libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0", NULL};
    const char *single[] = {named, NULL};
    const char **list = named && *named ? single : candidates;
    for (const char **name = list; *name && !handle; name++) handle = dlopen(*name, RTLD_NOW | RTLD_LOCAL);
    if (previous) setenv("OPENBLAS_CORETYPE", saved, 1); else unsetenv("OPENBLAS_CORETYPE");
    if (!handle) {
        snprintf(load_error, sizeof load_error,
                 named && *named ? "cannot load the BLAS named by NET2NET_BLAS (%s): %s"
                                 : "cannot load OpenBLAS (libopenblas.so.0): %s%s; install it (Debian: apt-get install "
                                   "libopenblas0) or name a BLAS library in NET2NET_BLAS",
                 named && *named ? named : dlerror(), named && *named ? dlerror() : "");
        return;
    }

    // 3. Its symbols: plain CBLAS names, or scipy-openblas's prefixed ones.
    const char *prefix = "";
    sgemm = (sgemm_fn)symbol("", "cblas_sgemm");
    if (!sgemm) { prefix = "scipy_"; sgemm = (sgemm_fn)symbol(prefix, "cblas_sgemm"); }
    if (!sgemm) {
        snprintf(load_error, sizeof load_error, "the BLAS library loaded has no cblas_sgemm");
        return;
    }
    sgemv = (sgemv_fn)symbol(prefix, "cblas_sgemv");
    dsyevd = (dsyevd_fn)symbol(prefix, "dsyevd_");
    set_threads = (set_threads_fn)symbol(prefix, "openblas_set_num_threads");
    get_threads = (get_threads_fn)symbol(prefix, "openblas_get_num_threads");
    if (!set_threads) set_threads = (set_threads_fn)symbol("", "bli_thread_set_num_threads");
    if (!get_threads) get_threads = (get_threads_fn)symbol("", "bli_thread_get_num_threads");
    if (!set_threads) set_threads = (set_threads_fn)symbol("", "MKL_Set_Num_Threads");
    if (!get_threads) get_threads = (get_threads_fn)symbol("", "MKL_Get_Max_Threads");
    text_fn corename = (text_fn)symbol(prefix, "openblas_get_corename");
    text_fn config = (text_fn)symbol(prefix, "openblas_get_config");
    if (corename) snprintf(kernel_name, sizeof kernel_name, "%s", corename());
    else snprintf(kernel_decision, sizeof kernel_decision, "not an OpenBLAS: the library chooses its own kernels");
    if (config) snprintf(library_config, sizeof library_config, "%s", config());
    Dl_info info;
    if (dladdr((void *)sgemm, &info) && info.dli_fname) snprintf(library_path, sizeof library_path, "%s", info.dli_fname);

    // 4. Say so when the library still runs a kernel below the CPU's.
    // A generic kernel is several times slower; an AVX2 one on an AVX-512 CPU is slower on large
    // GEMMs only (on a Zen 4 it packed skinny products faster than the AVX-512 kernels).
    if (corename && cpu_class > 0 && kernel_class(kernel_name) < cpu_class) {
        size_t used = strlen(kernel_decision);
        snprintf(kernel_decision + used, sizeof kernel_decision - used,
                 "%sWARNING: the BLAS runs kernel %s, below what this CPU supports (%s); %s. Set NET2NET_BLAS to a "
                 "newer OpenBLAS", used ? "; " : "", kernel_name, best ? best : "?",
                 kernel_class(kernel_name) == 0 ? "GEMM will be several times slower" : "large GEMMs may be slower");
    }
    load_status = 0;
}

int n2n_blas_load(void) {
    pthread_once(&load_once, load);
    return load_status;
}

const char *n2n_blas_error(void) { n2n_blas_load(); return load_error; }
const char *n2n_blas_library(void) { n2n_blas_load(); return library_path; }
const char *n2n_blas_config(void) { n2n_blas_load(); return library_config; }
const char *n2n_blas_kernel(void) { n2n_blas_load(); return kernel_name; }
const char *n2n_blas_kernel_decision(void) { n2n_blas_load(); return kernel_decision; }

/// Loads the BLAS or stops the process with the reason: a library caller that
/// skipped n2n_blas_load's error gets a message, not a crash in a null call.
static void require(void) {
    if (n2n_blas_load() == 0) return;
    fprintf(stderr, "error: %s\n", load_error);
    exit(70);
}

void n2n_blas_set_threads(int threads) {
    require();
    threads_requested = threads;
    if (set_threads) set_threads(threads);
}

int n2n_blas_threads(void) {
    require();
    if (get_threads) return get_threads();
    return threads_requested > 0 ? threads_requested : 1;
}

void n2n_sgemm(int transpose_a, int transpose_b, int m, int n, int k, float alpha, const float *a, int lda,
               const float *b, int ldb, float beta, float *c, int ldc) {
    require();
    enum { row_major = 101, no_transpose = 111, transpose = 112 };
    if (m == 1 && sgemv) {
        // One row: c = α·op(B)ᵀ·a + β·c as a matrix-vector product, which
        // streams B once instead of packing it first (sampling one row).
        if (beta == 0) memset(c, 0, (size_t)n * sizeof *c);
        int increment = transpose_a ? lda : 1;
        if (transpose_b)  // B is [n, k]: c = B·a
            sgemv(row_major, no_transpose, n, k, alpha, b, ldb, a, increment, beta, c, 1);
        else              // B is [k, n]: c = Bᵀ·a
            sgemv(row_major, transpose, k, n, alpha, b, ldb, a, increment, beta, c, 1);
        return;
    }
    sgemm(row_major, transpose_a ? transpose : no_transpose, transpose_b ? transpose : no_transpose, m, n, k, alpha, a,
          lda, b, ldb, beta, c, ldc);
}

int n2n_dsyevd(char jobz, char uplo, int n, double *a, int lda, double *w, double *work, int lwork, int *iwork,
               int liwork, int *info) {
    require();
    if (!dsyevd) return 0;
    dsyevd(&jobz, &uplo, &n, a, &lda, w, work, &lwork, iwork, &liwork, info, 1, 1);
    return 1;
}
