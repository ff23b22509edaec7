import XCTest
import TestSupport
import Layers
import TensorCore

/// `ConvTranspose2d` (GEMM + col2im, and the direct 1×1-input GEMM) against
/// the naive scatter in `Reference`, including the DCGAN generator's shapes.
final class ConvTransposeTests: XCTestCase {
    func check(_ layer: ConvTranspose2d, batch: Int, height: Int, width: Int, bias hasBias: Bool = false,
               affine: Bool = false, residual hasResidual: Bool = false,
               activation: ConvolutionActivation = .none, seed: UInt64,
               file: StaticString = #filePath, line: UInt = #line) {
        let (ho, wo) = layer.outputSize(height: height, width: width)
        let outCount = batch * layer.outputChannels * ho * wo
        let x = normals(batch * layer.inputChannels * height * width, seed: seed)
        let weight = normals(layer.weightShape.reduce(1, *), seed: seed + 1, scale: 0.5)
        let bias = hasBias ? normals(layer.outputChannels, seed: seed + 2) : nil
        let scale = affine ? normals(layer.outputChannels, seed: seed + 3) : nil
        let shift = affine ? normals(layer.outputChannels, seed: seed + 4) : nil
        let residual = hasResidual ? normals(outCount, seed: seed + 5) : nil
        let expected = Reference.epilogue(
            Reference.convTranspose2d(x, batch: batch, height: height, width: width, layer: layer, weight: weight, bias: bias),
            channels: layer.outputChannels, plane: ho * wo, scale: scale, shift: shift, residual: residual,
            activation: activation)
        // One image per GEMM, two (a partial last group when batch is odd), and all at once.
        for workspace in [layer.makeWorkspace(height: height, width: width),
                          layer.makeWorkspace(height: height, width: width, images: 2),
                          layer.makeWorkspace(height: height, width: width, images: batch)] {
        for run in 0..<2 {
            var y = [Float](repeating: .nan, count: outCount)
            withOptionalPointers(bias, scale, shift, residual) { b, s, t, r in
                layer.forward(x, batch: batch, height: height, width: width, weight: weight, bias: b,
                              epilogue: ConvolutionEpilogue(scale: s, shift: t, residual: r, activation: activation),
                              workspace: workspace, into: &y)
            }
            assertAllNear(y, expected, "\(layer) \(height)×\(width) run \(run), workspace \(workspace.count)",
                          file: file, line: line)
        }
        }
    }

    /// 100 → C at k4 s1 p0 (1×1 → 4×4), then k4 s2 p1 doubling (4×4 → 8×8), ending in tanh.
    func testDCGANShapes() {
        let first = ConvTranspose2d(inputChannels: 20, outputChannels: 8, kernelSize: 4, stride: 1, padding: 0)
        XCTAssertTrue(first.outputSize(height: 1, width: 1) == (4, 4))
        XCTAssertEqual(first.workspaceCount(height: 1, width: 1), 0)
        check(first, batch: 3, height: 1, width: 1, affine: true, activation: .relu, seed: 1)
        let up = ConvTranspose2d(inputChannels: 8, outputChannels: 4, kernelSize: 4, stride: 2, padding: 1)
        XCTAssertTrue(up.outputSize(height: 4, width: 4) == (8, 8))
        check(up, batch: 3, height: 4, width: 4, affine: true, activation: .relu, seed: 2)
        check(ConvTranspose2d(inputChannels: 4, outputChannels: 3, kernelSize: 4, stride: 2, padding: 1),
              batch: 2, height: 8, width: 8, activation: .tanh, seed: 3)
    }

    func testOddSizesAndOptions() {
        check(ConvTranspose2d(inputChannels: 5, outputChannels: 3, kernelSize: 4, stride: 2, padding: 1),
              batch: 2, height: 5, width: 7, bias: true, activation: .relu6, seed: 10)
        check(ConvTranspose2d(inputChannels: 4, outputChannels: 6, kernelSize: 4, stride: 1, padding: 0),
              batch: 2, height: 2, width: 3, bias: true, residual: true, seed: 11)
        check(ConvTranspose2d(inputChannels: 3, outputChannels: 2, kernelSize: 3, stride: 1, padding: 1),
              batch: 1, height: 7, width: 19, affine: true, residual: true, activation: .tanh, seed: 12)
        check(ConvTranspose2d(inputChannels: 3, outputChannels: 4, kernelSize: 3, stride: 2, padding: 0, outputPadding: 1),
              batch: 2, height: 3, width: 5, bias: true, activation: .relu, seed: 13)
        check(ConvTranspose2d(inputChannels: 2, outputChannels: 3, kernelHeight: 5, kernelWidth: 3, stride: 2, padding: 2),
              batch: 1, height: 6, width: 9, affine: true, seed: 14)
        // 1×1 input with padding goes through col2im.
        check(ConvTranspose2d(inputChannels: 6, outputChannels: 2, kernelSize: 4, stride: 2, padding: 1),
              batch: 2, height: 1, width: 1, bias: true, seed: 15)
        // k4 s2 p1 goes through the fused col2im kernel: whole 16-lane vectors within a row (32 wide),
        // vectors spanning rows (17 wide) and a residual (the unfused path).
        check(ConvTranspose2d(inputChannels: 3, outputChannels: 2, kernelSize: 4, stride: 2, padding: 1),
              batch: 2, height: 3, width: 32, affine: true, activation: .tanh, seed: 16)
        check(ConvTranspose2d(inputChannels: 2, outputChannels: 3, kernelSize: 4, stride: 2, padding: 1),
              batch: 3, height: 2, width: 17, bias: true, activation: .relu, seed: 17)
        check(ConvTranspose2d(inputChannels: 2, outputChannels: 2, kernelSize: 4, stride: 2, padding: 1),
              batch: 2, height: 4, width: 6, affine: true, residual: true, activation: .relu, seed: 18)
    }
}
