import TensorCore

/// The activations, saved statistics and scratch memory of one `Sequential`
/// for batches up to `capacity` (grown on demand by `forward`).
public final class SequentialWorkspace: @unchecked Sendable {
    let network: Sequential
    public private(set) var capacity = 0
    var outputs: [UnsafeMutablePointer<Float>] = []
    var normalized: [UnsafeMutablePointer<Float>] = []
    var inverseStd: [UnsafeMutablePointer<Float>] = []
    var gradientA: UnsafeMutablePointer<Float>
    var gradientB: UnsafeMutablePointer<Float>
    /// Per convolution layer (nil elsewhere), sized for its images per GEMM.
    var convolution: [FloatBuffer?] = []
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
        // Images per GEMM: up to 64 (wider GEMMs stop paying off and the workspace
        // grows); one for single-channel layers, where batching measured no faster.
        convolution = network.stages.map { stage -> FloatBuffer? in
            let (H, W) = stage.inputShape.count == 3 ? (stage.inputShape[1], stage.inputShape[2]) : (0, 0)
            switch stage.kind {
            case let .convolution(conv, _, _):
                let images = conv.inputChannels == 1 || conv.outputChannels == 1 ? 1 : min(batch, 64)
                let count = max(conv.workspaceCount(height: H, width: W, images: images),
                                conv.backwardWorkspaceCount(height: H, width: W, images: images))
                return count > 0 ? FloatBuffer(count: count) : nil
            case let .transposedConvolution(conv, _, _):
                let images = conv.inputChannels == 1 || conv.outputChannels == 1 ? 1 : min(batch, 64)
                let count = conv.workspaceCount(height: H, width: W, images: images)
                return count > 0 ? FloatBuffer(count: count) : nil
            default:
                return nil
            }
        }
    }
}
