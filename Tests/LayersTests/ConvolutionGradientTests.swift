import XCTest
import TestSupport
import Layers
import TensorCore

/// `Conv2d.backward` and `ConvTranspose2d.backward` against central
/// differences of L = Σ r ⊙ y (see `GradientCheck`: h = 1e-2, tolerance
/// 1e-3 relative + 1e-3 absolute), for the input, weight and bias; with one
/// image per GEMM, two, and the whole batch, which must agree (db bit for
/// bit; dx and dW within 1e-5: the GEMMs change shape, and dW's sum over
/// images is regrouped).
final class ConvolutionGradientTests: XCTestCase {
    struct Gradients: Equatable {
        var dx: [Float], dW: [Float], db: [Float]
    }

    /// Runs a layer's backward with workspaces for 1, 2 and `batch` images per
    /// GEMM, checks that they agree and that `accumulateParameters` adds, and
    /// returns the one-image gradients.
    func gradients(batch: Int, inputCount: Int, weightCount: Int, biasCount: Int, what: String,
                   workspaceCount: (Int) -> Int,
                   backward: (FloatBuffer?, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Bool,
                              UnsafeMutablePointer<Float>?) -> Void,
                   file: StaticString = #filePath, line: UInt = #line) -> Gradients {
        var results: [Gradients] = []
        for images in [1, 2, batch] {
            let count = workspaceCount(images)
            let workspace = count > 0 ? FloatBuffer(count: count) : nil
            var g = Gradients(dx: .init(repeating: .nan, count: inputCount), dW: .init(repeating: .nan, count: weightCount),
                              db: .init(repeating: .nan, count: biasCount))
            backward(workspace, &g.dW, &g.db, false, &g.dx)
            results.append(g)
            // Accumulating onto previous gradients adds the same amounts (no dx wanted).
            let previousW = normals(weightCount, seed: 91), previousB = normals(biasCount, seed: 92)
            var dW = previousW, db = previousB
            backward(workspace, &dW, &db, true, nil)
            assertAllClose(zip(dW, previousW).map { $0 - $1 }, g.dW, relative: 1e-5, absolute: 1e-5,
                           "\(what): accumulated dW, \(images) images", file: file, line: line)
            assertAllClose(zip(db, previousB).map { $0 - $1 }, g.db, relative: 1e-5, absolute: 1e-5,
                           "\(what): accumulated db, \(images) images", file: file, line: line)
        }
        for (g, images) in zip(results.dropFirst(), [2, batch]) {
            assertAllClose(g.dx, results[0].dx, "\(what): dx with \(images) images per GEMM", file: file, line: line)
            XCTAssertEqual(g.db, results[0].db, "\(what): db with \(images) images per GEMM", file: file, line: line)
            assertAllClose(g.dW, results[0].dW, "\(what): dW with \(images) images per GEMM", file: file, line: line)
        }
        return results[0]
    }

    func checkConv(_ layer: Conv2d, batch: Int, height: Int, width: Int, seed: UInt64,
                   file: StaticString = #filePath, line: UInt = #line) {
        let (ho, wo) = layer.outputSize(height: height, width: width)
        let x = normals(batch * layer.inputChannels * height * width, seed: seed)
        let weight = normals(layer.weightShape.reduce(1, *), seed: seed + 1, scale: 0.5)
        let bias = normals(layer.outputChannels, seed: seed + 2)
        let r = normals(batch * layer.outputChannels * ho * wo, seed: seed + 3)
        let what = "\(layer) \(height)×\(width)"
        let g = gradients(batch: batch, inputCount: x.count, weightCount: weight.count, biasCount: bias.count, what: what,
                          workspaceCount: { layer.backwardWorkspaceCount(height: height, width: width, images: $0) },
                          backward: { workspace, dW, db, accumulate, dx in
                              layer.backward(x, batch: batch, height: height, width: width, weight: weight, dy: r,
                                             weightGradient: dW, biasGradient: db, accumulateParameters: accumulate,
                                             dx: dx, workspace: workspace)
                          }, file: file, line: line)
        let workspace = layer.makeWorkspace(height: height, width: width, images: batch)
        func objective(_ x: [Float], _ weight: [Float], _ bias: [Float]) -> Double {
            var y = [Float](repeating: 0, count: r.count)
            layer.forward(x, batch: batch, height: height, width: width, weight: weight, bias: bias,
                          workspace: workspace, into: &y)
            return GradientCheck.objective(y, r)
        }
        let check = GradientCheck()
        check.check(g.dx, at: x, "\(what) dx", file: file, line: line) { objective($0, weight, bias) }
        check.check(g.dW, at: weight, "\(what) dW", file: file, line: line) { objective(x, $0, bias) }
        check.check(g.db, at: bias, "\(what) db", file: file, line: line) { objective(x, weight, $0) }
    }

