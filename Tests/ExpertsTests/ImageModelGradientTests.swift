import XCTest
import TestSupport
import Layers
import TensorCore
@testable import Experts

/// The VAE and classifier losses against central finite differences, and
/// the VAE loss terms against a direct computation.
final class ImageModelGradientTests: XCTestCase {
    func images(_ count: Int, seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return (0..<(count * 784)).map { _ in 2 * g.nextUniform() - 1 }
    }

    /// Compares ∂L/∂θ with central differences on a few seeded coordinates
    /// of every parameter tensor (`GradientCheck`, relative and absolute
    /// tolerance `tolerance`). `loss` writes the gradient into its argument.
    func checkGradient(layout: ParameterLayout, parameters: FloatBuffer, step: Float, tolerance: Double,
                       loss: (FloatBuffer) -> Double, file: StaticString = #filePath, line: UInt = #line) {
        let gradients = FloatBuffer(count: parameters.count)
        _ = loss(gradients)
        let check = GradientCheck(step: step, relative: tolerance, absolute: tolerance, maximumCoordinates: 3)
        let scratch = FloatBuffer(count: parameters.count)
        for entry in layout.entries {
            let range = entry.offset..<(entry.offset + entry.count)
            let values = parameters.array(range)
            check.check(gradients.array(range), at: values, entry.name, file: file, line: line) { moved in
                parameters.assign(moved, at: entry.offset)
                defer { parameters.assign(values, at: entry.offset) }
                return loss(scratch)
            }
        }
        XCTAssertGreaterThan(layout.entries.count, 3)
    }

    func testVAEGradient() {
        var architecture = AutoencoderArchitecture(latentDimension: 3, width: 4)
        architecture.slope = 0.2
        let model = ConvolutionalVAE(architecture: architecture, seed: 1)
        model.parameters.pointer[model.logGammaOffset] = -0.7
        let B = 3
        let x = images(B, seed: 2)
        let workspace = model.makeTrainingWorkspace(batch: B)
        // Loss per pixel keeps the numbers O(1) for Float differences.
        checkGradient(layout: model.layout, parameters: model.parameters, step: 1e-2, tolerance: 3e-2) { gradients in
            var generator = SeededGenerator(seed: 3)
            let l = model.lossAndGradient(x, batch: B, beta: 0.5, generator: &generator, gradients: gradients, workspace: workspace)
            for i in 0..<gradients.count { gradients.pointer[i] /= 784 }
            return l.loss / 784
        }
    }

    func testVAELossTerms() {
        let model = ConvolutionalVAE(architecture: AutoencoderArchitecture(latentDimension: 5, width: 4), seed: 4)
        let B = 4
        let x = images(B, seed: 6)
        let workspace = model.makeTrainingWorkspace(batch: B)
        var generator = SeededGenerator(seed: 7)
        let gradients = FloatBuffer(count: model.parameters.count)
        let l = model.lossAndGradient(x, batch: B, beta: 0.25, generator: &generator, gradients: gradients, workspace: workspace)
        // γ = 1 at initialisation: reconstruction = ‖x − x̂‖²/2 + (D/2)·log 2π per image.
        XCTAssertEqual(l.reconstruction, l.meanSquaredError * 784 / 2 + 392 * log(2 * Double.pi), accuracy: 1e-3)
        XCTAssertEqual(l.loss, l.reconstruction + 0.25 * l.kl, accuracy: 1e-6)
        XCTAssertGreaterThan(l.kl, 0)
        // ∂/∂log γ at γ = 1: D − sse.
        XCTAssertEqual(Double(gradients.pointer[model.logGammaOffset]), 784 - l.meanSquaredError * 784, accuracy: 1e-2)
    }

    func testClassifierGradient() {
        let model = EvaluationClassifier(seed: 8)
        let B = 3
        let x = images(B, seed: 9)
        let labels = [2, 17, 9]
        let workspace = model.makeTrainingWorkspace(batch: B)
        checkGradient(layout: model.layout, parameters: model.parameters, step: 1e-2, tolerance: 3e-2) { gradients in
            model.lossAndGradient(x, labels: labels, gradients: gradients, workspace: workspace).loss
        }
    }

    func testDecodeAndEncodeShapesAndErrors() throws {
        let model = ConvolutionalVAE(architecture: AutoencoderArchitecture(latentDimension: 6, width: 4), seed: 10)
        let z = Tensor(shape: [3, 6], scalars: (0..<18).map { Float($0) / 18 })
        let decoded = try model.decode(z)
        XCTAssertEqual(decoded.shape, [3, 1, 28, 28])
        XCTAssertTrue(decoded.scalars.allSatisfy { $0 >= -1 && $0 <= 1 })
        XCTAssertEqual(try model.encode(decoded).shape, [3, 6])
        XCTAssertThrowsError(try model.decode(Tensor(zeros: [3, 5]))) { error in
            XCTAssertTrue("\(error.localizedDescription)".contains("[N, 6]"), "\(error)")
        }
        XCTAssertThrowsError(try model.encode(Tensor(zeros: [2, 3, 28, 28])))
        XCTAssertThrowsError(try model.decode(Tensor(shape: [1, 6], scalars: [.nan, 0, 0, 0, 0, 0])))
        // A posterior sample differs from the mean, reproducibly.
        let a = try model.encode(decoded, sample: true, seed: 1), b = try model.encode(decoded, sample: true, seed: 1)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, try model.encode(decoded))
    }
}
