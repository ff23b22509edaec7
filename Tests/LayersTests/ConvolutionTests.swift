import XCTest
import TestSupport
import Layers
import TensorCore

/// `Conv2d` (im2col + GEMM, pointwise GEMM, direct depthwise) against the
/// naive Double loops in `Reference`, over odd sizes, strides, asymmetric
/// padding, groups and every epilogue option.
final class ConvolutionTests: XCTestCase {
    struct Case {
        var layer: Conv2d
        var batch: Int, height: Int, width: Int
        var bias = true, affine = false, residual = false
        var activation: ConvolutionActivation = .none
    }

    /// Runs `c` with random data (seeded by `seed`) and compares with the reference.
    func check(_ c: Case, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        let layer = c.layer
        let (ho, wo) = layer.outputSize(height: c.height, width: c.width)
        let outCount = c.batch * layer.outputChannels * ho * wo
        let x = normals(c.batch * layer.inputChannels * c.height * c.width, seed: seed)
        let weight = normals(layer.weightShape.reduce(1, *), seed: seed + 1, scale: 0.5)
        let bias = c.bias ? normals(layer.outputChannels, seed: seed + 2) : nil
        let scale = c.affine ? normals(layer.outputChannels, seed: seed + 3) : nil
        let shift = c.affine ? normals(layer.outputChannels, seed: seed + 4) : nil
        let residual = c.residual ? normals(outCount, seed: seed + 5) : nil
        let expected = Reference.epilogue(
            Reference.conv2d(x, batch: c.batch, height: c.height, width: c.width, layer: layer, weight: weight, bias: bias),
            channels: layer.outputChannels, plane: ho * wo, scale: scale, shift: shift, residual: residual,
            activation: c.activation)
        // A one-image workspace larger than needed (as when shared between
        // layers), then two images per GEMM (a partial last group when the
        // batch is odd) and the whole batch; each used twice. Every workspace
        // gives the same values up to GEMM round-off (OpenBLAS may order a
        // dot product differently for another matrix width).
        var first: [Float]? = nil
        for images in [1, 2, c.batch] {
            let workspace = FloatBuffer(count: layer.workspaceCount(height: c.height, width: c.width, images: images)
                                        + (images == 1 ? 37 : 0))
            for run in 0..<2 {
                var y = [Float](repeating: .nan, count: outCount)
                withOptionalPointers(bias, scale, shift, residual) { b, s, t, r in
                    let epilogue = ConvolutionEpilogue(scale: s, shift: t, residual: r, activation: c.activation)
                    layer.forward(x, batch: c.batch, height: c.height, width: c.width, weight: weight, bias: b,
                                  epilogue: epilogue, workspace: workspace, into: &y)
                }
                assertAllNear(y, expected, "\(c) run \(run), \(images) images per GEMM", file: file, line: line)
                if let first {
                    assertAllClose(y, first, relative: 1e-5, absolute: 1e-5,
                                   "\(c): \(images) images per GEMM changed the result", file: file, line: line)
                } else {
                    first = y
                }
            }
        }
    }

    /// The VAE encoder's shapes (28×28 → 14×14 → 7×7 → 4×4, k4 s2 p1 and a
    /// k3 s2 p1 at the odd 7×7), batched several images per GEMM.
    func testSmallImagesBatchedPerGEMM() {
        let stem = Conv2d(inputChannels: 1, outputChannels: 8, kernelSize: 4, stride: 2, padding: Padding2d(1))
        XCTAssertTrue(stem.outputSize(height: 28, width: 28) == (14, 14))
        XCTAssertEqual(stem.workspaceCount(height: 28, width: 28, images: 3), 3 * (16 + 8) * 196)
        check(Case(layer: stem, batch: 5, height: 28, width: 28, activation: .relu), seed: 500)
        check(Case(layer: Conv2d(inputChannels: 8, outputChannels: 16, kernelSize: 4, stride: 2, padding: Padding2d(1)),
                   batch: 4, height: 14, width: 14, affine: true, residual: true), seed: 510)
        check(Case(layer: Conv2d(inputChannels: 16, outputChannels: 12, kernelSize: 3, stride: 2, padding: Padding2d(1)),
                   batch: 3, height: 7, width: 7, activation: .tanh), seed: 520)
        check(Case(layer: Conv2d(inputChannels: 6, outputChannels: 5, kernelHeight: 3, kernelWidth: 2, stride: 1,
                                 padding: Padding2d(top: 0, bottom: 2, left: 1, right: 0)),
                   batch: 3, height: 5, width: 9, bias: false, affine: true), seed: 530)
        // Pointwise: the batched path regroups the images (im2col of a 1×1 kernel is a copy).
        check(Case(layer: Conv2d(inputChannels: 7, outputChannels: 3, kernelSize: 1), batch: 3, height: 4, width: 4,
                   residual: true, activation: .relu), seed: 540)
    }

