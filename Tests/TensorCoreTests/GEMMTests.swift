import XCTest
@testable import TensorCore

/// `gemm` and `matmul` against a naive triple loop in Double.
final class GEMMTests: XCTestCase {
    /// Relative tolerance for Float GEMM with k ≤ 20 and entries in [-1, 1].
    let tolerance = 1e-4

    /// `[rows, columns]` values in [-1, 1) with row stride `ld ≥ columns`;
    /// padding holds NaN so that reading it would show.
    func matrix(rows: Int, columns: Int, ld: Int, _ generator: inout SeededGenerator) -> [Float] {
        var m = [Float](repeating: .nan, count: max(0, rows * ld))
        for r in 0..<rows { for c in 0..<columns { m[r * ld + c] = 2 * generator.nextUniform() - 1 } }
        return m
    }

    /// Every transpose combination, padded strides, β ≠ 0 and β = 0 (which
    /// must clear NaN in C), for several rows and for one row (a
    /// matrix-vector product inside).
    func testAllTransposeCombinationsWithPaddedStrides() {
        var generator = SeededGenerator(seed: 1)
        let (n, k) = (7, 3)
        let alpha: Float = 1.5
        for (m, beta) in [(5, Float(0.5)), (1, 0.5), (1, 0), (5, 0)] {
        for transposeA in [Transpose.none, .transposed] {
            for transposeB in [Transpose.none, .transposed] {
                // As stored: A is [m, k] or, transposed, [k, m]; likewise B.
                let (aRows, aColumns) = transposeA == .none ? (m, k) : (k, m)
                let (bRows, bColumns) = transposeB == .none ? (k, n) : (n, k)
                let (lda, ldb, ldc) = (aColumns + 3, bColumns + 2, n + 4)
                let a = matrix(rows: aRows, columns: aColumns, ld: lda, &generator)
                let b = matrix(rows: bRows, columns: bColumns, ld: ldb, &generator)
                var c = matrix(rows: m, columns: n, ld: ldc, &generator)
                for r in 0..<m { for j in n..<ldc { c[r * ldc + j] = 42 } }  // padding must survive
                if beta == 0 { for r in 0..<m { for j in 0..<n { c[r * ldc + j] = .nan } } }
                let c0 = c

                func elementA(_ i: Int, _ p: Int) -> Double {
                    Double(transposeA == .none ? a[i * lda + p] : a[p * lda + i])
                }
                func elementB(_ p: Int, _ j: Int) -> Double {
                    Double(transposeB == .none ? b[p * ldb + j] : b[j * ldb + p])
                }
                gemm(transposeA, transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                     beta: beta, c: &c, ldc: ldc)
                for i in 0..<m {
                    for j in 0..<n {
                        let dot = (0..<k).reduce(0.0) { $0 + elementA(i, $1) * elementB($1, j) }
                        let expected = Double(alpha) * dot + (beta == 0 ? 0 : Double(beta) * Double(c0[i * ldc + j]))
                        XCTAssertEqual(Double(c[i * ldc + j]), expected, accuracy: tolerance * max(1, abs(expected)),
                                       "m \(m), β \(beta), \(transposeA) \(transposeB) [\(i), \(j)]")
                    }
                    for j in n..<ldc { XCTAssertEqual(c[i * ldc + j], 42) }
                }
            }
        }
        }
    }

    func testEmptyInnerDimensionScalesOrClearsC() {
        var c: [Float] = [.nan, 2, 3, 4]
        let none: [Float] = [0]
        gemm(.none, .none, m: 2, n: 2, k: 0, a: none, lda: 1, b: none, ldb: 2, beta: 0, c: &c, ldc: 2)
        XCTAssertEqual(c, [0, 0, 0, 0])
        c = [1, 2, 3, 4]
        gemm(.none, .none, m: 2, n: 2, k: 0, a: none, lda: 1, b: none, ldb: 2, beta: 2, c: &c, ldc: 2)
        XCTAssertEqual(c, [2, 4, 6, 8])
    }

    func testMatmulAgainstNaiveProduct() {
        var generator = SeededGenerator(seed: 2)
        let a = generator.normalTensor([4, 9])
        let b = generator.normalTensor([9, 3])
        let product = matmul(a, b)
        XCTAssertEqual(product.shape, [4, 3])
        for i in 0..<4 {
            for j in 0..<3 {
                let expected = (0..<9).reduce(0.0) { $0 + Double(a[i, $1]) * Double(b[$1, j]) }
                XCTAssertEqual(Double(product[i, j]), expected, accuracy: tolerance * max(1, abs(expected)))
            }
        }
        let at = Tensor(shape: [9, 4], scalars: (0..<36).map { a[$0 % 4, $0 / 4] })  // aᵀ stored
        let bt = Tensor(shape: [3, 9], scalars: (0..<27).map { b[$0 % 9, $0 / 9] })  // bᵀ stored
        for (x, y, ta, tb) in [(at, b, true, false), (a, bt, false, true), (at, bt, true, true)] {
            let other = matmul(x, y, transposeA: ta, transposeB: tb)
            XCTAssertEqual(other.shape, [4, 3])
            for (p, q) in zip(other.scalars, product.scalars) { XCTAssertEqual(p, q, accuracy: 1e-5) }
        }
    }

    func testMatmulWithEmptyDimensions() {
        XCTAssertEqual(matmul(Tensor(zeros: [2, 0]), Tensor(zeros: [0, 3])), Tensor(zeros: [2, 3]))
        XCTAssertEqual(matmul(Tensor(zeros: [0, 3]), Tensor(zeros: [3, 2])), Tensor(zeros: [0, 2]))
    }
}
