import Foundation
import XCTest
import TestSupport
import Layers
import TensorCore

/// PyTorch's `torch.optim.Adam` step, one scalar at a time in Double:
/// ```
/// m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  v̂ ← max(v̂, v) (amsgrad) or v
/// p ← p − lr/(1−β₁ᵗ) · m / (√v̂/√(1−β₂ᵗ) + ε)
/// ```
struct ReferenceAdam {
    let beta1: Double, beta2: Double, epsilon: Double, amsgrad: Bool
    var m: [Double], v: [Double], vmax: [Double]
    var t = 0

    init(count: Int, beta1: Double, beta2: Double, epsilon: Double, amsgrad: Bool) {
        (self.beta1, self.beta2, self.epsilon, self.amsgrad) = (beta1, beta2, epsilon, amsgrad)
        m = [Double](repeating: 0, count: count)
        v = m
        vmax = m
    }

    mutating func step(_ p: inout [Double], gradient g: [Float], scale: Double, learningRate lr: Double) {
        t += 1
        let bias1 = 1 - pow(beta1, Double(t)), bias2 = 1 - pow(beta2, Double(t))
        for i in 0..<p.count {
            let gi = Double(g[i]) * scale
            m[i] = beta1 * m[i] + (1 - beta1) * gi
            v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
            var vhat = v[i]
            if amsgrad { vmax[i] = max(vmax[i], v[i]); vhat = vmax[i] }
            p[i] -= lr / bias1 * m[i] / (vhat.squareRoot() / bias2.squareRoot() + epsilon)
        }
    }
}

final class AdamTests: XCTestCase {
    /// Gradient magnitudes per step: large then small, so that AMSGrad's
    /// running maximum differs from v.
    let stepScales: [Float] = [3, 0.1, 0.05, 0.02, 2]
    let learningRate: Float = 0.01

    /// Counts entries where |a − b| > relative·(|b| + floor); returns the worst, for messages.
    func mismatches(_ a: UnsafePointer<Float>, _ b: [Double], relative: Double, floor: Double) -> (Int, String) {
        var count = 0
        var worst = (0.0, "")
        for i in 0..<b.count {
            let error = abs(Double(a[i]) - b[i])
            let bound = relative * (abs(b[i]) + floor)
            if !(error <= bound) {
                count += 1
                if !(error / bound <= worst.0) { worst = (error / bound, "[\(i)]: \(a[i]) vs \(b[i])") }
            }
        }
        return (count, worst.1)
    }

    func rms(_ values: [Double]) -> Double {
        (values.reduce(0) { $0 + $1 * $1 } / Double(max(1, values.count))).squareRoot()
    }

    /// Five steps of `Adam` against `ReferenceAdam`; parameters, all
    /// moments and the returned Σg² are compared every step.
    func compare(count: Int, amsgrad: Bool, gradientScale: Float = 1, file: StaticString = #filePath, line: UInt = #line) {
        let adam = Adam(parameterCount: count, amsgrad: amsgrad)
        XCTAssertEqual(adam.beta1, 0.5)
        XCTAssertEqual(adam.beta2, 0.9)
        var reference = ReferenceAdam(count: count, beta1: 0.5, beta2: 0.9, epsilon: Double(adam.epsilon),
                                      amsgrad: amsgrad)
        let parameters = FloatBuffer(normals(count, seed: 1))
        var expected = parameters.array().map(Double.init)
        let gradients = FloatBuffer(count: count)
        var maximumMattered = false
        for (t, scale) in stepScales.enumerated() {
            var g = normals(count, seed: UInt64(10 + t), scale: scale)
            g[count / 2] = 0  // an entry that sees a zero gradient once
            gradients.assign(g)
            let sumOfSquares = adam.update(parameters: parameters, gradients: gradients,
                                           learningRate: learningRate, gradientScale: gradientScale)
            reference.step(&expected, gradient: g, scale: Double(gradientScale), learningRate: Double(learningRate))
            XCTAssertEqual(adam.step, t + 1, file: file, line: line)
            let trueSum = g.reduce(0.0) { $0 + Double($1) * Double($1) }
            XCTAssertEqual(sumOfSquares, trueSum, accuracy: 1e-5 * trueSum, "Σg² at step \(t + 1)", file: file, line: line)

            let what = "count \(count), amsgrad \(amsgrad), scale \(gradientScale), step \(t + 1)"
            var (bad, worst) = mismatches(parameters.pointer, expected, relative: 1e-6, floor: Double(learningRate))
            XCTAssertEqual(bad, 0, "parameters (\(what)) \(worst)", file: file, line: line)
            (bad, worst) = mismatches(adam.firstMoment.pointer, reference.m, relative: 1e-6, floor: rms(reference.m))
            XCTAssertEqual(bad, 0, "first moment (\(what)) \(worst)", file: file, line: line)
            (bad, worst) = mismatches(adam.secondMoment.pointer, reference.v, relative: 1e-6, floor: rms(reference.v))
            XCTAssertEqual(bad, 0, "second moment (\(what)) \(worst)", file: file, line: line)
            if amsgrad {
                maximumMattered = maximumMattered || zip(reference.vmax, reference.v).contains { $0 > 1.3 * $1 }
                (bad, worst) = mismatches(adam.maxSecondMoment.pointer, reference.vmax, relative: 1e-6,
                                          floor: rms(reference.vmax))
                XCTAssertEqual(bad, 0, "max second moment (\(what)) \(worst)", file: file, line: line)
            }
        }
        // The running maximum mattered: after the small steps v̂ > v somewhere.
        XCTAssertEqual(maximumMattered, amsgrad, file: file, line: line)
    }

