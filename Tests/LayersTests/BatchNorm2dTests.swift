import XCTest
import TestSupport
import Layers
import TensorCore

/// `BatchNorm` over NCHW (`spatial` = H·W > 1): statistics against Double
/// loops, equivalence with the 1-D layer on the same values laid out as
/// `[B·H·W, C]`, and the backward against central differences
/// (h = 1e-2, tolerance 1e-2 relative + 1e-3 absolute: the loss is not
/// linear here, so O(h²) truncation adds to Float round-off).
final class BatchNorm2dTests: XCTestCase {
    let B = 3, C = 4, S = 5 * 3
    var norm: BatchNorm!
    var parameters: FloatBuffer!
    var buffers: FloatBuffer!
    var x: [Float] = []

    override func setUp() {
        var layout = ParameterLayout(), bufferLayout = ParameterLayout()
        norm = BatchNorm("bn", channels: C, parameters: &layout, buffers: &bufferLayout)
        parameters = FloatBuffer(count: layout.count)
        buffers = FloatBuffer(count: bufferLayout.count)
        norm.initialize(parameters.pointer, buffers: buffers.pointer)
        parameters.assign([1.5, -0.7, 0.3, 1], at: norm.weightOffset)
        parameters.assign([0.2, -1, 2, 0], at: norm.biasOffset)
        let means: [Float] = [3, -2, 0.5, 0], spreads: [Float] = [2, 0.5, 5, 1]
        x = normals(B * C * S, seed: 7)
        for i in x.indices { let c = (i / S) % C; x[i] = means[c] + spreads[c] * x[i] }
    }

