import Foundation
import TensorCore

/// PCA fitted on rows `[N, D]`: the mean and the top-k eigenvectors of the
/// covariance (LAPACK `dsyevd`). Reconstruction `x̂ = μ + Σ_k ⟨x − μ, v_k⟩·v_k`
/// is the best rank-k linear autoencoder in squared error — the baseline our
/// VAE must beat at the same latent width.
public struct PrincipalComponents: Sendable {
    public let mean: [Double]
    /// `[k, D]`, rows orthonormal, by decreasing variance.
    public let components: [Double]
    public let count: Int
    public let dimension: Int

    /// Fits `k` components to the rows of `data` `[N, …]`; nil if LAPACK fails.
    public init?(fitting data: Tensor, components k: Int) {
        let N = data.shape[0], D = data.count / max(N, 1)
        precondition(N > 1 && k >= 1 && k <= D, "PCA needs N > 1 rows and 1 ≤ k ≤ D")
        var mean = [Double](repeating: 0, count: D)
        for r in 0..<N { for j in 0..<D { mean[j] += Double(data.scalars[r * D + j]) } }
        for j in 0..<D { mean[j] /= Double(N) }
        // Covariance through a Float GEMM on centred rows (accumulated by BLAS), then Double.
        var centred = [Float](repeating: 0, count: N * D)
        for r in 0..<N { for j in 0..<D { centred[r * D + j] = data.scalars[r * D + j] - Float(mean[j]) } }
        var covariance = [Float](repeating: 0, count: D * D)
        gemm(.transposed, .none, m: D, n: D, k: N, alpha: 1 / Float(N - 1), a: centred, lda: D, b: centred, ldb: D,
             c: &covariance, ldc: D)
        var symmetric = [Double](repeating: 0, count: D * D)
        for i in 0..<D { for j in 0..<D { symmetric[i * D + j] = 0.5 * Double(covariance[i * D + j] + covariance[j * D + i]) } }
        guard let eigen = SymmetricEigen(symmetric, dimension: D) else { return nil }
        var components = [Double](repeating: 0, count: k * D)
        for c in 0..<k {
            let source = D - 1 - c  // ascending order: the largest last
            for j in 0..<D { components[c * D + j] = eigen.vectors[source * D + j] }
        }
        self.mean = mean
        self.components = components
        self.count = k
        self.dimension = D
    }

    /// Mean squared error per element of reconstructing the rows of `data` from k components.
    public func reconstructionError(_ data: Tensor) -> Double {
        let N = data.shape[0], D = dimension, k = count
        var total = 0.0
        var centred = [Double](repeating: 0, count: D)
        for r in 0..<N {
            for j in 0..<D { centred[j] = Double(data.scalars[r * D + j]) - mean[j] }
            var residual = centred
            for c in 0..<k {
                var dot = 0.0
                for j in 0..<D { dot += centred[j] * components[c * D + j] }
                for j in 0..<D { residual[j] -= dot * components[c * D + j] }
            }
            for j in 0..<D { total += residual[j] * residual[j] }
        }
        return total / Double(N * D)
    }
}
