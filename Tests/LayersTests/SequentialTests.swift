import XCTest
import TestSupport
import TensorCore
@testable import Layers

/// `Sequential` against central finite differences of L = Σ r ⊙ y, for every
/// parameter tensor and the input, in training mode (BatchNorm on batch statistics).
final class SequentialTests: XCTestCase {
    struct Setup {
        let network: Sequential
        let layout: ParameterLayout
        let parameters: [Float]
        let buffers: [Float]
        let x: [Float]
        let r: [Float]
        let batch: Int
    }

    func make(_ inputShape: [Int], _ layers: [SequentialLayer], batch: Int, seed: UInt64) -> Setup {
        var layout = ParameterLayout(), bufferLayout = ParameterLayout()
        let network = Sequential("net", inputShape: inputShape, layers: layers, parameters: &layout, buffers: &bufferLayout)
        var parameters = [Float](repeating: 0, count: layout.count)
        var buffers = [Float](repeating: 0, count: bufferLayout.count)
        var generator = SeededGenerator(seed: seed)
        network.initialize(&parameters, buffers: &buffers, using: &generator)
        // Perturb BatchNorm γ/β away from 1/0 so their gradients are generic.
        for entry in layout.entries where entry.shape.count == 1 {
            for i in 0..<entry.count { parameters[entry.offset + i] += 0.3 * (2 * generator.nextUniform() - 1) }
        }
        return Setup(network: network, layout: layout, parameters: parameters, buffers: buffers,
                     x: normals(batch * network.inputCount, seed: seed + 1),
                     r: normals(batch * network.outputCount, seed: seed + 2), batch: batch)
    }

    /// L(θ, x) in Double, and the signs of every leaky ReLU's output (to
    /// recognise a finite difference that straddles a kink).
    func loss(_ s: Setup, parameters: [Float], x: [Float]) -> (value: Double, signs: [Bool]) {
        var buffers = s.buffers
        let workspace = s.network.makeWorkspace(batch: s.batch)
        let y = s.network.forward(x, batch: s.batch, parameters: parameters, buffers: &buffers, mode: .training,
                                  workspace: workspace)
        var total = 0.0
        for i in 0..<(s.batch * s.network.outputCount) { total += Double(y[i]) * Double(s.r[i]) }
        var signs: [Bool] = []
        for (index, stage) in s.network.stages.enumerated() {
            guard case .leakyReLU = stage.kind else { continue }
            let out = s.network.output(ofLayer: index, in: workspace)
            signs += (0..<(s.batch * stage.outputCount)).map { out[$0] > 0 }
        }
        return (total, signs)
    }

    /// (L(+h) − L(−h))/2h, or nil when a leaky ReLU switches in between.
    func difference(_ plus: (value: Double, signs: [Bool]), _ minus: (value: Double, signs: [Bool]), step: Float) -> Double? {
        plus.signs == minus.signs ? (plus.value - minus.value) / Double(2 * step) : nil
    }

    func check(_ s: Setup, step: Float = 2e-3, tolerance: Double = 2e-2, file: StaticString = #filePath, line: UInt = #line) {
        var buffers = s.buffers
        let workspace = s.network.makeWorkspace(batch: s.batch)
        s.network.forward(s.x, batch: s.batch, parameters: s.parameters, buffers: &buffers, mode: .training, workspace: workspace)
        var gradients = [Float](repeating: 0, count: s.layout.count)
        var dx = [Float](repeating: 0, count: s.x.count)
        s.network.backward(s.x, batch: s.batch, dy: s.r, parameters: s.parameters, gradients: &gradients,
                           workspace: workspace, dx: &dx)
        var generator = SeededGenerator(seed: 99)
        var checked = 0, skipped = 0
        // A few coordinates of every tensor, and of x; differences across a kink are skipped.
        for entry in s.layout.entries {
            for _ in 0..<4 {
                let i = entry.offset + Int(generator.next() % UInt64(entry.count))
                var plus = s.parameters, minus = s.parameters
                plus[i] += step; minus[i] -= step
                guard let numeric = difference(loss(s, parameters: plus, x: s.x), loss(s, parameters: minus, x: s.x), step: step)
                else { skipped += 1; continue }
                assertNear(gradients[i], numeric, relative: tolerance, absolute: tolerance * 0.5,
                           "\(entry.name)[\(i - entry.offset)]", file: file, line: line)
                checked += 1
            }
        }
        for _ in 0..<6 {
            let i = Int(generator.next() % UInt64(s.x.count))
            var plus = s.x, minus = s.x
            plus[i] += step; minus[i] -= step
            guard let numeric = difference(loss(s, parameters: s.parameters, x: plus), loss(s, parameters: s.parameters, x: minus), step: step)
            else { skipped += 1; continue }
            assertNear(dx[i], numeric, relative: tolerance, absolute: tolerance * 0.5, "x[\(i)]", file: file, line: line)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 3 * skipped, "too many coordinates straddle a kink", file: file, line: line)
    }

