// A GEMM for products with few rows (a batch of activations) and a large
// operand read in place (a weight matrix streaming from memory): included by
// KernelBodies.h once per instruction set. BLAS packs the weights into panels
// before every product, which at 2–128 rows costs as much memory traffic as
// the product itself; these tiles read them as stored. Single-threaded: the
// callers run one product per core.
//
// A·B: a broadcast tile keeps gemmRows × gemmVectors vectors of C, broadcasts
// A's elements and loads B's rows as vectors, one column panel of B at a
// time. The next slice of B's rows is prefetched in address order meanwhile.
// Aᵀ·B (a weight gradient, the batch shared): the same broadcast tile, gradientVectors
// vectors wide (two with AVX-512), walked along C's rows.
// A·Bᵀ: a dot tile keeps dotRows × dotColumns vectors of partial sums over
// the shared dimension (rows of both operands, read in order) and adds their
// lanes at the end. The AVX2 build's vectors are two registers each, so its
// tiles are smaller.

#if KERNEL_PERMUTE == 512
enum { gemmRows = 8, gemmVectors = 3, gradientVectors = 2, dotRows = 4, dotColumns = 6 };
#elif KERNEL_PERMUTE == 256
enum { gemmRows = 6, gemmVectors = 1, gradientVectors = 1, dotRows = 2, dotColumns = 2 };
#endif

#if KERNEL_PERMUTE
/// One tile of C, `mr` rows by `nv` vectors of 16 columns (the last with `lastLanes` lanes):
/// C = α·Σ_p A(i, p)·B[p, ·] + β·C, with A stored column by column, A(i, p) at a[p·lda + i] (the
/// elements a step broadcasts are adjacent), and B's row p at b + p·ldb.
static inline __attribute__((always_inline)) void K(gemm_tile)(const long mr, const long nv, long lastLanes, long k,
                                                              const float *a, long lda,
                                                              const float *b, long ldb, float alpha, float beta,
                                                              float *c, long ldc, const char **ahead, const char *aheadEnd) {
    vf acc[gemmRows][gemmVectors];
    const char *next = *ahead;
    for (long i = 0; i < mr; i++)
        for (long j = 0; j < nv; j++) acc[i][j] = 0.0f;
    for (long p = 0; p < k; p++) {
        if (next < aheadEnd) {
            __builtin_prefetch(next, 0, 2);
            __builtin_prefetch(next + 64, 0, 2);
            next += 128;
        }
        const float *row = b + p * ldb;
        vf bv[gemmVectors];
        for (long j = 0; j < nv; j++)
            bv[j] = j == nv - 1 && lastLanes < W ? K(load_lanes)(row + j * W, 0, lastLanes) : K(load)(row + j * W);
        for (long i = 0; i < mr; i++) {
            vf av = a[p * lda + i];
            for (long j = 0; j < nv; j++) acc[i][j] = K(madd)(av, bv[j], acc[i][j]);
        }
    }
    for (long i = 0; i < mr; i++) {
        for (long j = 0; j < nv; j++) {
            float *out = c + i * ldc + j * W;
            long lanes = j == nv - 1 ? lastLanes : W;
            vf v = alpha == 1 ? acc[i][j] : acc[i][j] * alpha;
            if (beta != 0) {
                vf old = lanes < W ? K(load_lanes)(out, 0, lanes) : K(load)(out);
                v = v + (beta == 1 ? old : old * beta);
            }
            if (lanes < W) K(store_first)(out, v, lanes); else K(store)(out, v);
        }
    }
    *ahead = next;
}

/// The broadcast tile for a runtime row count, each count its own unrolled copy.
static inline __attribute__((always_inline)) void K(gemm_rows)(long mr, const long nv, long lastLanes, long k,
                                                              const float *a, long lda,
                                                              const float *b, long ldb, float alpha, float beta,
                                                              float *c, long ldc, const char **ahead, const char *aheadEnd) {
#define TILE(rows) K(gemm_tile)(rows, nv, lastLanes, k, a, lda, b, ldb, alpha, beta, c, ldc, ahead, aheadEnd)
    switch (mr) {
    case 1: TILE(1); break;
    case 2: TILE(2); break;
    case 3: TILE(3); break;
    case 4: TILE(4); break;
    case 5: TILE(5); break;
    case 6: TILE(6); break;
#if KERNEL_PERMUTE == 512
    case 7: TILE(7); break;
    case 8: TILE(8); break;
#endif
    default: break;
    }
#undef TILE
}