    func checkTransposed(_ layer: ConvTranspose2d, batch: Int, height: Int, width: Int, seed: UInt64,
                         file: StaticString = #filePath, line: UInt = #line) {
        let (ho, wo) = layer.outputSize(height: height, width: width)
        let x = normals(batch * layer.inputChannels * height * width, seed: seed)
        let weight = normals(layer.weightShape.reduce(1, *), seed: seed + 1, scale: 0.5)
        let bias = normals(layer.outputChannels, seed: seed + 2)
        let r = normals(batch * layer.outputChannels * ho * wo, seed: seed + 3)
        let what = "\(layer) \(height)×\(width)"
        let g = gradients(batch: batch, inputCount: x.count, weightCount: weight.count, biasCount: bias.count, what: what,
                          workspaceCount: { layer.workspaceCount(height: height, width: width, images: $0) },
                          backward: { workspace, dW, db, accumulate, dx in
                              layer.backward(x, batch: batch, height: height, width: width, weight: weight, dy: r,
                                             weightGradient: dW, biasGradient: db, accumulateParameters: accumulate,
                                             dx: dx, workspace: workspace)
                          }, file: file, line: line)
        let workspace = layer.makeWorkspace(height: height, width: width, images: batch)
        func objective(_ x: [Float], _ weight: [Float], _ bias: [Float]) -> Double {
            var y = [Float](repeating: 0, count: r.count)
            layer.forward(x, batch: batch, height: height, width: width, weight: weight, bias: bias,
                          workspace: workspace.count > 0 ? workspace : nil, into: &y)
            return GradientCheck.objective(y, r)
        }
        let check = GradientCheck()
        check.check(g.dx, at: x, "\(what) dx", file: file, line: line) { objective($0, weight, bias) }
        check.check(g.dW, at: weight, "\(what) dW", file: file, line: line) { objective(x, $0, bias) }
        check.check(g.db, at: bias, "\(what) db", file: file, line: line) { objective(x, weight, $0) }
    }

    func testConvolutionStrideOne() {
        checkConv(Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: Padding2d(1)),
                  batch: 3, height: 7, width: 7, seed: 10)
        checkConv(Conv2d(inputChannels: 2, outputChannels: 3, kernelHeight: 3, kernelWidth: 2,
                         padding: Padding2d(top: 2, bottom: 0, left: 0, right: 1)),
                  batch: 2, height: 5, width: 9, seed: 20)
        checkConv(Conv2d(inputChannels: 2, outputChannels: 2, kernelSize: 3), batch: 3, height: 5, width: 9, seed: 30)
    }

    func testConvolutionStrideTwo() {
        // The VAE's downsampling k4 s2 p1 at an odd size, and k3 s2 p1 on 7×7 → 4×4.
        checkConv(Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 4, stride: 2, padding: Padding2d(1)),
                  batch: 3, height: 7, width: 7, seed: 40)
        checkConv(Conv2d(inputChannels: 4, outputChannels: 3, kernelSize: 3, stride: 2, padding: Padding2d(1)),
                  batch: 2, height: 7, width: 7, seed: 50)
        checkConv(Conv2d(inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2,
                         padding: .tensorFlowSame(height: 5, width: 9, kernelHeight: 3, kernelWidth: 3, stride: 2)),
                  batch: 3, height: 5, width: 9, seed: 60)
        checkConv(Conv2d(inputChannels: 2, outputChannels: 2, kernelHeight: 2, kernelWidth: 5, stride: 3,
                         padding: Padding2d(top: 0, bottom: 1, left: 2, right: 0)),
                  batch: 2, height: 8, width: 11, seed: 70)
    }

    /// 4×4/2 with padding 1 on even sides: the input gradient goes through the fused col2im kernel.
    func testFourByFourStrideTwoConvolution() {
        checkConv(Conv2d(inputChannels: 2, outputChannels: 3, kernelSize: 4, stride: 2, padding: Padding2d(1)),
                  batch: 2, height: 8, width: 6, seed: 75)
        checkConv(Conv2d(inputChannels: 2, outputChannels: 2, kernelSize: 4, stride: 2, padding: Padding2d(1)),
                  batch: 1, height: 4, width: 34, seed: 76)
    }

    func testPointwiseConvolution() {
        checkConv(Conv2d(inputChannels: 5, outputChannels: 3, kernelSize: 1), batch: 3, height: 5, width: 9, seed: 80)
        // 1×1 with stride 2 is not pointwise: it goes through im2col.
        checkConv(Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 1, stride: 2), batch: 2, height: 7, width: 7,
                  seed: 90)
    }

    func testTransposedConvolution() {
        // The VAE decoder: 4×4 → 7×7 is not k4 s2 p1 (8×8), so also k3 s2 p1 on odd sizes.
        checkTransposed(ConvTranspose2d(inputChannels: 4, outputChannels: 3, kernelSize: 4, stride: 2, padding: 1),
                        batch: 3, height: 4, width: 4, seed: 100)
        checkTransposed(ConvTranspose2d(inputChannels: 3, outputChannels: 2, kernelSize: 4, stride: 2, padding: 1),
                        batch: 2, height: 5, width: 3, seed: 110)
        checkTransposed(ConvTranspose2d(inputChannels: 3, outputChannels: 4, kernelSize: 3, stride: 2, padding: 1),
                        batch: 3, height: 7, width: 5, seed: 120)
        checkTransposed(ConvTranspose2d(inputChannels: 3, outputChannels: 2, kernelSize: 3, stride: 2, padding: 1,
                                        outputPadding: 1),
                        batch: 2, height: 7, width: 7, seed: 130)
        // 1×1 → 4×4 (the direct GEMM over the batch) and k4 s1 p0 on a larger input.
        checkTransposed(ConvTranspose2d(inputChannels: 6, outputChannels: 3, kernelSize: 4, stride: 1, padding: 0),
                        batch: 3, height: 1, width: 1, seed: 140)
        checkTransposed(ConvTranspose2d(inputChannels: 2, outputChannels: 3, kernelSize: 4, stride: 1, padding: 0),
                        batch: 2, height: 3, width: 2, seed: 150)
    }
}
