import XCTest
import TensorCore
@testable import Net2Net

final class FrechetDistanceTests: XCTestCase {
    func gaussian(_ n: Int, mean: [Float], std: [Float], seed: UInt64) -> Tensor {
        var g = SeededGenerator(seed: seed)
        let d = mean.count
        var t = g.normalTensor([n, d])
        for r in 0..<n { for j in 0..<d { t.scalars[r * d + j] = mean[j] + std[j] * t.scalars[r * d + j] } }
        return t
    }

    /// For commuting (here diagonal) covariances d² = ‖μ₁ − μ₂‖² + Σ (σ₁ᵢ − σ₂ᵢ)².
    func testDiagonalClosedForm() {
        let m1: [Double] = [0, 1, -2], m2: [Double] = [1, 1, 0]
        let s1: [Double] = [1, 4, 0.25], s2: [Double] = [2, 1, 0.25]
        func diagonal(_ v: [Double]) -> [Double] {
            var c = [Double](repeating: 0, count: 9); for i in 0..<3 { c[i * 3 + i] = v[i] }; return c
        }
        let d = FrechetDistance.distance(mean1: m1, covariance1: diagonal(s1), mean2: m2, covariance2: diagonal(s2))
        var expected = 0.0
        for i in 0..<3 { expected += pow(m1[i] - m2[i], 2) + pow(s1[i].squareRoot() - s2[i].squareRoot(), 2) }
        XCTAssertEqual(d, expected, accuracy: 1e-10)
    }

    /// A full (non-diagonal) case against 2×2 closed form: tr√(Σ₁Σ₂) = √(tr M + 2√det M) for M = Σ₁Σ₂.
    func testTwoByTwoClosedForm() {
        let c1: [Double] = [2, 0.5, 0.5, 1], c2: [Double] = [1, -0.3, -0.3, 3]
        let m = [c1[0] * c2[0] + c1[1] * c2[2], c1[0] * c2[1] + c1[1] * c2[3],
                 c1[2] * c2[0] + c1[3] * c2[2], c1[2] * c2[1] + c1[3] * c2[3]]
        let traceRoot = (m[0] + m[3] + 2 * (m[0] * m[3] - m[1] * m[2]).squareRoot()).squareRoot()
        let expected = 1.0 + (3 + 4) - 2 * traceRoot
        let d = FrechetDistance.distance(mean1: [1, 0], covariance1: c1, mean2: [0, 0], covariance2: c2)
        XCTAssertEqual(d, expected, accuracy: 1e-10)
    }

    func testSamplesOfOneDistributionAreClose() {
        let a = gaussian(4000, mean: [0, 0, 0, 0], std: [1, 2, 1, 0.5], seed: 1)
        let b = gaussian(4000, mean: [0, 0, 0, 0], std: [1, 2, 1, 0.5], seed: 2)
        let c = gaussian(4000, mean: [1, 0, 0, 0], std: [1, 2, 1, 0.5], seed: 3)
        XCTAssertLessThan(FrechetDistance.distance(a, b), 0.05)
        XCTAssertEqual(FrechetDistance.distance(a, c), 1, accuracy: 0.1)
        XCTAssertEqual(FrechetDistance.distance(a, a), 0, accuracy: 1e-9)
    }
}