    func testConvolutionalEncoderGradients() {
        // Odd sizes, strides 1 and 2, BatchNorm2d, a flatten into Linear and BatchNorm1d.
        check(make([2, 7, 9], [
            .convolution(outputChannels: 3, kernelSize: 3, stride: 2, padding: 1), .batchNorm(), .leakyReLU(slope: 0.2),
            .convolution(outputChannels: 4, kernelSize: 2, stride: 1, padding: 0), .tanh,
            .flatten, .linear(outputDimension: 5), .batchNorm(), .leakyReLU(slope: 0.1), .linear(outputDimension: 3),
        ], batch: 3, seed: 10))
    }

    func testTransposedDecoderGradients() {
        check(make([3], [
            .linear(outputDimension: 2 * 3 * 3), .unflatten(channels: 2, height: 3, width: 3), .batchNorm(), .leakyReLU(slope: 0.2),
            .transposedConvolution(outputChannels: 3, kernelSize: 3, stride: 2, padding: 1), .batchNorm(), .leakyReLU(slope: 0.2),
            .transposedConvolution(outputChannels: 1, kernelSize: 4, stride: 2, padding: 1), .tanh,
        ], batch: 4, seed: 20))
    }

    /// Batches of 8 or more are split over two shares (convolutions and linears each
    /// run on half the batch; the second share's parameter gradients are added).
    func testGradientsWhenTheBatchIsSplitOverTheCores() {
        check(make([1, 8, 8], [
            .convolution(outputChannels: 3, kernelSize: 4, stride: 2, padding: 1), .batchNorm(), .leakyReLU(slope: 0.2),
            .flatten, .linear(outputDimension: 6), .leakyReLU(slope: 0.2), .linear(outputDimension: 2 * 2 * 2),
            .unflatten(channels: 2, height: 2, width: 2),
            .transposedConvolution(outputChannels: 1, kernelSize: 4, stride: 2, padding: 1), .tanh,
        ], batch: 11, seed: 40))
    }

    func testShapesAndParameterNames() {
        var layout = ParameterLayout(), buffers = ParameterLayout()
        let network = Sequential("encoder", inputShape: [1, 28, 28], layers: [
            .convolution(outputChannels: 8, kernelSize: 4, stride: 2, padding: 1), .batchNorm(), .leakyReLU(slope: 0.2),
            .flatten, .linear(outputDimension: 10),
        ], parameters: &layout, buffers: &buffers)
        XCTAssertEqual(network.outputShape, [10])
        XCTAssertEqual(network.outputCount(ofLayer: 0), 8 * 14 * 14)
        XCTAssertEqual(layout.entries.map(\.name), ["encoder.0.weight", "encoder.0.bias", "encoder.1.weight",
                                                    "encoder.1.bias", "encoder.4.weight", "encoder.4.bias"])
        XCTAssertEqual(layout.entry("encoder.4.weight")?.shape, [10, 8 * 14 * 14])
        XCTAssertEqual(buffers.entries.map(\.name), ["encoder.1.running_mean", "encoder.1.running_var"])
    }

    /// Inference uses the running statistics: after one training forward they have moved by `momentum`.
    func testInferenceUsesRunningStatistics() {
        let s = make([2, 3, 3], [.batchNorm(momentum: 0.5)], batch: 5, seed: 30)
        var buffers = s.buffers
        let workspace = s.network.makeWorkspace(batch: s.batch)
        s.network.forward(s.x, batch: s.batch, parameters: s.parameters, buffers: &buffers, mode: .training, workspace: workspace)
        XCTAssertNotEqual(buffers, s.buffers)
        let y = s.network.forward(s.x, batch: s.batch, parameters: s.parameters, buffers: &buffers, mode: .inference,
                                  workspace: workspace)
        let norm = { () -> BatchNorm in
            if case let .batchNorm(n) = s.network.stages[0].kind { return n }
            fatalError("expected BatchNorm")
        }()
        for c in 0..<2 {
            let scale = s.parameters[norm.weightOffset + c] / (buffers[norm.runningVarianceOffset + c] + norm.epsilon).squareRoot()
            let shift = s.parameters[norm.biasOffset + c] - buffers[norm.runningMeanOffset + c] * scale
            for n in 0..<s.batch {
                for p in 0..<9 {
                    let i = (n * 2 + c) * 9 + p
                    assertNear(y[i], Double(s.x[i] * scale + shift), relative: 1e-5, absolute: 1e-5, "y[\(i)]")
                }
            }
        }
    }
}
