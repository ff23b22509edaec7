import Foundation
import XCTest
import Layers
import TensorCore

/// `Activation` forward against libm in Double, backward (from the input and
/// from the output) against central differences of the forward kernel
/// (h = 1e-2 in Float: tolerance 1e-3 relative + 2e-4 absolute), in place,
/// with SIMD tails and across parallel chunks.
final class ActivationTests: XCTestCase {
    let all: [Activation] = [.identity, .relu, .leakyReLU(slope: 0.2), .leakyReLU(slope: 0.01), .tanh, .sigmoid]

    func reference(_ f: Activation, _ x: Double) -> Double {
        switch f {
        case .identity: return x
        case .relu: return max(x, 0)
        case .leakyReLU(let a): return x > 0 ? x : Double(a) * x
        case .tanh: return Foundation.tanh(x)
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        }
    }

    /// 37 values (a SIMD tail) away from the kink at 0 by more than the step.
    var inputs: [Float] {
        normals(37, seed: 3, scale: 2).map { abs($0) < 0.05 ? $0 + 0.1 : $0 }
    }

    func forward(_ f: Activation, _ x: [Float]) -> [Float] {
        var y = [Float](repeating: .nan, count: x.count)
        f.forward(x, into: &y, count: x.count)
        return y
    }

    func testForwardMatchesReference() {
        let x = inputs + [0, -0.0, 30, -30]
        for f in all {
            let y = forward(f, x)
            for i in x.indices { assertNear(y[i], reference(f, Double(x[i])), relative: 1e-5, absolute: 1e-7, "\(f)(\(x[i]))") }
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer { f.forward($0.baseAddress!, into: $0.baseAddress!, count: x.count) }
            XCTAssertEqual(inPlace, y, "\(f) in place")
        }
    }

    func testBackwardAgainstFiniteDifferences() {
        let x = inputs
        let dy = normals(x.count, seed: 4)
        let h: Float = 1e-2
        for f in all {
            let y = forward(f, x)
            var fromInput = [Float](repeating: .nan, count: x.count), fromOutput = fromInput
            f.backward(input: x, dy: dy, into: &fromInput, count: x.count)
            XCTAssertTrue(f.isInvertibleFromOutput)
            f.backward(output: y, dy: dy, into: &fromOutput, count: x.count)
            let plus = forward(f, x.map { $0 + h }), minus = forward(f, x.map { $0 - h })
            for i in x.indices {
                let numeric = Double(dy[i]) * Double(plus[i] - minus[i]) / Double(2 * h)
                let bound = 1e-3 * abs(numeric) + 2e-4
                XCTAssertLessThanOrEqual(abs(Double(fromInput[i]) - numeric), bound,
                                         "\(f)′ from x at \(x[i]): \(fromInput[i]) vs \(numeric)")
                XCTAssertLessThanOrEqual(abs(Double(fromOutput[i]) - numeric), bound,
                                         "\(f)′ from y at \(x[i]): \(fromOutput[i]) vs \(numeric)")
            }
            // dx may overwrite dy.
            var aliased = dy
            aliased.withUnsafeMutableBufferPointer { f.backward(input: x, dy: $0.baseAddress!, into: $0.baseAddress!, count: x.count) }
            XCTAssertEqual(aliased, fromInput, "\(f) backward in place")
        }
    }

    /// At 0 the derivative is the negative side's (PyTorch: relu′(0) = 0).
    func testDerivativeAtZero() {
        var dx: [Float] = [.nan]
        Activation.relu.backward(input: [0], dy: [2], into: &dx, count: 1)
        XCTAssertEqual(dx, [0])
        Activation.leakyReLU(slope: 0.1).backward(output: [0], dy: [2], into: &dx, count: 1)
        XCTAssertEqual(dx[0], 0.2, accuracy: 1e-7)
        XCTAssertFalse(Activation.leakyReLU(slope: -0.5).isInvertibleFromOutput)
    }

    /// 100 000 elements run in parallel chunks and give the same bits as short calls.
    func testLongBuffersMatchShortOnes() {
        let n = 100_003
        let x = normals(n, seed: 5), dy = normals(n, seed: 6)
        for f in [Activation.leakyReLU(slope: 0.2), .tanh, .sigmoid] {
            let y = forward(f, x)
            var dx = [Float](repeating: .nan, count: n)
            f.backward(output: y, dy: dy, into: &dx, count: n)
            for start in stride(from: 0, to: n, by: 9_999) {
                let m = min(9_999, n - start)
                let ys = forward(f, Array(x[start..<(start + m)]))
                XCTAssertEqual(ys, Array(y[start..<(start + m)]), "\(f) forward chunk at \(start)")
                var d = [Float](repeating: .nan, count: m)
                f.backward(output: Array(y[start..<(start + m)]), dy: Array(dy[start..<(start + m)]), into: &d, count: m)
                XCTAssertEqual(d, Array(dx[start..<(start + m)]), "\(f) backward chunk at \(start)")
            }
        }
    }
}
