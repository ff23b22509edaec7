import CKernels
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Whether a GEMM operand is used as stored or transposed.
public enum Transpose: Sendable {
    case none
    case transposed

    var flag: Int32 { self == .none ? 0 : 1 }
}

/// General matrix multiply through the BLAS (see `BLAS`):
/// `C ← alpha · op(A) · op(B) + beta · C`, all row-major.
///
/// Shapes: op(A) is `[m, k]`, op(B) is `[k, n]`, C is `[m, n]`. `lda`, `ldb`
/// and `ldc` are the row strides of the matrices *as stored* (so for a
/// transposed A stored as `[k, m]`, `lda ≥ m`).
@inline(__always)
public func gemm(
    _ transposeA: Transpose, _ transposeB: Transpose,
    m: Int, n: Int, k: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        // BLAS would only scale C; do it explicitly so beta = 0 clears NaNs.
        for row in 0..<m {
            let r = c + row * ldc
            for j in 0..<n { r[j] = beta == 0 ? 0 : beta * r[j] }
        }
        return
    }
    n2n_sgemm(
        transposeA.flag, transposeB.flag,
        Int32(m), Int32(n), Int32(k),
        alpha, a, Int32(lda), b, Int32(ldb),
        beta, c, Int32(ldc))
}

/// `gemm` for a batch of at most `InPlaceGEMM.maximumBatch` rows against a
/// weight matrix (a linear layer's forward product, its input gradient and
/// its weight gradient): when BLAS is single-threaded, because the caller
/// runs one product per core, our own kernels read the operands where they
/// are stored. BLAS would pack them into panels first, which at these batch
/// sizes moves as much memory as the product itself. Otherwise, and with
/// `NET2NET_GEMM=blas`, this is `gemm`.
///
/// The batch is op(A)'s rows for `A·B` and `A·Bᵀ`, and the shared dimension
/// `k` for `Aᵀ·B` (a weight gradient).
@inline(__always)
public func batchGEMM(
    _ transposeA: Transpose, _ transposeB: Transpose,
    m: Int, n: Int, k: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
) {
    if InPlaceGEMM.applies(transposeA, transposeB, m: m, n: n, k: k),
       n2n_sgemm_in_place(transposeA.flag, transposeB.flag, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) != 0 {
        return
    }
    gemm(transposeA, transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
         beta: beta, c: c, ldc: ldc)
}

/// When `batchGEMM` uses our kernels instead of BLAS: the shapes where they
/// measured faster (the README's benchmark section compares them with
/// `NET2NET_GEMM=blas`).
public enum InPlaceGEMM {
    /// The largest batch: beyond it BLAS's packing pays for itself.
    public static let maximumBatch = 128
    /// Whether our kernels are allowed at all: not with `NET2NET_GEMM=blas`.
    /// (The baseline kernel build, `NET2NET_ISA=baseline` or a CPU without
    /// AVX2, has none and always leaves the product to BLAS.)
    public static let isEnabled: Bool = {
        guard let choice = getenv("NET2NET_GEMM") else { return true }
        return String(cString: choice) != "blas"
    }()

    /// Weights of at least this many floats (1 MB) come from memory rather
    /// than from a core's cache, which is where packing costs BLAS the most.
    public static let streamingWeights = 1 << 18
    /// The largest batch at which our kernels beat BLAS even on weights that
    /// stay in cache.
    public static let cachedWeightsBatch = 32
    /// The AVX2 build's tiles hold half as many floats, and beat BLAS's AVX2
    /// kernels only on `A·B` up to this batch (on weight gradients only at
    /// batch 16, by 5 %).
    public static let avx2Batch = 16