    /// `[B, C, S]` → `[B·S, C]`.
    func rows(_ v: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: v.count)
        for b in 0..<B { for c in 0..<C { for s in 0..<S { out[(b * S + s) * C + c] = v[(b * C + c) * S + s] } } }
        return out
    }

    func train(_ x: [Float], batch: Int, spatial: Int, update: Bool = false)
        -> (y: [Float], normalized: [Float], inverseStd: [Float]) {
        var y = [Float](repeating: .nan, count: x.count), normalized = y
        var inverseStd = [Float](repeating: .nan, count: C)
        norm.forwardTraining(x, batch: batch, spatial: spatial, parameters: parameters.pointer, buffers: buffers.pointer,
                             updateRunningStatistics: update, normalized: &normalized, inverseStd: &inverseStd,
                             into: &y)
        return (y, normalized, inverseStd)
    }

    func testStatisticsPerChannelOverBatchAndSpace() {
        let (y, _, inverseStd) = train(x, batch: B, spatial: S, update: true)
        for c in 0..<C {
            var values: [Double] = []
            for b in 0..<B { for s in 0..<S { values.append(Double(x[(b * C + c) * S + s])) } }
            let mean = values.reduce(0, +) / Double(values.count)
            let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            let variance = squares / Double(values.count)
            assertNear(inverseStd[c], 1 / (variance + Double(norm.epsilon)).squareRoot(), "1/std[\(c)]")
            assertNear(buffers[norm.runningMeanOffset + c], 0.1 * mean, "running_mean[\(c)]")
            assertNear(buffers[norm.runningVarianceOffset + c], 0.9 + 0.1 * squares / Double(values.count - 1),
                       "running_var[\(c)]")
            for b in 0..<B {
                for s in 0..<S {
                    let i = (b * C + c) * S + s
                    let expected = Double(parameters[norm.weightOffset + c]) * (Double(x[i]) - mean)
                        / (variance + Double(norm.epsilon)).squareRoot() + Double(parameters[norm.biasOffset + c])
                    assertNear(y[i], expected, relative: 1e-5, absolute: 1e-5, "y[\(i)]")
                }
            }
        }
    }

    /// NCHW with spatial S gives what `BatchNorm1d` gives on `[B·S, C]`, in
    /// training, evaluation (also in place) and backward.
    func testMatchesOneDimensionalLayoutOfTheSameValues() {
        let dy = normals(x.count, seed: 8)
        let spatial = train(x, batch: B, spatial: S)
        let flat = train(rows(x), batch: B * S, spatial: 1)
        assertAllClose(rows(spatial.y), flat.y, relative: 1e-5, absolute: 1e-5, "training y")
        assertAllClose(spatial.inverseStd, flat.inverseStd, relative: 1e-6, absolute: 0, "1/std")

        let gradients = FloatBuffer(count: parameters.count), flatGradients = FloatBuffer(count: parameters.count)
        var dx = [Float](repeating: .nan, count: x.count), flatDx = dx
        norm.backward(dy: dy, batch: B, spatial: S, normalized: spatial.normalized, inverseStd: spatial.inverseStd,
                      parameters: parameters.pointer, gradients: gradients.pointer, dx: &dx)
        norm.backward(dy: rows(dy), batch: B * S, normalized: flat.normalized, inverseStd: flat.inverseStd,
                      parameters: parameters.pointer, gradients: flatGradients.pointer, dx: &flatDx)
        assertAllClose(rows(dx), flatDx, relative: 1e-4, absolute: 1e-5, "dx")
        assertAllClose(gradients.array(), flatGradients.array(), relative: 1e-5, absolute: 1e-5, "dγ, dβ")

        buffers.assign([0.5, -1, 2, 0], at: norm.runningMeanOffset)
        buffers.assign([1.5, 0.7, 3, 2], at: norm.runningVarianceOffset)
        var y = [Float](repeating: .nan, count: x.count), flatY = y
        norm.forwardInference(x, batch: B, spatial: S, parameters: parameters.pointer, buffers: buffers.pointer, into: &y)
        norm.forwardInference(rows(x), batch: B * S, parameters: parameters.pointer, buffers: buffers.pointer, into: &flatY)
        XCTAssertEqual(rows(y), flatY, "evaluation")
        var inPlace = x
        inPlace.withUnsafeMutableBufferPointer { p in
            norm.forwardInference(p.baseAddress!, batch: B, spatial: S, parameters: parameters.pointer,
                                  buffers: buffers.pointer, into: p.baseAddress!)
        }
        XCTAssertEqual(inPlace, y, "evaluation in place")
    }

    func testBackwardAgainstFiniteDifferences() {
        let r = normals(x.count, seed: 9)
        let (_, normalized, inverseStd) = train(x, batch: B, spatial: S)
        let gradients = FloatBuffer(count: parameters.count)
        var dx = [Float](repeating: .nan, count: x.count)
        norm.backward(dy: r, batch: B, spatial: S, normalized: normalized, inverseStd: inverseStd,
                      parameters: parameters.pointer, gradients: gradients.pointer, dx: &dx)
        let check = GradientCheck(relative: 1e-2, absolute: 1e-3)
        check.check(dx, at: x, "dx") { GradientCheck.objective(train($0, batch: B, spatial: S).y, r) }
        let gamma = parameters.array(norm.weightOffset..<(norm.weightOffset + C))
        let beta = parameters.array(norm.biasOffset..<(norm.biasOffset + C))
        func objective(gamma: [Float], beta: [Float]) -> Double {
            parameters.assign(gamma, at: norm.weightOffset)
            parameters.assign(beta, at: norm.biasOffset)
            defer {
                parameters.assign(gamma, at: norm.weightOffset)
                parameters.assign(beta, at: norm.biasOffset)
            }
            return GradientCheck.objective(train(x, batch: B, spatial: S).y, r)
        }
        check.check(gradients.array(norm.weightOffset..<(norm.weightOffset + C)), at: gamma, "dγ") {
            defer { parameters.assign(gamma, at: norm.weightOffset) }
            return objective(gamma: $0, beta: beta)
        }
        check.check(gradients.array(norm.biasOffset..<(norm.biasOffset + C)), at: beta, "dβ") {
            defer { parameters.assign(beta, at: norm.biasOffset) }
            return objective(gamma: gamma, beta: $0)
        }
    }

    /// Enough channels and values that the channels run in parallel; the
    /// result does not depend on that (each channel is one task's work).
    func testLargeBatchIsDeterministic() {
        var layout = ParameterLayout(), bufferLayout = ParameterLayout()
        let wide = BatchNorm("bn", channels: 32, parameters: &layout, buffers: &bufferLayout)
        let p = FloatBuffer(count: layout.count), b = FloatBuffer(count: bufferLayout.count)
        wide.initialize(p.pointer, buffers: b.pointer)
        let input = normals(16 * 32 * 49, seed: 10)
        var results: [[Float]] = []
        for _ in 0..<2 {
            var y = [Float](repeating: 0, count: input.count), n = y, s = [Float](repeating: 0, count: 32)
            wide.forwardTraining(input, batch: 16, spatial: 49, parameters: p.pointer, buffers: b.pointer,
                                 updateRunningStatistics: false, normalized: &n, inverseStd: &s, into: &y)
            results.append(y)
            for c in 0..<32 {
                var sum = 0.0
                for k in 0..<16 { for q in 0..<49 { sum += Double(y[(k * 32 + c) * 49 + q]) } }
                XCTAssertEqual(sum / Double(16 * 49), 0, accuracy: 1e-5, "mean of channel \(c)")
            }
        }
        XCTAssertEqual(results[0], results[1])
    }
}