/// C[m, n] = α·Σ_p A(i, p)·B[p, j] + β·C over `k` rows of B, A(i, p) at a[p·lda + i]: column panels
/// of gemmVectors vectors outside, so a panel of B is read from memory once and from cache for the
/// other row blocks.
static void K(gemm_broadcast_rows)(long m, long n, long k, const float *a, long lda,
                                   const float *b, long ldb, float alpha, float beta, float *c, long ldc,
                                   const char *ahead, const char *aheadEnd) {
    const long panel = gemmVectors * W;
    long j0 = 0;
    for (; j0 + panel <= n; j0 += panel)
        for (long i0 = 0; i0 < m; i0 += gemmRows)
            K(gemm_rows)(m - i0 < gemmRows ? m - i0 : gemmRows, gemmVectors, W, k, a + i0, lda, b + j0, ldb, alpha,
                         beta, c + i0 * ldc + j0, ldc, &ahead, aheadEnd);
    long rest = n - j0;
    if (rest == 0) return;
    long vectors = (rest + W - 1) / W, lastLanes = rest - (vectors - 1) * W;
    for (long i0 = 0; i0 < m; i0 += gemmRows) {
        long mr = m - i0 < gemmRows ? m - i0 : gemmRows;
        const float *ai = a + i0;
        float *ci = c + i0 * ldc + j0;
        switch (vectors) {
        case 1: K(gemm_rows)(mr, 1, lastLanes, k, ai, lda, b + j0, ldb, alpha, beta, ci, ldc, &ahead, aheadEnd); break;
#if KERNEL_PERMUTE == 512
        case 2: K(gemm_rows)(mr, 2, lastLanes, k, ai, lda, b + j0, ldb, alpha, beta, ci, ldc, &ahead, aheadEnd); break;
        case 3: K(gemm_rows)(mr, 3, lastLanes, k, ai, lda, b + j0, ldb, alpha, beta, ci, ldc, &ahead, aheadEnd); break;
#endif
        default: break;
        }
    }
}

/// A·B in slices of B's rows. Each slice of A is first copied column by column into a small buffer:
/// A's rows are often a power of two apart (a 4 KB stride), which puts the rows a tile broadcasts
/// from into the same few L1 sets.
static void K(gemm_broadcast)(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                              float alpha, float beta, float *c, long ldc) {
    enum { bufferFloats = 16384, maximumSlice = 256 };
    float buffer[bufferFloats];
    long slice = bufferFloats / m < maximumSlice ? bufferFloats / m : maximumSlice;
    for (long p0 = 0; p0 < k; p0 += slice) {
        long rows = k - p0 < slice ? k - p0 : slice;
        float sliceBeta = p0 == 0 ? beta : 1;
        // The next slice of B is prefetched into L2 in address order while this one is multiplied:
        // read down a column panel, rows a power of two apart would all fall on one memory channel.
        long nextRows = k - p0 - rows < slice ? k - p0 - rows : slice;
        const char *ahead = (const char *)(b + (p0 + rows) * ldb);
        const char *aheadEnd = nextRows > 0 ? (const char *)(b + (p0 + rows + nextRows - 1) * ldb + n) : ahead;
        // A(i, p) at a[i·lda + p], copied to buffer[p·m + i] and broadcast along the buffer's rows.
        for (long i = 0; i < m; i++) {
            const float *row = a + i * lda + p0;
            for (long p = 0; p < rows; p++) buffer[p * m + i] = row[p];
        }
        K(gemm_broadcast_rows)(m, n, rows, buffer, m, b + p0 * ldb, ldb, alpha, sliceBeta, c, ldc, ahead, aheadEnd);
    }
}

/// C[m, n] = α·Aᵀ·B + β·C with A [k, m] and B [k, n]: a weight gradient, k the batch. Broadcast tiles
/// of gradientVectors vectors walk along each block of C's rows, so that every row of C is written
/// front to back (wider panels, or blocks of columns outside, write C in short runs 4 KB apart).
static void K(gemm_gradient)(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                             float alpha, float beta, float *c, long ldc) {
    const char *none = 0;
    const long panel = gradientVectors * W;
    for (long i0 = 0; i0 < m; i0 += gemmRows) {
        long mr = m - i0 < gemmRows ? m - i0 : gemmRows;
        float *ci = c + i0 * ldc;
        long j0 = 0;
        for (; j0 + panel <= n; j0 += panel)
            K(gemm_rows)(mr, gradientVectors, W, k, a + i0, lda, b + j0, ldb, alpha, beta, ci + j0, ldc, &none, none);
        long rest = n - j0;
        if (rest == 0) continue;
        long vectors = (rest + W - 1) / W, lastLanes = rest - (vectors - 1) * W;
        if (vectors == 1)
            K(gemm_rows)(mr, 1, lastLanes, k, a + i0, lda, b + j0, ldb, alpha, beta, ci + j0, ldc, &none, none);
#if KERNEL_PERMUTE == 512
        else
            K(gemm_rows)(mr, 2, lastLanes, k, a + i0, lda, b + j0, ldb, alpha, beta, ci + j0, ldc, &none, none);
#endif
    }
}

