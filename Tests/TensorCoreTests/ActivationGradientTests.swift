import Foundation
import XCTest
import TensorCore

/// Leaky ReLU and the backward kernels against central finite differences
/// of the forward kernels.
final class ActivationGradientTests: XCTestCase {
    typealias Kernel = (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void

    func apply(_ kernel: Kernel, _ x: [Float]) -> [Float] {
        var y = [Float](repeating: .nan, count: x.count)
        kernel(x, &y, x.count)
        return y
    }

    /// `(f(x + h) − f(x − h)) / 2h` element-wise, in Float.
    func centralDifference(_ kernel: Kernel, _ x: [Float], h: Float) -> [Double] {
        let plus = apply(kernel, x.map { $0 + h })
        let minus = apply(kernel, x.map { $0 - h })
        return zip(plus, minus).map { Double($0 - $1) / Double(2 * h) }
    }

    func testLeakyReLUForward() {
        for count in [0, 1, 7, 8, 9, 1000] {
            let x = (0..<count).map { Float($0 % 13) - 6.5 }
            let y = apply({ Vector.leakyReLU($0, $1, count: $2, slope: 0.01) }, x)
            XCTAssertEqual(y, x.map { $0 > 0 ? $0 : 0.01 * $0 }, "count \(count)")
        }
    }

    func testLeakyReLUBackwardMatchesFiniteDifferences() {
        let slope: Float = 0.2
        let forward: Kernel = { Vector.leakyReLU($0, $1, count: $2, slope: slope) }
        // Points at least 0.05 from the kink, so x ± h stays on one side.
        let x = (0..<1001).map { Float($0) * 0.01 - 5.005 }.filter { abs($0) > 0.05 }
        var generator = SeededGenerator(seed: 3)
        let dy = x.map { _ in generator.nextUniform() * 2 - 1 }
        let y = apply(forward, x)
        var dx = [Float](repeating: .nan, count: x.count)
        Vector.leakyReLUBackward(y: y, dy: dy, dx: &dx, count: x.count, slope: slope)
        let slopes = centralDifference(forward, x, h: 1e-2)
        for i in x.indices {
            XCTAssertEqual(Double(dx[i]), Double(dy[i]) * slopes[i], accuracy: 1e-4, "x = \(x[i])")
        }
    }

    func testTanhBackwardMatchesFiniteDifferences() {
        let forward: Kernel = { Vector.tanh($0, $1, count: $2) }
        let x = (0..<1001).map { Float($0) * 0.008 - 4 }
        var generator = SeededGenerator(seed: 4)
        let dy = x.map { _ in generator.nextUniform() * 2 - 1 }
        let y = apply(forward, x)
        var dx = [Float](repeating: .nan, count: x.count)
        Vector.tanhBackward(y: y, dy: dy, dx: &dx, count: x.count)
        // h = 1e-2: truncation h²/6·|tanh'''| ≤ 3.4e-5, rounding ≈ 1e-7/h = 1e-5.
        let derivative = centralDifference(forward, x, h: 1e-2)
        for i in x.indices {
            XCTAssertEqual(Double(dx[i]), Double(dy[i]) * derivative[i], accuracy: 1e-4, "x = \(x[i])")
        }
    }
}