    func testAMSGradMatchesReferenceOnTinyBuffers() {
        compare(count: 5, amsgrad: true)      // scalar path only
        compare(count: 21, amsgrad: true)     // two SIMD blocks and a tail
    }

    func testAdamWithoutAMSGradMatchesReference() {
        compare(count: 5, amsgrad: false)
        compare(count: 21, amsgrad: false)
        XCTAssertEqual(Adam(parameterCount: 7, amsgrad: false).maxSecondMoment.count, 0)
    }

    /// An odd count over several threads: every chunk boundary, every
    /// 4096-block and the scalar tail of the last chunk.
    func testLargeBufferAcrossThreadsMatchesReference() {
        let count = 1_000_003
        let saved = Parallel.threadCount
        Parallel.threadCount = 3
        defer { Parallel.threadCount = saved }
        XCTAssertEqual(Parallel.chunkCount(count: count, minimumChunk: 1 << 16), 3)
        compare(count: count, amsgrad: true)
        compare(count: count, amsgrad: false)
    }

    /// The gradient is multiplied by `gradientScale` before the moments;
    /// the returned Σg² is of the unscaled gradient.
    func testGradientScaleMultipliesTheGradient() {
        compare(count: 21, amsgrad: true, gradientScale: 0.25)
        compare(count: 21, amsgrad: false, gradientScale: 3)
    }

    /// Step 1 with amsgrad: m = (1−β₁)g, v = (1−β₂)g², and the update is
    /// lr·g/(|g| + ε') ≈ lr·sign(g), PyTorch's well-known first step.
    func testFirstStepIsSignOfGradientTimesRate() {
        let adam = Adam(parameterCount: 3, epsilon: 0)
        let p = FloatBuffer([1, 1, 1])
        adam.update(parameters: p, gradients: FloatBuffer([4, -0.001, 30]), learningRate: 0.1)
        XCTAssertEqual(p.array()[0], 0.9, accuracy: 1e-6)
        XCTAssertEqual(p.array()[1], 1.1, accuracy: 1e-6)
        XCTAssertEqual(p.array()[2], 0.9, accuracy: 1e-6)
    }

