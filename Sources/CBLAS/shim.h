// OpenBLAS's CBLAS interface (Debian: libopenblas-dev). Also declares
// openblas_set_num_threads / openblas_get_num_threads.
#include <cblas.h>

// LAPACK (bundled in OpenBLAS), Fortran calling convention: symmetric
// eigen-decomposition by divide and conquer, column-major.
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info);
