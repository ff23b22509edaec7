import XCTest
import TestSupport
import Layers
import TensorCore

/// `BatchNorm` (B = 5, C = 3) against PyTorch's `BatchNorm1d` formulas
/// computed by hand in Double, and its backward against central differences.
final class BatchNormTests: XCTestCase {
    let B = 5, C = 3
    var norm: BatchNorm!
    var parameters: FloatBuffer!
    var buffers: FloatBuffer!
    /// Columns with different means and spreads.
    var x: [Float] = []

    override func setUp() {
        var layout = ParameterLayout(), bufferLayout = ParameterLayout()
        layout.add("before", shape: [5])
        bufferLayout.add("before", shape: [2])
        norm = BatchNorm("bn", channels: C, parameters: &layout, buffers: &bufferLayout)
        parameters = FloatBuffer(count: layout.count)
        buffers = FloatBuffer(count: bufferLayout.count)
        norm.initialize(parameters.pointer, buffers: buffers.pointer)
        XCTAssertEqual(layout.entry("bn.weight")?.shape, [C])
        XCTAssertEqual(bufferLayout.entry("bn.running_var")?.offset, norm.runningVarianceOffset)
        XCTAssertEqual(buffers.array(norm.runningMeanOffset..<(norm.runningMeanOffset + C)), [0, 0, 0])
        XCTAssertEqual(buffers.array(norm.runningVarianceOffset..<(norm.runningVarianceOffset + C)), [1, 1, 1])
        let gamma: [Float] = [1.5, -0.7, 0.3], beta: [Float] = [0.2, -1, 2]
        parameters.assign(gamma, at: norm.weightOffset)
        parameters.assign(beta, at: norm.biasOffset)
        let means: [Float] = [3, -2, 0.5], spreads: [Float] = [2, 0.5, 5]
        x = normals(B * C, seed: 1)
        for r in 0..<B { for c in 0..<C { x[r * C + c] = means[c] + spreads[c] * x[r * C + c] } }
    }

    func gamma(_ c: Int) -> Double { Double(parameters[norm.weightOffset + c]) }
    func beta(_ c: Int) -> Double { Double(parameters[norm.biasOffset + c]) }

    /// (mean, biased variance, unbiased variance) of column c of `x`.
    func statistics(_ x: [Float], _ c: Int) -> (Double, Double, Double) {
        let column = (0..<B).map { Double(x[$0 * C + c]) }
        let mean = column.reduce(0, +) / Double(B)
        let squares = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (mean, squares / Double(B), squares / Double(B - 1))
    }

    func train(_ x: [Float], update: Bool) -> (y: [Float], normalized: [Float], inverseStd: [Float]) {
        var y = [Float](repeating: 0, count: B * C)
        var normalized = [Float](repeating: 0, count: B * C)
        var inverseStd = [Float](repeating: 0, count: C)
        norm.forwardTraining(x, batch: B, parameters: parameters.pointer, buffers: buffers.pointer,
                             updateRunningStatistics: update, normalized: &normalized, inverseStd: &inverseStd,
                             into: &y)
        return (y, normalized, inverseStd)
    }

    func testTrainingForwardNormalisesEachColumn() {
        let (y, normalized, inverseStd) = train(x, update: false)
        let epsilon = Double(norm.epsilon)
        for c in 0..<C {
            let (mean, variance, _) = statistics(x, c)
            assertNear(inverseStd[c], 1 / (variance + epsilon).squareRoot(), "1/std[\(c)]")
            for r in 0..<B {
                let n = (Double(x[r * C + c]) - mean) / (variance + epsilon).squareRoot()
                assertNear(normalized[r * C + c], n, absolute: 1e-5, "x̂[\(r), \(c)]")
                assertNear(y[r * C + c], gamma(c) * n + beta(c), absolute: 1e-5, "y[\(r), \(c)]")
            }
            // x̂ has zero mean and (biased) unit variance, so y has mean β and variance γ².
            let (nMean, nVariance, _) = statistics(normalized, c)
            XCTAssertEqual(nMean, 0, accuracy: 1e-6)
            XCTAssertEqual(nVariance, 1, accuracy: 1e-4)
            let (yMean, yVariance, _) = statistics(y, c)
            XCTAssertEqual(yMean, beta(c), accuracy: 1e-5)
            XCTAssertEqual(yVariance, gamma(c) * gamma(c), accuracy: 1e-4)
        }
    }