    func testGroupsOneIm2col() {
        check(Case(layer: Conv2d(inputChannels: 3, outputChannels: 5, kernelSize: 3, padding: Padding2d(1)),
                   batch: 2, height: 7, width: 9, activation: .relu), seed: 10)
        check(Case(layer: Conv2d(inputChannels: 4, outputChannels: 6, kernelSize: 5, stride: 2,
                                 padding: .tensorFlowSame(height: 13, width: 13, kernelHeight: 5, kernelWidth: 5, stride: 2)),
                   batch: 2, height: 13, width: 13, bias: false, affine: true, activation: .relu6), seed: 20)
        // The EfficientNet stem at a small size: k3 s2 TF-same pads (0, 1) on a 14×12 input.
        let stemPadding = Padding2d.tensorFlowSame(height: 14, width: 12, kernelHeight: 3, kernelWidth: 3, stride: 2)
        XCTAssertEqual(stemPadding, Padding2d(top: 0, bottom: 1, left: 0, right: 1))
        check(Case(layer: Conv2d(inputChannels: 3, outputChannels: 8, kernelSize: 3, stride: 2, padding: stemPadding),
                   batch: 3, height: 14, width: 12, bias: false, affine: true, activation: .relu6), seed: 30)
        // Explicit asymmetric padding, a non-square kernel, no padding, tanh.
        check(Case(layer: Conv2d(inputChannels: 2, outputChannels: 3, kernelHeight: 3, kernelWidth: 5, stride: 1,
                                 padding: Padding2d(top: 2, bottom: 0, left: 1, right: 3)),
                   batch: 1, height: 7, width: 9, activation: .tanh), seed: 40)
        check(Case(layer: Conv2d(inputChannels: 5, outputChannels: 4, kernelSize: 3, stride: 2),
                   batch: 2, height: 13, width: 13, residual: true), seed: 50)
        // 1×1 convolutions that are not plain GEMMs (stride 2, padding) go through im2col.
        check(Case(layer: Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 1, stride: 2),
                   batch: 2, height: 7, width: 9, activation: .relu), seed: 60)
        check(Case(layer: Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 1, padding: Padding2d(1)),
                   batch: 1, height: 5, width: 6, affine: true), seed: 70)
        // Large enough that im2col and the epilogue split across threads.
        check(Case(layer: Conv2d(inputChannels: 4, outputChannels: 6, kernelSize: 3, padding: Padding2d(1)),
                   batch: 2, height: 31, width: 33, affine: true, residual: true, activation: .relu6), seed: 75)
        // A kernel larger than the input plus padding on one side.
        check(Case(layer: Conv2d(inputChannels: 2, outputChannels: 2, kernelSize: 5, stride: 2, padding: Padding2d(2)),
                   batch: 1, height: 3, width: 4), seed: 80)
    }

    func testPointwiseGEMM() {
        let expand = Conv2d(inputChannels: 8, outputChannels: 12, kernelSize: 1)
        XCTAssertTrue(expand.isPointwise)
        XCTAssertEqual(expand.workspaceCount(height: 7, width: 9), 0)
        check(Case(layer: expand, batch: 2, height: 7, width: 9, bias: false, affine: true, activation: .relu6), seed: 100)
        // The MBConv projection: folded BatchNorm plus the block input, no activation.
        check(Case(layer: Conv2d(inputChannels: 12, outputChannels: 5, kernelSize: 1),
                   batch: 3, height: 13, width: 13, bias: false, affine: true, residual: true), seed: 110)
        check(Case(layer: Conv2d(inputChannels: 6, outputChannels: 4, kernelSize: 1, groups: 2),
                   batch: 3, height: 7, width: 9, residual: true, activation: .relu), seed: 120)
    }

    func testGroupedIm2col() {
        check(Case(layer: Conv2d(inputChannels: 4, outputChannels: 6, kernelSize: 3, stride: 2,
                                 padding: Padding2d(top: 1, bottom: 0, left: 2, right: 1), groups: 2),
                   batch: 2, height: 9, width: 7, activation: .tanh), seed: 200)
        check(Case(layer: Conv2d(inputChannels: 6, outputChannels: 3, kernelSize: 5, padding: Padding2d(2), groups: 3),
                   batch: 1, height: 13, width: 13, affine: true, activation: .relu), seed: 210)
    }

    func testDepthwise() {
        let k3 = Conv2d(inputChannels: 6, outputChannels: 6, kernelSize: 3, padding: Padding2d(1), groups: 6)
        XCTAssertTrue(k3.isDepthwise)
        XCTAssertEqual(k3.workspaceCount(height: 13, width: 13), 0)
        check(Case(layer: k3, batch: 2, height: 13, width: 13, activation: .relu6), seed: 300)
        // Wider than 8 lanes and odd, so the SIMD loop has a tail.
        check(Case(layer: Conv2d(inputChannels: 3, outputChannels: 3, kernelSize: 5, padding: Padding2d(2), groups: 3),
                   batch: 2, height: 7, width: 21, bias: false, affine: true, residual: true), seed: 310)
        for (h, w) in [(13, 13), (14, 12)] {
            let padding = Padding2d.tensorFlowSame(height: h, width: w, kernelHeight: 5, kernelWidth: 5, stride: 2)
            check(Case(layer: Conv2d(inputChannels: 5, outputChannels: 5, kernelSize: 5, stride: 2, padding: padding, groups: 5),
                       batch: 2, height: h, width: w, bias: false, affine: true, activation: .relu6), seed: 320)
            let padding3 = Padding2d.tensorFlowSame(height: h, width: w, kernelHeight: 3, kernelWidth: 3, stride: 2)
            check(Case(layer: Conv2d(inputChannels: 4, outputChannels: 4, kernelSize: 3, stride: 2, padding: padding3, groups: 4),
                       batch: 1, height: h, width: w, activation: .relu), seed: 330)
        }
        // Stride 2 with more than 8 outputs per row (the even-lane SIMD path), asymmetric padding.
        check(Case(layer: Conv2d(inputChannels: 4, outputChannels: 4, kernelSize: 3, stride: 2,
                                 padding: .tensorFlowSame(height: 9, width: 38, kernelHeight: 3, kernelWidth: 3, stride: 2),
                                 groups: 4),
                   batch: 2, height: 9, width: 38, affine: true, activation: .relu6), seed: 335)
        check(Case(layer: Conv2d(inputChannels: 3, outputChannels: 3, kernelSize: 5, stride: 2,
                                 padding: Padding2d(top: 1, bottom: 2, left: 2, right: 1), groups: 3),
                   batch: 1, height: 11, width: 41, residual: true), seed: 336)
        // Odd sizes wide enough for the 4-vector blocks, k5 and k3, stride 2 (TF-same, asymmetric) and 1.
        for (kernel, stride, h, w) in [(5, 2, 9, 75), (5, 2, 11, 97), (3, 2, 7, 83), (5, 1, 5, 71), (3, 1, 6, 45), (5, 2, 5, 37)] {
            let padding = Padding2d.tensorFlowSame(height: h, width: w, kernelHeight: kernel, kernelWidth: kernel, stride: stride)
            check(Case(layer: Conv2d(inputChannels: 3, outputChannels: 3, kernelSize: kernel, stride: stride,
                                     padding: padding, groups: 3),
                       batch: 2, height: h, width: w, bias: false, affine: true, residual: stride == 1, activation: .relu6),
                  seed: UInt64(360 + w))
        }
        // Channel multiplier 2.
        check(Case(layer: Conv2d(inputChannels: 3, outputChannels: 6, kernelSize: 3, stride: 2,
                                 padding: .tensorFlowSame(height: 14, width: 10, kernelHeight: 3, kernelWidth: 3, stride: 2),
                                 groups: 3),
                   batch: 2, height: 14, width: 10, activation: .tanh), seed: 340)
        check(Case(layer: Conv2d(inputChannels: 4, outputChannels: 8, kernelSize: 3, padding: Padding2d(1), groups: 4),
                   batch: 1, height: 9, width: 11, residual: true), seed: 350)
    }

    /// pad_total = max((⌈n/s⌉ − 1)·s + k − n, 0), the smaller half first; the
    /// EfficientNet-Lite0 values at 224 from the architecture notes.
    func testTensorFlowSamePadding() {
        XCTAssertEqual(Padding2d.tensorFlowSame(height: 224, width: 224, kernelHeight: 3, kernelWidth: 3, stride: 2),
                       Padding2d(top: 0, bottom: 1, left: 0, right: 1))
        XCTAssertEqual(Padding2d.tensorFlowSame(height: 112, width: 112, kernelHeight: 5, kernelWidth: 5, stride: 2),
                       Padding2d(top: 1, bottom: 2, left: 1, right: 2))
        XCTAssertEqual(Padding2d.tensorFlowSame(height: 14, width: 14, kernelHeight: 5, kernelWidth: 5, stride: 1),
                       Padding2d(2))
        XCTAssertEqual(Padding2d.tensorFlowSame(height: 7, width: 7, kernelHeight: 3, kernelWidth: 3, stride: 1),
                       Padding2d(1))
        XCTAssertTrue(Padding2d.tensorFlowSame(size: 3, kernel: 1, stride: 2) == (0, 0))
        let layer = Conv2d(inputChannels: 1, outputChannels: 1, kernelSize: 5, stride: 2,
                           padding: .tensorFlowSame(height: 13, width: 14, kernelHeight: 5, kernelWidth: 5, stride: 2))
        XCTAssertTrue(layer.outputSize(height: 13, width: 14) == (7, 7))
    }
}

/// Calls `body` with pointers to the arrays that are present (nil for absent ones).
func withOptionalPointers<R>(_ a: [Float]?, _ b: [Float]?, _ c: [Float]?, _ d: [Float]?,
                             _ body: (UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?,
                                      UnsafePointer<Float>?) -> R) -> R {
    func with(_ array: [Float]?, _ inner: (UnsafePointer<Float>?) -> R) -> R {
        guard let array else { return inner(nil) }
        return array.withUnsafeBufferPointer { inner($0.baseAddress) }
    }
    return with(a) { pa in with(b) { pb in with(c) { pc in with(d) { pd in body(pa, pb, pc, pd) } } } }
}
