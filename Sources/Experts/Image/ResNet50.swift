import Foundation
import Layers
import TensorCore

/// ResNet-50 (He et al. 2016, "Deep Residual Learning for Image
/// Recognition") as torchvision defines it, read from a torchvision
/// `state_dict` (`.pth`):
///
///     x [N, 3, H, W] → conv1 7×7 s2 p3 (3→b), bn1, ReLU → maxpool 3×3 s2 p1     H/4
///       → layer1…layer4: 3, 4, 6, 3 Bottleneck blocks, stride 1, 2, 2, 2        H/32
///       → global average pool → features [N, F]      (avgpool; F = 2048)
///       → fc (F → classes) → logits [N, classes]      (1000)
///
///     Bottleneck(in → out, width m, stride s):
///       conv1 1×1 (in→m), bn1, ReLU → conv2 3×3 s p1 (m→m), bn2, ReLU → conv3 1×1 (m→out), bn3
///       → + identity → ReLU; identity = downsample (1×1 conv stride s, BN) in each stage's first block
///
/// This is "v1.5": a downsampling block strides in its 3×3 convolution, not
/// its first 1×1. Convolutions have no bias; BatchNorm (eps 1e-5) uses its
/// running statistics and is folded into each convolution at load time.
/// Every width (stem b, each stage's m and out, F, classes) is read from the
/// tensor shapes, so narrower or wider variants of the same structure load
/// too; every other tensor is checked against them.
///
/// Input: NCHW with torchvision's ImageNet normalisation,
/// `x = (u8/255 − mean)/std` per channel (`PixelNormalization.imageNet`);
/// the pretrained weights expect 224×224, any size ≥ 1×1 runs.
public final class ResNet50: ImageFeatureNetwork, @unchecked Sendable {
    public static let blocksPerStage = [3, 4, 6, 3]
    public static let imageSize = 224
    /// What `ExpertError.weightsRequired` tells a user who gave no weights.
    public static let weightsNeeded = "a torchvision ResNet-50 state_dict (.pth, e.g. resnet50-11ad3fa6.pth), "
        + "as published with torchvision's ResNet50_Weights (IMAGENET1K_V1, IMAGENET1K_V2), or the "
        + "Stylized-ImageNet ResNet-50 checkpoints of Geirhos et al. (texture-vs-shape, "
        + "resnet50_trained_on_SIN.pth.tar; its 'state_dict' entry and 'module.' prefixes are read as is); "
        + "these weights are downloaded by those projects at run time and are not fetched by net2net"
    static let batchNormEpsilon: Float = 1e-5

    struct Block {
        let reduce: FoldedConvolution
        let spatial: FoldedConvolution
        let expand: FoldedConvolution
        let downsample: FoldedConvolution?
    }

    let stem: FoldedConvolution
    let maxPool = MaxPool2d(kernelSize: 3, stride: 2, padding: 1)
    let blocks: [Block]
    let head: ClassifierHead
    /// The width F of the pooled features (2048 for ResNet-50).
    public var featureDimension: Int { head.inputs }
    /// The number of classes of `fc` (1000 for ImageNet).
    public var classCount: Int { head.classes }
    public var inputNormalization: PixelNormalization { .imageNet }
    /// Images run through the network together.
    public var imagesPerPass = 2

    private let scheduler = ImageBatchScheduler { Workspace() }