    /// r ← 0.9·r + 0.1·stat, with the unbiased variance for running_var, over two batches.
    func testRunningStatisticsFollowPyTorch() {
        let mean0: [Float] = [0.5, -1, 2], variance0: [Float] = [1.5, 0.7, 3]
        buffers.assign(mean0, at: norm.runningMeanOffset)
        buffers.assign(variance0, at: norm.runningVarianceOffset)
        XCTAssertEqual(norm.momentum, 0.1)
        var expectedMean = mean0.map(Double.init), expectedVariance = variance0.map(Double.init)
        let second = normals(B * C, seed: 2, scale: 3)
        for batch in [x, second] {
            _ = train(batch, update: true)
            for c in 0..<C {
                let (mean, _, unbiased) = statistics(batch, c)
                expectedMean[c] = 0.9 * expectedMean[c] + 0.1 * mean
                expectedVariance[c] = 0.9 * expectedVariance[c] + 0.1 * unbiased
                assertNear(buffers[norm.runningMeanOffset + c], expectedMean[c], "running_mean[\(c)]")
                assertNear(buffers[norm.runningVarianceOffset + c], expectedVariance[c], "running_var[\(c)]")
            }
        }
        let before = buffers.array()
        _ = train(x, update: false)
        XCTAssertEqual(buffers.array(), before, "running statistics changed without updateRunningStatistics")
    }

    /// y = γ·(x − running_mean)/√(running_var + ε) + β, also in place.
    func testInferenceUsesRunningStatistics() {
        let mean: [Float] = [0.5, -1, 2], variance: [Float] = [1.5, 0.7, 3]
        buffers.assign(mean, at: norm.runningMeanOffset)
        buffers.assign(variance, at: norm.runningVarianceOffset)
        var y = [Float](repeating: 0, count: B * C)
        norm.forwardInference(x, batch: B, parameters: parameters.pointer, buffers: buffers.pointer, into: &y)
        var inPlace = x
        inPlace.withUnsafeMutableBufferPointer { p in
            norm.forwardInference(p.baseAddress!, batch: B, parameters: parameters.pointer, buffers: buffers.pointer,
                                  into: p.baseAddress!)
        }
        XCTAssertEqual(inPlace, y)
        for r in 0..<B {
            for c in 0..<C {
                let expected = gamma(c) * (Double(x[r * C + c]) - Double(mean[c]))
                    / (Double(variance[c]) + Double(norm.epsilon)).squareRoot() + beta(c)
                assertNear(y[r * C + c], expected, "y[\(r), \(c)]")
            }
        }
        // A single row works in evaluation mode.
        var one = [Float](repeating: 0, count: C)
        norm.forwardInference(Array(x[C..<(2 * C)]), batch: 1, parameters: parameters.pointer,
                              buffers: buffers.pointer, into: &one)
        XCTAssertEqual(one, Array(y[C..<(2 * C)]))
    }

    /// dx, dγ, dβ of L = Σ w⊙y (batch statistics) against central differences;
    /// dγ and dβ are added to what the gradient buffer held; dx may alias dy.
    func testBackwardAgainstFiniteDifferences() {
        let w = normals(B * C, seed: 3)
        func objective(_ x: [Float]) -> Double {
            zip(train(x, update: false).y, w).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let (_, normalized, inverseStd) = train(x, update: false)
        let gradients = FloatBuffer(count: parameters.count)
        let previous = normals(parameters.count, seed: 4)
        gradients.assign(previous)
        var dx = [Float](repeating: .nan, count: B * C)
        norm.backward(dy: w, batch: B, normalized: normalized, inverseStd: inverseStd,
                      parameters: parameters.pointer, gradients: gradients.pointer, dx: &dx)
        let h: Float = 5e-3
        func check(_ analytic: Float, _ move: (Float) -> Double, _ what: String) {
            let numeric = (move(h) - move(-h)) / Double(2 * h)
            assertNear(analytic, numeric, relative: 2e-3, absolute: 5e-4, what)
        }
        for i in 0..<(B * C) {
            check(dx[i], { t in var moved = self.x; moved[i] += t; return objective(moved) }, "dx[\(i)]")
        }
        for c in 0..<C {
            for (offset, name) in [(norm.weightOffset, "dγ"), (norm.biasOffset, "dβ")] {
                let index = offset + c
                let analytic = gradients[index] - previous[index]
                check(analytic, { t in
                    let saved = self.parameters[index]
                    self.parameters[index] = saved + t
                    defer { self.parameters[index] = saved }
                    return objective(self.x)
                }, "\(name)[\(c)]")
            }
        }
        XCTAssertEqual(gradients.array(0..<5), Array(previous[0..<5]), "other gradients touched")

        // dx aliasing dy gives the same result.
        var aliased = w
        aliased.withUnsafeMutableBufferPointer { p in
            norm.backward(dy: p.baseAddress!, batch: B, normalized: normalized, inverseStd: inverseStd,
                          parameters: parameters.pointer, gradients: gradients.pointer, dx: p.baseAddress!)
        }
        XCTAssertEqual(aliased, dx)
    }
}
