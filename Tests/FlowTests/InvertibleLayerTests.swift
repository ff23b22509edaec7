import XCTest
import TestSupport
@testable import Flow
import Layers
import TensorCore

final class InvertibleLayerTests: XCTestCase {
    func actNormHarness(_ D: Int) -> LayerHarness<ActNorm> {
        var layout = ParameterLayout()
        let layer = ActNorm("norm", dimension: D, layout: &layout)
        let p = FloatBuffer(count: layout.count)
        randomize(p, scale: 0.8, seed: UInt64(D))
        return LayerHarness(layer: layer, parameters: p, layout: layout, embeddingDimension: 0)
    }

    func couplingHarness(_ D: Int, embedding E: Int, depth: Int = 2) -> LayerHarness<AffineCoupling> {
        var layout = ParameterLayout()
        let layer = AffineCoupling("c", dimension: D, embeddingDimension: E, hiddenDimension: 10, depth: depth,
                                   layout: &layout)
        let p = FloatBuffer(count: layout.count)
        var g = SeededGenerator(seed: 3)
        layer.initialize(p.pointer, using: &g)
        // Larger output weights so that s and t are far from zero.
        for half in layer.halves { for out in half.outputLayers {
            for i in 0..<(out.inputDimension * out.outputDimension) { p[out.weightOffset + i] *= 4 }
        } }
        return LayerHarness(layer: layer, parameters: p, layout: layout, embeddingDimension: E,
                            activationPattern: { w in
            w.halves.flatMap { half in
                half.activations.flatMap { $0 }.flatMap { $0.array().map { $0 > 0 } }
            }
        })
    }

    func shuffleHarness(_ D: Int) -> LayerHarness<Shuffle> {
        var g = SeededGenerator(seed: 1)
        return LayerHarness(layer: Shuffle(permutation: g.permutation(D)), parameters: FloatBuffer(count: 0),
                            layout: ParameterLayout(), embeddingDimension: 0)
    }

    func testActNorm() {
        for D in [4, 5] {
            let h = actNormHarness(D)
            h.checkRoundTrip()
            h.checkLogDetAgainstJacobian()
            h.checkGradients()
        }
    }

    func testActNormInitialisationWhitensTheBatch() {
        var layout = ParameterLayout()
        let layer = ActNorm("norm", dimension: 3, layout: &layout)
        let p = FloatBuffer(count: layout.count)
        var g = SeededGenerator(seed: 2)
        let B = 500
        var x = g.normalTensor([B, 3]).scalars
        for r in 0..<B { x[r * 3] = 5 + 3 * x[r * 3]; x[r * 3 + 2] *= 0.1 }
        layer.initialize(from: x, batch: B, parameters: p.pointer)
        var y = [Float](repeating: 0, count: x.count)
        var ld = [Float](repeating: 0, count: B)
        layer.forward(x, into: &y, batch: B, embedding: nil, logDet: &ld, parameters: p.pointer,
                      workspace: layer.makeWorkspace(batch: B))
        for j in 0..<3 {
            let column = (0..<B).map { Double(y[$0 * 3 + j]) }
            let mean = column.reduce(0, +) / Double(B)
            let variance = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(B - 1)
            XCTAssertEqual(mean, 0, accuracy: 1e-4)
            XCTAssertEqual(variance, 1, accuracy: 1e-3)
        }
    }

    func testShuffle() {
        for D in [4, 5] {
            let h = shuffleHarness(D)
            h.checkRoundTrip(tolerance: 0)
            h.checkLogDetAgainstJacobian()
            h.checkGradients()
        }
    }

    func testCouplingWithCondition() {
        for D in [4, 5] {
            let h = couplingHarness(D, embedding: 3)
            h.checkRoundTrip()
            h.checkLogDetAgainstJacobian()
            h.checkGradients()
        }
    }

    func testCouplingWithoutCondition() {
        for D in [2, 4, 5] {
            let h = couplingHarness(D, embedding: 0)
            h.checkRoundTrip()
            h.checkLogDetAgainstJacobian()
            h.checkGradients()
        }
    }

    func testCouplingWithoutHiddenLayers() {
        let h = couplingHarness(5, embedding: 2, depth: 0)
        h.checkRoundTrip()
        h.checkGradients()
    }

    func testCouplingLogScaleIsBounded() {
        // Huge weights saturate tanh: |s| ≤ 1, so the log-det per half is at most its width.
        let h = couplingHarness(6, embedding: 2)
        for i in 0..<h.parameters.count { h.parameters[i] *= 100 }
        var g = SeededGenerator(seed: 4)
        let x = g.normalTensor([4, 6]).scalars
        let (y, logDet) = h.forward(x, batch: 4, embedding: g.normalTensor([4, 2]).scalars)
        XCTAssertTrue(y.allSatisfy { $0.isFinite })
        for value in logDet { XCTAssertLessThanOrEqual(abs(value), 6 + 1e-4) }
    }
}