    /// Loads a torchvision ResNet-50 `state_dict` (`conv1.weight`, `layer1.0.conv1.weight`, …, `fc.bias`).
    public init(checkpoint url: URL) throws {
        let weights = try CheckedStateDict(contentsOf: url)
        let epsilon = ResNet50.batchNormEpsilon
        func folded(_ prefix: String, norm: String, _ layer: Conv2d, relu: Bool) throws -> FoldedConvolution {
            try FoldedConvolution(weights, convolution: prefix, norm: norm, layer: layer, epsilon: epsilon,
                                  activation: relu ? .relu : .none)
        }
        /// The output width of a 1×1 convolution `name` reading `inputs` channels.
        func pointwiseWidth(_ name: String, inputs: Int) throws -> Int {
            let shape = try weights.shape(name, rank: 4)
            guard shape[1] == inputs, shape[2] == 1, shape[3] == 1 else {
                throw ExpertError.badAsset(path: url.path, problem: "tensor '\(name)' has shape \(shape), expected [C, \(inputs), 1, 1]")
            }
            return shape[0]
        }
        let stemWidth = try weights.shape("conv1.weight", rank: 4)[0]
        stem = try folded("conv1", norm: "bn1",
                          Conv2d(inputChannels: 3, outputChannels: stemWidth, kernelSize: 7, stride: 2, padding: Padding2d(3)),
                          relu: true)
        var channels = stemWidth
        var blocks: [Block] = []
        for (stage, count) in ResNet50.blocksPerStage.enumerated() {
            let first = "layer\(stage + 1).0"
            let width = try pointwiseWidth("\(first).conv1.weight", inputs: channels)
            let outputs = try weights.shape("\(first).conv3.weight", rank: 4)[0]
            for index in 0..<count {
                let p = "layer\(stage + 1).\(index)"
                let stride = index == 0 && stage > 0 ? 2 : 1
                let downsample = index == 0
                    ? try folded("\(p).downsample.0", norm: "\(p).downsample.1",
                                 Conv2d(inputChannels: channels, outputChannels: outputs, kernelSize: 1, stride: stride),
                                 relu: false)
                    : nil
                blocks.append(Block(
                    reduce: try folded("\(p).conv1", norm: "\(p).bn1",
                                       Conv2d(inputChannels: channels, outputChannels: width, kernelSize: 1), relu: true),
                    spatial: try folded("\(p).conv2", norm: "\(p).bn2",
                                        Conv2d(inputChannels: width, outputChannels: width, kernelSize: 3, stride: stride,
                                               padding: Padding2d(1)), relu: true),
                    expand: try folded("\(p).conv3", norm: "\(p).bn3",
                                       Conv2d(inputChannels: width, outputChannels: outputs, kernelSize: 1), relu: true),
                    downsample: downsample))
                channels = outputs
            }
        }
        self.blocks = blocks
        let classes = try weights.shape("fc.weight", rank: 2)[0]
        head = ClassifierHead(weight: try weights.scalars("fc.weight", [classes, channels]),
                              bias: try weights.scalars("fc.bias", [classes]), inputs: channels, classes: classes)
    }

    /// Pooled features `[N, F]` (the avgpool output, flattened) of normalised images `[N, 3, H, W]`.
    public func features(_ images: Tensor) throws -> Tensor {
        let H = try checkImages(images)
        let N = images.shape[0], W = images.shape[3], F = featureDimension
        var features = [Float](repeating: 0, count: N * F)
        images.withUnsafeBufferPointer { x in
            features.withUnsafeMutableBufferPointer { f in
                let input = x.baseAddress!, output = f.baseAddress!
                scheduler.run(images: N, imagesPerPass: imagesPerPass) { first, count, workspace in
                    forward(input + first * 3 * H * W, images: count, height: H, width: W, workspace: workspace,
                            into: output + first * F)
                }
            }
        }
        return Tensor(shape: [N, F], scalars: features)
    }

    /// Class logits `[N, classes]` of normalised images `[N, 3, H, W]`.
    public func logits(_ images: Tensor) throws -> Tensor {
        classify(features: try features(images))
    }

    /// `logits = features · fc.weightᵀ + fc.bias`, for features computed earlier.
    public func classify(features: Tensor) -> Tensor {
        head(features)
    }

    /// Throws unless `images` is a finite `[N, 3, H, W]` batch; returns H.
    func checkImages(_ images: Tensor) throws -> Int {
        guard images.rank == 4, images.shape[2] >= 1, images.shape[3] >= 1 else {
            throw ExpertError.badInput("ResNet-50 takes images of shape [N, 3, H, W], got \(images.shape)")
        }
        guard images.shape[1] == 3 else {
            throw ExpertError.badInput("ResNet-50 takes 3-channel (RGB) images, got \(images.shape[1]) channels")
        }
        guard images.isFinite else { throw ExpertError.badInput("the images contain NaN or infinite values") }
        return images.shape[2]
    }