    /// Whether `batchGEMM` with this shape runs our kernels now: a batch of
    /// 2 to `maximumBatch` rows (one row is BLAS's matrix-vector product),
    /// and more than `cachedWeightsBatch` only against weights of at least
    /// `streamingWeights` floats; single-threaded BLAS; and for `A·Bᵀ`,
    /// whose elements are dot products, a shared dimension long enough that
    /// adding up the lanes does not dominate. Weight gradients (`Aᵀ·B`, a
    /// batch of 2 to `maximumBatch` shared) at any weight size. With the AVX2
    /// build, only `A·B` up to `avx2Batch` rows.
    @inline(__always)
    public static func applies(_ transposeA: Transpose, _ transposeB: Transpose, m: Int, n: Int, k: Int) -> Bool {
        guard isEnabled, n >= 16 else { return false }
        switch (transposeA, transposeB) {
        case (.none, .none):
            guard m >= 2, m <= maximumBatch, k >= 16 else { return false }
            guard m <= cachedWeightsBatch || n * k >= streamingWeights else { return false }
            if n2n_isa_current() != N2N_ISA_AVX512 && m > avx2Batch { return false }
        case (.none, .transposed):
            guard m >= 2, m <= maximumBatch, k >= 256 else { return false }
            guard m <= cachedWeightsBatch || n * k >= streamingWeights else { return false }
            if n2n_isa_current() != N2N_ISA_AVX512 { return false }
        case (.transposed, .none):
            guard k >= 2, k <= maximumBatch, m >= 16 else { return false }
            if n2n_isa_current() != N2N_ISA_AVX512 { return false }
        case (.transposed, .transposed):
            return false
        }
        return n2n_blas_threads() == 1
    }
}

/// The matrix product of two rank-2 tensors, `op(a) · op(b)`.
public func matmul(_ a: Tensor, _ b: Tensor,
                   transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2, "matmul needs rank-2 tensors, got \(a.shape) and \(b.shape)")
    let m = transposeA ? a.shape[1] : a.shape[0]
    let k = transposeA ? a.shape[0] : a.shape[1]
    let kB = transposeB ? b.shape[1] : b.shape[0]
    let n = transposeB ? b.shape[0] : b.shape[1]
    precondition(k == kB, "matmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
    var c = Tensor(zeros: [m, n])
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                gemm(transposeA ? .transposed : .none, transposeB ? .transposed : .none,
                     m: m, n: n, k: k,
                     a: pa.baseAddress!, lda: a.shape[1],
                     b: pb.baseAddress!, ldb: b.shape[1],
                     c: pc.baseAddress!, ldc: n)
            }
        }
    }
    return c
}

/// Threads used by OpenBLAS and by TensorCore's own parallel loops.
public enum ComputeThreads {
    /// Sets the thread count for BLAS and elementwise loops.
    public static func set(_ count: Int) {
        precondition(count >= 1)
        n2n_blas_set_threads(Int32(count))
        Parallel.threadCount = count
    }

    /// The number of threads BLAS currently uses.
    public static var blasThreads: Int { Int(n2n_blas_threads()) }

    /// Runs `body` with single-threaded BLAS, restoring the thread count
    /// after: for callers that spread their GEMMs over threads themselves
    /// (OpenBLAS's idle threads spin and compete with such loops).
    public static func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
        let blas = n2n_blas_threads()
        if blas != 1 { n2n_blas_set_threads(1) }
        defer { if blas != 1 { n2n_blas_set_threads(blas) } }
        return try body()
    }

    /// Runs `count` independent tasks (each a chain of small GEMMs and
    /// elementwise work), concurrently when that beats threading inside
    /// each GEMM: with 2 or 3 threads, small-batch GEMMs scale poorly inside
    /// OpenBLAS, so each task runs on its own thread with single-threaded
    /// BLAS. Otherwise the tasks run in order with multi-threaded BLAS.
    public static func forEachIndependentTask(_ count: Int, _ body: (Int) -> Void) {
        let threads = Parallel.threadCount
        guard count > 1, threads >= 2, threads <= 3, !Parallel.isInsideRegion else {
            for i in 0..<count { body(i) }
            return
        }
        let blas = n2n_blas_threads()
        if blas != 1 { n2n_blas_set_threads(1) }
        Parallel.runTasks(count, body)
        if blas != 1 { n2n_blas_set_threads(blas) }
    }
}
