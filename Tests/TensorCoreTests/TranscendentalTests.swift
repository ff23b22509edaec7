import Foundation
import XCTest
import TensorCore

/// `Vector.exp`, `tanh` and `sigmoid` against Foundation in Double.
///
/// Measured on a 2M-point grid (Swift 6.3, x86-64-v3): exp max relative error
/// 8.1e-8 on [-87, 88]; tanh max absolute error 8.9e-8, max relative 3.7e-7
/// (just above |x| = 0.0625, where (1−t)/(1+t) cancels); sigmoid max absolute
/// 8.9e-8, relative 1.5e-7. The bounds below leave ~25 % headroom.
final class TranscendentalTests: XCTestCase {
    enum Tolerance {
        static let expRelative = 1.0e-7
        static let tanhAbsolute = 1.2e-7
        static let tanhRelative = 5.0e-7
        static let sigmoidAbsolute = 1.2e-7
        static let sigmoidRelative = 2.0e-7
    }

    /// `count` evenly spaced points on [lower, upper].
    func grid(_ lower: Float, _ upper: Float, count: Int = 2_000_001) -> [Float] {
        (0..<count).map { lower + (upper - lower) * Float($0) / Float(count - 1) }
    }

    func apply(_ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void, _ x: [Float]) -> [Float] {
        var y = [Float](repeating: .nan, count: x.count)
        kernel(x, &y, x.count)
        return y
    }

    func exp(_ x: [Float]) -> [Float] { apply({ Vector.exp($0, $1, count: $2) }, x) }
    func tanh(_ x: [Float]) -> [Float] { apply({ Vector.tanh($0, $1, count: $2) }, x) }
    func sigmoid(_ x: [Float]) -> [Float] { apply({ Vector.sigmoid($0, $1, count: $2) }, x) }

    func testExpRelativeErrorOverTheNormalRange() {
        // Up to ln(Float.greatestFiniteMagnitude): results near the top must not overflow.
        let x = grid(-87, 88.7228) + [88.38, 88.5, 88.72, -87.33]
        let y = exp(x)
        var worst = 0.0, at: Float = 0
        for (xi, yi) in zip(x, y) {
            let truth = Foundation.exp(Double(xi))
            let error = abs(Double(yi) - truth) / truth
            if !(error <= worst) { worst = error; at = xi }
        }
        XCTAssertLessThanOrEqual(worst, Tolerance.expRelative, "worst at x = \(at)")
    }

    func testExpSpecialValues() {
        let y = exp([100, -100, .nan, .infinity, -.infinity, 0, -0.0, 88.73, -88])
        XCTAssertEqual(y[0], .infinity)
        XCTAssertEqual(y[1], 0)
        XCTAssertTrue(y[2].isNaN)
        XCTAssertEqual(y[3], .infinity)
        XCTAssertEqual(y[4], 0)
        XCTAssertEqual(y[5], 1)
        XCTAssertEqual(y[6], 1)
        XCTAssertEqual(y[7], .infinity)
        XCTAssertEqual(y[8], 0, "documented: flushes to 0 below -87.34 instead of returning subnormals")
    }

    func testTanhAgainstFoundation() {
        let boundary: Float = 0.0625  // where tanh switches from its series
        let special: [Float] = [1e-8, -1e-8, boundary, -boundary, boundary.nextDown, boundary.nextUp, -boundary.nextUp,
                                10, -10, 100, -100, 1e-30, 0.5, -3]
        let x = grid(-12, 12) + special
        let y = tanh(x)
        var worstAbsolute = 0.0, worstRelative = 0.0
        for (xi, yi) in zip(x, y) {
            let truth = Foundation.tanh(Double(xi))
            let error = abs(Double(yi) - truth)
            worstAbsolute = max(worstAbsolute, error)
            if truth != 0 { worstRelative = max(worstRelative, error / abs(truth)) }
        }
        XCTAssertLessThanOrEqual(worstAbsolute, Tolerance.tanhAbsolute)
        XCTAssertLessThanOrEqual(worstRelative, Tolerance.tanhRelative)

        let edges = tanh([10, -10, 100, -100, 1e-8, 0, -0.0, .nan, .infinity, -.infinity])
        XCTAssertEqual(Array(edges[0..<4]), [1, -1, 1, -1])
        XCTAssertEqual(edges[4], 1e-8)
        XCTAssertEqual(edges[5].bitPattern, Float(0).bitPattern)
        XCTAssertEqual(edges[6].bitPattern, Float(-0.0).bitPattern)
        XCTAssertTrue(edges[7].isNaN)
        XCTAssertEqual(Array(edges[8...]), [1, -1])
    }

    func testSigmoidAgainstFoundation() {
        let x = grid(-87, 88)
        let y = sigmoid(x)
        var worstAbsolute = 0.0, worstRelative = 0.0
        for (xi, yi) in zip(x, y) {
            let truth = 1 / (1 + Foundation.exp(-Double(xi)))
            let error = abs(Double(yi) - truth)
            worstAbsolute = max(worstAbsolute, error)
            worstRelative = max(worstRelative, error / truth)
        }
        XCTAssertLessThanOrEqual(worstAbsolute, Tolerance.sigmoidAbsolute)
        XCTAssertLessThanOrEqual(worstRelative, Tolerance.sigmoidRelative)
        XCTAssertEqual(sigmoid([0, 100, -100, .infinity, -.infinity]), [0.5, 1, 0, 1, 0])
    }

    /// Vector lengths that exercise the 8-lane body and the tail; in-place use.
    func testLengthsAndAliasing() {
        for count in [0, 1, 7, 8, 9, 1000] {
            var x = (0..<count).map { Float($0) * 0.01 - 3 }
            let expected = x.map { Foundation.exp($0) }
            x.withUnsafeMutableBufferPointer { buffer in
                guard let p = buffer.baseAddress else { return }
                Vector.exp(p, p, count: count)
            }
            for (value, truth) in zip(x, expected) { XCTAssertEqual(value, truth, accuracy: truth * 2e-7) }
            XCTAssertEqual(x.count, count)
        }
    }
}
