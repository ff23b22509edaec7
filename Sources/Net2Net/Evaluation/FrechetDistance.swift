import Foundation
import TensorCore

/// The Fréchet distance between two sets of feature vectors, each summarised
/// by a Gaussian (mean μ, covariance Σ with the unbiased 1/(n−1) estimate):
///
///     d² = ‖μ₁ − μ₂‖² + tr(Σ₁) + tr(Σ₂) − 2·tr((Σ₁Σ₂)^{1/2})
///
/// computed in Double with symmetric eigen-decompositions (LAPACK `dsyevd`):
/// tr((Σ₁Σ₂)^{1/2}) = tr((Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}) = Σ √λᵢ of that
/// symmetric matrix (tiny negative eigenvalues from rounding count as 0).
///
/// On the evaluation classifier's 128-d penultimate features this is the
/// project's FID-F (the FID recipe with our classifier in place of Inception).
public enum FrechetDistance {
    /// Mean `[D]` and covariance `[D, D]` (row-major) of the rows of `features` `[N, D]`.
    public static func statistics(_ features: Tensor) -> (mean: [Double], covariance: [Double]) {
        precondition(features.rank == 2 && features.shape[0] > 1, "need at least two feature vectors, got shape \(features.shape)")
        let N = features.shape[0], D = features.shape[1]
        var mean = [Double](repeating: 0, count: D)
        for r in 0..<N { for j in 0..<D { mean[j] += Double(features.scalars[r * D + j]) } }
        for j in 0..<D { mean[j] /= Double(N) }
        var centred = [Double](repeating: 0, count: N * D)
        for r in 0..<N { for j in 0..<D { centred[r * D + j] = Double(features.scalars[r * D + j]) - mean[j] } }
        var covariance = [Double](repeating: 0, count: D * D)
        // Σ = Xcᵀ·Xc / (N − 1)
        centred.withUnsafeBufferPointer { x in
            covariance.withUnsafeMutableBufferPointer { c in
                dgemmTransposedA(x.baseAddress!, rows: N, columns: D, into: c.baseAddress!, scale: 1 / Double(N - 1))
            }
        }
        return (mean, covariance)
    }

    /// d² between the feature sets `a` `[N₁, D]` and `b` `[N₂, D]`.
    public static func distance(_ a: Tensor, _ b: Tensor) -> Double {
        precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[1], "feature sets of different widths: \(a.shape), \(b.shape)")
        let (m1, c1) = statistics(a), (m2, c2) = statistics(b)
        return distance(mean1: m1, covariance1: c1, mean2: m2, covariance2: c2)
    }

    /// d² between two random halves of `features` `[N, D]`: the floor that
    /// sampling noise sets for FID-F on sets of about N/2.
    public static func halves(_ features: Tensor, seed: UInt64) -> Double {
        var shuffler = SeededGenerator(seed: seed)
        let N = features.shape[0], order = shuffler.permutation(N), half = N / 2
        return distance(features.gatherRows(Array(order[..<half])), features.gatherRows(Array(order[half..<(2 * half)])))
    }

    /// d² between two Gaussians given by their statistics.
    public static func distance(mean1: [Double], covariance1: [Double], mean2: [Double], covariance2: [Double]) -> Double {
        let D = mean1.count
        var meanTerm = 0.0
        for j in 0..<D { let d = mean1[j] - mean2[j]; meanTerm += d * d }
        var traces = 0.0
        for j in 0..<D { traces += covariance1[j * D + j] + covariance2[j * D + j] }
        guard let e1 = SymmetricEigen(covariance1, dimension: D) else { return .nan }
        // S = Σ₁^{1/2} = V·diag(√λ)·Vᵀ (rows of e1.vectors are eigenvectors)
        var root = [Double](repeating: 0, count: D * D)
        for k in 0..<D {
            let s = max(e1.values[k], 0).squareRoot()
            if s == 0 { continue }
            for i in 0..<D {
                let vi = e1.vectors[k * D + i] * s
                if vi == 0 { continue }
                for j in 0..<D { root[i * D + j] += vi * e1.vectors[k * D + j] }
            }
        }
        let inner = multiply(multiply(root, covariance2, D), root, D)
        var symmetric = inner
        for i in 0..<D { for j in 0..<D { symmetric[i * D + j] = 0.5 * (inner[i * D + j] + inner[j * D + i]) } }
        guard let e2 = SymmetricEigen(symmetric, dimension: D, vectors: false) else { return .nan }
        let traceRoot = e2.values.reduce(0) { $0 + max($1, 0).squareRoot() }
        return meanTerm + traces - 2 * traceRoot
    }

    static func multiply(_ a: [Double], _ b: [Double], _ n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for k in 0..<n {
                let aik = a[i * n + k]
                if aik == 0 { continue }
                for j in 0..<n { c[i * n + j] += aik * b[k * n + j] }
            }
        }
        return c
    }

    /// `c [D, D] = scale · xᵀ·x` for `x [rows, D]`, Double.
    static func dgemmTransposedA(_ x: UnsafePointer<Double>, rows: Int, columns D: Int,
                                 into c: UnsafeMutablePointer<Double>, scale: Double) {
        for r in 0..<rows {
            let row = x + r * D
            for i in 0..<D {
                let xi = row[i] * scale
                if xi == 0 { continue }
                let out = c + i * D
                for j in 0..<D { out[j] += xi * row[j] }
            }
        }
    }
}