    /// A step applied range by range, in any order and from concurrent
    /// threads, gives the same bits as one `update`, and the same Σg² up to
    /// summation order (float partial sums per block).
    func testStepAppliedByRangesEqualsOneUpdate() {
        let count = 300_017
        var g = SeededGenerator(seed: 5)
        let start = (0..<count).map { _ in g.nextUniform() - 0.5 }
        let gradientSteps = (0..<3).map { _ in (0..<count).map { _ in 2 * g.nextUniform() - 1 } }
        let whole = Adam(parameterCount: count), pieces = Adam(parameterCount: count)
        let p1 = FloatBuffer(start), p2 = FloatBuffer(start)
        // Uneven cuts, some shorter than a SIMD block, applied back to front.
        let cuts = [0, 3, 40, 4096, 70_001, 150_000, 299_999, count]
        let ranges = zip(cuts, cuts.dropFirst()).map { $0..<$1 }.reversed()
        for gradient in gradientSteps {
            let expected = whole.update(parameters: p1, gradients: FloatBuffer(gradient), learningRate: 0.01)
            let gradients = FloatBuffer(gradient)
            let step = pieces.beginStep(parameters: p2, gradients: gradients, learningRate: 0.01)
            Parallel.runTasks(2) { half in
                for (i, range) in ranges.enumerated() where i % 2 == half { step.apply(range) }
            }
            XCTAssertEqual(step.squaredGradientSum, expected, accuracy: 1e-5 * expected)   // float partial sums per block
        }
        XCTAssertEqual(p2.array(), p1.array())
        XCTAssertEqual(pieces.firstMoment.array(), whole.firstMoment.array())
        XCTAssertEqual(pieces.secondMoment.array(), whole.secondMoment.array())
        XCTAssertEqual(pieces.maxSecondMoment.array(), whole.maxSecondMoment.array())
        XCTAssertEqual(pieces.step, whole.step)
    }

    /// Weight decay skips `undecayedRanges`: there the step is the undecayed
    /// one, elsewhere the decayed one, bit for bit, however the step is cut.
    func testUndecayedRangesTakeTheStepWithoutDecay() {
        let count = 70_003
        var g = SeededGenerator(seed: 8)
        let start = (0..<count).map { _ in g.nextUniform() - 0.5 }
        let gradients = (0..<2).map { _ in FloatBuffer((0..<count).map { _ in 2 * g.nextUniform() - 1 }) }
        let kept = [0..<5, 16..<33, 4096..<4100, 69_990..<count]
        let plain = Adam(parameterCount: count), decayed = Adam(parameterCount: count), mixed = Adam(parameterCount: count)
        let mixedInPieces = Adam(parameterCount: count)
        mixed.undecayedRanges = kept
        mixedInPieces.undecayedRanges = kept
        let (p0, p1, p2, p3) = (FloatBuffer(start), FloatBuffer(start), FloatBuffer(start), FloatBuffer(start))
        let decay: Float = 0.97
        let cuts = [0, 3, 20, 4098, 50_000, 69_995, count]
        for gradient in gradients {
            plain.update(parameters: p0, gradients: gradient, learningRate: 0.01)
            decayed.update(parameters: p1, gradients: gradient, learningRate: 0.01, decay: decay)
            mixed.update(parameters: p2, gradients: gradient, learningRate: 0.01, decay: decay)
            let step = mixedInPieces.beginStep(parameters: p3, gradients: gradient, learningRate: 0.01, decay: decay)
            for (a, b) in zip(cuts, cuts.dropFirst()).reversed() { step.apply(a..<b) }
        }
        let (noDecay, withDecay, result) = (p0.array(), p1.array(), p2.array())
        XCTAssertNotEqual(noDecay, withDecay)
        for i in 0..<count {
            let expected = kept.contains { $0.contains(i) } ? noDecay[i] : withDecay[i]
            if result[i] != expected { return XCTFail("element \(i): \(result[i]) instead of \(expected)") }
        }
        XCTAssertEqual(p3.array(), result)
        // Without decay the ranges change nothing.
        let p4 = FloatBuffer(start), again = Adam(parameterCount: count)
        again.undecayedRanges = kept
        for gradient in gradients { again.update(parameters: p4, gradients: gradient, learningRate: 0.01) }
        XCTAssertEqual(p4.array(), noDecay)
    }

    func testVectorRangesAreTheTensorsOfFewerThanTwoDimensions() {
        var layout = ParameterLayout()
        layout.add("w", shape: [3, 5])
        layout.add("b", shape: [3], packed: true)
        layout.add("loc", shape: [4])
        layout.add("log_scale", shape: [4], packed: true)
        layout.add("w2", shape: [2, 2])
        // w 0..<15, b 15..<18; loc 32..<36 and log_scale 36..<40 merge; w2 48..<52.
        XCTAssertEqual(layout.vectorRanges, [15..<18, 32..<40])
    }
}
