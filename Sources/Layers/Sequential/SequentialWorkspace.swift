import TensorCore

/// The activations, saved statistics and scratch memory of one `Sequential`
/// for batches up to `capacity` (grown on demand by `forward`).
public final class SequentialWorkspace: @unchecked Sendable {
    /// Floats of convolution workspace per GEMM group: 1 MB, about one core's L2 cache.
    static let cacheFloats = 1 << 18

    let network: Sequential
    public private(set) var capacity = 0
    var outputs: [UnsafeMutablePointer<Float>] = []
    var normalized: [UnsafeMutablePointer<Float>] = []
    var inverseStd: [UnsafeMutablePointer<Float>] = []
    var gradientA: UnsafeMutablePointer<Float>
    var gradientB: UnsafeMutablePointer<Float>
    /// Per share of the batch (see `shares`) and convolution layer (nil
    /// elsewhere), sized for its images per GEMM.
    var convolution: [[FloatBuffer?]] = []
    /// Per convolution or linear layer: the second share's weight and bias gradients, added after the backward.
    var shareGradients: [FloatBuffer?] = []
    private var storage: [FloatBuffer] = []

    init(_ network: Sequential, capacity: Int) {
        self.network = network
        gradientA = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        gradientB = gradientA
        storage = []
        reserve(max(1, capacity))
    }

    /// Makes room for `batch` samples.
    func reserve(_ batch: Int) {
        guard batch > capacity else { return }
        capacity = batch
        storage = []
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let b = FloatBuffer(count: max(count, 1))
            storage.append(b)
            return b.pointer
        }
        outputs = network.stages.map { buffer(batch * $0.outputCount) }
        normalized = network.stages.map { stage in
            if case .batchNorm = stage.kind { return buffer(batch * stage.outputCount) }
            return buffer(0)
        }
        inverseStd = network.stages.map { stage in
            if case let .batchNorm(norm) = stage.kind { return buffer(norm.channels) }
            return buffer(0)
        }
        let largest = network.stages.reduce(network.inputCount) { max($0, $1.inputCount, $1.outputCount) }
        gradientA = buffer(batch * largest)
        gradientB = buffer(batch * largest)
        // Images per GEMM: as many as keep a layer's workspace (the im2col
        // columns) within about a core's L2 cache, up to 64; one for
        // single-channel layers, where batching measured no faster. (Columns
        // of 32 images spill to memory: the autoencoder's training step measured
        // 2220–2480 images/s at batch 64 that way against 2520–2600 within 1 MB.)
        let share = (batch + 1) / 2
        func imagesPerGEMM(inputChannels: Int, outputChannels: Int, perImage: Int) -> Int {
            if inputChannels == 1 || outputChannels == 1 { return 1 }
            return max(1, min(share, 64, SequentialWorkspace.cacheFloats / max(1, perImage)))
        }
        convolution = (0..<2).map { _ in
            network.stages.map { stage -> FloatBuffer? in
                let (H, W) = stage.inputShape.count == 3 ? (stage.inputShape[1], stage.inputShape[2]) : (0, 0)
                switch stage.kind {
                case let .convolution(conv, _, _):
                    let images = imagesPerGEMM(inputChannels: conv.inputChannels, outputChannels: conv.outputChannels,
                                               perImage: conv.workspaceCount(height: H, width: W, images: 1))
                    let count = max(conv.workspaceCount(height: H, width: W, images: images),
                                    conv.backwardWorkspaceCount(height: H, width: W, images: images))
                    return count > 0 ? FloatBuffer(count: count) : nil
                case let .transposedConvolution(conv, _, _):
                    let images = imagesPerGEMM(inputChannels: conv.inputChannels, outputChannels: conv.outputChannels,
                                               perImage: conv.workspaceCount(height: H, width: W, images: 1))
                    let count = conv.workspaceCount(height: H, width: W, images: images)
                    return count > 0 ? FloatBuffer(count: count) : nil
                default:
                    return nil
                }
            }
        }
        shareGradients = network.stages.map { stage -> FloatBuffer? in
            switch stage.kind {
            case let .convolution(conv, _, _): return FloatBuffer(count: conv.weightShape.reduce(1, *) + conv.outputChannels)
            case let .transposedConvolution(conv, _, _): return FloatBuffer(count: conv.weightShape.reduce(1, *) + conv.outputChannels)
            case let .linear(linear): return FloatBuffer(count: (linear.inputDimension + 1) * linear.outputDimension)
            default: return nil
            }
        }
    }

    /// Runs `body(share, first, count)` for the two halves of a batch
    /// concurrently (each on its own core, with single-threaded BLAS), or once
    /// for the whole batch when that is not worth it: convolutions are
    /// independent per image, and OpenBLAS scales poorly inside their
    /// small GEMMs on 2 cores. (Callers that run many such layers in a row
    /// wrap them in `ComputeThreads.withSingleThreadedBLAS` once.)
    func forEachShare(_ batch: Int, _ body: (_ share: Int, _ first: Int, _ count: Int) -> Void) {
        guard batch >= 8 else { body(0, 0, batch); return }
        let half = (batch + 1) / 2
        ComputeThreads.forEachIndependentTask(2) { share in
            body(share, share * half, share == 0 ? half : batch - half)
        }
    }
}
