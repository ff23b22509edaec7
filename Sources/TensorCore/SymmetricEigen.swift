import CKernels

/// Eigen-decomposition of a real symmetric matrix through LAPACK's `dsyevd`
/// (from the BLAS library in use): `A = V·diag(λ)·Vᵀ` with λ ascending and V orthonormal.
public struct SymmetricEigen: Sendable {
    /// Eigenvalues, ascending.
    public let values: [Double]
    /// Eigenvectors as rows: `vectors[k·n ..< (k+1)·n]` belongs to `values[k]`.
    public let vectors: [Double]
    public let dimension: Int

    /// Decomposes the `n × n` symmetric matrix `matrix` (row-major; only its
    /// lower triangle is read). Returns nil if LAPACK reports a failure to converge.
    public init?(_ matrix: [Double], dimension n: Int, vectors wantVectors: Bool = true) {
        precondition(matrix.count == n * n, "a \(n)×\(n) matrix needs \(n * n) elements, got \(matrix.count)")
        dimension = n
        if n == 0 { values = []; vectors = []; return }
        // Row-major lower = column-major upper.
        var a = matrix
        var w = [Double](repeating: 0, count: n)
        let jobz: CChar = wantVectors ? 86 : 78  // "V" / "N"
        let uplo: CChar = 85  // "U"
        let size = Int32(n), lda = Int32(n)
        var info: Int32 = 0
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workQuery = 0.0
        var iworkQuery: Int32 = 0
        guard n2n_dsyevd(jobz, uplo, size, &a, lda, &w, &workQuery, lwork, &iworkQuery, liwork, &info) == 1 else {
            return nil  // the BLAS in use has no LAPACK
        }
        guard info == 0 else { return nil }
        lwork = Int32(workQuery.rounded(.up))
        liwork = max(iworkQuery, 1)
        var work = [Double](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        _ = n2n_dsyevd(jobz, uplo, size, &a, lda, &w, &work, lwork, &iwork, liwork, &info)
        guard info == 0 else { return nil }
        values = w
        // Column-major eigenvectors: column k is a[k·n ..< (k+1)·n], i.e. row k of our row-major output.
        vectors = wantVectors ? a : []
    }
}
