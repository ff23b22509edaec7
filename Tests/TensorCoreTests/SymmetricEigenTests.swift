import XCTest
@testable import TensorCore

final class SymmetricEigenTests: XCTestCase {
    /// A = V·diag(λ)·Vᵀ, VᵀV = I, λ ascending, for a random symmetric matrix.
    func testReconstructsRandomSymmetricMatrix() throws {
        let n = 7
        var g = SeededGenerator(seed: 3)
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0...i { let v = Double(g.nextUniform()) * 2 - 1; a[i * n + j] = v; a[j * n + i] = v } }
        let e = try XCTUnwrap(SymmetricEigen(a, dimension: n))
        XCTAssertEqual(e.values, e.values.sorted())
        for i in 0..<n {
            for j in 0..<n {
                var sum = 0.0, dot = 0.0
                for k in 0..<n {
                    sum += e.vectors[k * n + i] * e.values[k] * e.vectors[k * n + j]
                    dot += e.vectors[i * n + k] * e.vectors[j * n + k]
                }
                XCTAssertEqual(sum, a[i * n + j], accuracy: 1e-12)
                XCTAssertEqual(dot, i == j ? 1 : 0, accuracy: 1e-12)
            }
        }
        let valuesOnly = try XCTUnwrap(SymmetricEigen(a, dimension: n, vectors: false))
        for k in 0..<n { XCTAssertEqual(valuesOnly.values[k], e.values[k], accuracy: 1e-12) }
    }

    func testKnownEigenvalues() throws {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let e = try XCTUnwrap(SymmetricEigen([2, 1, 1, 2], dimension: 2))
        XCTAssertEqual(e.values[0], 1, accuracy: 1e-14)
        XCTAssertEqual(e.values[1], 3, accuracy: 1e-14)
        XCTAssertEqual(e.vectors[2], e.vectors[3], accuracy: 1e-14)  // (1, 1)/√2 up to sign
        XCTAssertEqual(abs(e.vectors[2]), 0.5.squareRoot(), accuracy: 1e-14)
    }
}
