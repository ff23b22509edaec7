import XCTest
import TensorCore

/// Reductions and BLAS-1 helpers at lengths around the 8-lane width.
final class ReductionTests: XCTestCase {
    let lengths = [0, 1, 7, 8, 9, 1000, 10_001]

    func values(_ count: Int) -> [Float] {
        (0..<count).map { Float(($0 * 37) % 101) / 10 - 5 }
    }

    func testSumAndSumOfSquares() {
        for count in lengths {
            let x = values(count)
            let sum = x.reduce(0.0) { $0 + Double($1) }
            let squares = x.reduce(0.0) { $0 + Double($1) * Double($1) }
            XCTAssertEqual(Double(Vector.sum(x, count: count)), sum, accuracy: 1e-5 * max(1, Double(count)), "count \(count)")
            XCTAssertEqual(Vector.sumOfSquares(x, count: count), squares, accuracy: 1e-6 * max(1, squares), "count \(count)")
        }
    }

    func testAllFiniteSeesNaNAndInfinityAnywhere() {
        for count in lengths where count > 0 {
            var x = values(count)
            x[count / 2] = .greatestFiniteMagnitude
            XCTAssertTrue(Vector.allFinite(x, count: count), "count \(count)")
            for bad in [Float.nan, .infinity, -.infinity] {
                for index in Set([0, count / 2, count - 1]) {
                    var y = x
                    y[index] = bad
                    XCTAssertFalse(Vector.allFinite(y, count: count), "\(bad) at \(index) of \(count)")
                }
            }
        }
        XCTAssertTrue(Vector.allFinite([Float.nan], count: 0))
        XCTAssertTrue(Tensor(zeros: [0, 3]).isFinite)
        XCTAssertFalse(Tensor(shape: [3], scalars: [0, 1, .nan]).isFinite)
    }

    func testElementwiseHelpers() {
        for count in lengths {
            let x = values(count)
            var y = x.map { $0 * 2 }
            Vector.axpy(0.5, x, &y, count: count)
            XCTAssertEqual(y, x.map { $0 * 2 + 0.5 * $0 })
            Vector.scale(&y, by: 2, count: count)
            XCTAssertEqual(y, x.map { ($0 * 2 + 0.5 * $0) * 2 })
            var z = [Float](repeating: .nan, count: count)
            Vector.add(x, x, &z, count: count)
            XCTAssertEqual(z, x.map { $0 + $0 })
            Vector.multiply(x, x, &z, count: count)
            XCTAssertEqual(z, x.map { $0 * $0 })
        }
    }

    func testRowVectorAndColumnSumsWithStride() {
        // [2, 3] inside rows of stride 4; the padding column must not change.
        var x: [Float] = [1, 2, 3, 99, 4, 5, 6, 99]
        Vector.addRowVector([10, 20, 30], to: &x, rows: 2, columns: 3, ld: 4)
        XCTAssertEqual(x, [11, 22, 33, 99, 14, 25, 36, 99])
        var sums: [Float] = [1, 1, 1]
        Vector.columnSums(x, rows: 2, columns: 3, ld: 4, into: &sums, accumulate: true)
        XCTAssertEqual(sums, [26, 48, 70])
        Vector.columnSums(x, rows: 2, columns: 3, ld: 4, into: &sums, accumulate: false)
        XCTAssertEqual(sums, [25, 47, 69])
    }
}