/// One tile of C = α·A·Bᵀ + β·C, `mr` rows by `nc` columns: each element a dot product of A's row i and
/// B's row j over k, summed in vectors and then across lanes.
static inline __attribute__((always_inline)) void K(dot_tile)(const long mr, const long nc, long k, const float *a,
                                                             long lda, const float *b, long ldb, float alpha,
                                                             float beta, float *c, long ldc) {
    vf acc[dotRows][dotColumns];
    for (long i = 0; i < mr; i++)
        for (long j = 0; j < nc; j++) acc[i][j] = 0.0f;
    long p = 0;
    for (; p + W <= k; p += W) {
        vf av[dotRows];
        for (long i = 0; i < mr; i++) av[i] = K(load)(a + i * lda + p);
        for (long j = 0; j < nc; j++) {
            vf bv = K(load)(b + j * ldb + p);
            for (long i = 0; i < mr; i++) acc[i][j] = K(madd)(av[i], bv, acc[i][j]);
        }
    }
    if (p < k) {
        vf av[dotRows];
        for (long i = 0; i < mr; i++) av[i] = K(load_lanes)(a + i * lda + p, 0, k - p);
        for (long j = 0; j < nc; j++) {
            vf bv = K(load_lanes)(b + j * ldb + p, 0, k - p);
            for (long i = 0; i < mr; i++) acc[i][j] = K(madd)(av[i], bv, acc[i][j]);
        }
    }
    for (long i = 0; i < mr; i++) {
        for (long j = 0; j < nc; j++) {
            float sum = K(hsum)(acc[i][j]), *out = c + i * ldc + j;
            float v = alpha == 1 ? sum : sum * alpha;
            if (beta != 0) v = v + (beta == 1 ? *out : *out * beta);
            *out = v;
        }
    }
}

static inline __attribute__((always_inline)) void K(dot_columns)(long mr, const long nc, long k, const float *a,
                                                                long lda, const float *b, long ldb, float alpha,
                                                                float beta, float *c, long ldc) {
#define TILE(rows) K(dot_tile)(rows, nc, k, a, lda, b, ldb, alpha, beta, c, ldc)
    switch (mr) {
    case 1: TILE(1); break;
    case 2: TILE(2); break;
#if KERNEL_PERMUTE == 512
    case 3: TILE(3); break;
    case 4: TILE(4); break;
#endif
    default: break;
    }
#undef TILE
}

/// C[m, n] = α·A·Bᵀ + β·C with A [m, k] and B [n, k]: blocks of dotColumns rows of B outside, so they
/// stay in cache while every row block of A passes over them.
static void K(gemm_dot)(long m, long n, long k, const float *a, long lda, const float *b, long ldb, float alpha,
                        float beta, float *c, long ldc) {
    for (long j0 = 0; j0 < n; j0 += dotColumns) {
        long nc = n - j0 < dotColumns ? n - j0 : dotColumns;
        for (long i0 = 0; i0 < m; i0 += dotRows) {
            long mr = m - i0 < dotRows ? m - i0 : dotRows;
            const float *ai = a + i0 * lda, *bj = b + j0 * ldb;
            float *cij = c + i0 * ldc + j0;
            switch (nc) {
            case 1: K(dot_columns)(mr, 1, k, ai, lda, bj, ldb, alpha, beta, cij, ldc); break;
            case 2: K(dot_columns)(mr, 2, k, ai, lda, bj, ldb, alpha, beta, cij, ldc); break;
#if KERNEL_PERMUTE == 512
            case 3: K(dot_columns)(mr, 3, k, ai, lda, bj, ldb, alpha, beta, cij, ldc); break;
            case 4: K(dot_columns)(mr, 4, k, ai, lda, bj, ldb, alpha, beta, cij, ldc); break;
            case 5: K(dot_columns)(mr, 5, k, ai, lda, bj, ldb, alpha, beta, cij, ldc); break;
            case 6: K(dot_columns)(mr, 6, k, ai, lda, bj, ldb, alpha, beta, cij, ldc); break;
#endif
            default: break;
            }
        }
    }
}
#endif

static int K(sgemm_in_place)(int transposeA, int transposeB, long m, long n, long k, float alpha, const float *a,
                             long lda, const float *b, long ldb, float beta, float *c, long ldc) {
#if KERNEL_PERMUTE
    if (m <= 0 || n <= 0 || k <= 0) return 0;
    if (!transposeA && !transposeB) {
        if (m > 16384) return 0;
        K(gemm_broadcast)(m, n, k, a, lda, b, ldb, alpha, beta, c, ldc);
        return 1;
    }
    if (transposeA && !transposeB) {
        K(gemm_gradient)(m, n, k, a, lda, b, ldb, alpha, beta, c, ldc);
        return 1;
    }
    if (!transposeA && transposeB) {
        K(gemm_dot)(m, n, k, a, lda, b, ldb, alpha, beta, c, ldc);
        return 1;
    }
    return 0;
#else
    (void)transposeA, (void)transposeB, (void)m, (void)n, (void)k, (void)alpha, (void)a, (void)lda, (void)b;
    (void)ldb, (void)beta, (void)c, (void)ldc;
    return 0;
#endif
}