    /// One thread's buffers: the NHWC input, four activation buffers, im2col rows.
    final class Workspace {
        var input = FloatBuffer(count: 0)
        var buffers: [FloatBuffer] = []
        var columns = FloatBuffer(count: 0)

        /// Grows each buffer to at least the given size.
        func reserve(input inputCount: Int, activations: Int, columns columnCount: Int) {
            if input.count < inputCount { input = FloatBuffer(count: inputCount) }
            if buffers.isEmpty || buffers[0].count < activations { buffers = (0..<4).map { _ in FloatBuffer(count: activations) } }
            if columns.count < columnCount { columns = FloatBuffer(count: columnCount) }
        }
    }

    /// The largest activation (floats) and im2col block a pass of `N` images of `H × W` needs.
    func workspaceSizes(images N: Int, height H: Int, width W: Int) -> (activations: Int, columns: Int) {
        var activations = 0, columns = 0
        func visit(_ conv: FoldedConvolution, _ h: Int, _ w: Int) -> (Int, Int) {
            let (ho, wo) = conv.outputSize(height: h, width: w)
            activations = max(activations, N * ho * wo * conv.layer.outputChannels)
            columns = max(columns, conv.columnsCount(height: h, width: w, images: N))
            return (ho, wo)
        }
        var (h, w) = visit(stem, H, W)
        (h, w) = maxPool.outputSize(height: h, width: w)
        for block in blocks {
            _ = visit(block.reduce, h, w)
            if let downsample = block.downsample { _ = visit(downsample, h, w) }
            let (ho, wo) = visit(block.spatial, h, w)
            (h, w) = visit(block.expand, ho, wo)
        }
        return (activations, columns)
    }

    /// Pooled features `[N, F]` of `N` NCHW images of `H × W`.
    func forward(_ nchw: UnsafePointer<Float>, images N: Int, height H: Int, width W: Int, workspace: Workspace,
                 into features: UnsafeMutablePointer<Float>) {
        let sizes = workspaceSizes(images: N, height: H, width: W)
        workspace.reserve(input: N * 3 * H * W, activations: sizes.activations, columns: sizes.columns)
        channelsLast(nchw, images: N, channels: 3, pixels: H * W, into: workspace.input.pointer)
        let buffers = workspace.buffers.map(\.pointer), columns = workspace.columns
        stem.apply(workspace.input.pointer, images: N, height: H, width: W, columns: columns, into: buffers[1])
        var (h, w) = stem.outputSize(height: H, width: W)
        maxPool.forwardChannelsLast(buffers[1], batch: N, height: h, width: w, channels: stem.layer.outputChannels,
                                    into: buffers[0])
        (h, w) = maxPool.outputSize(height: h, width: w)
        var x = 0  // the buffer holding the block input
        for block in blocks {
            // reduce → a, spatial → b, downsample → c; the block output overwrites a, read by spatial already.
            let a = (x + 1) % 4, b = (x + 2) % 4, c = (x + 3) % 4
            block.reduce.apply(buffers[x], images: N, height: h, width: w, columns: columns, into: buffers[a])
            block.spatial.apply(buffers[a], images: N, height: h, width: w, columns: columns, into: buffers[b])
            var identity = UnsafePointer(buffers[x])
            if let downsample = block.downsample {
                downsample.apply(buffers[x], images: N, height: h, width: w, columns: columns, into: buffers[c])
                identity = UnsafePointer(buffers[c])
            }
            (h, w) = block.spatial.outputSize(height: h, width: w)
            block.expand.apply(buffers[b], images: N, height: h, width: w, columns: columns, into: buffers[a],
                               residual: identity)
            x = a
        }
        averagePoolChannelsLast(buffers[x], images: N, pixels: h * w, channels: featureDimension, into: features)
    }
}
