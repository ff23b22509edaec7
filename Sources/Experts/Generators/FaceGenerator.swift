import Formats
import Foundation
import Layers
import TensorCore

/// The image generator Λ: the DCGAN generator of `gan-face-generate`
/// (Radford et al. 2016; the PyTorch-tutorial architecture), read from its
/// published PyTorch checkpoint (`netG_state_dict`).
///
///     z [N, 100] → ConvT(100→512, k4 s1 p0) → BN → ReLU        4×4
///                → ConvT(512→256, k4 s2 p1) → BN → ReLU        8×8
///                → ConvT(256→128) → BN → ReLU → ConvT(128→64) → BN → ReLU   16, 32
///                → ConvT(64→3, k4 s2 p1) → tanh                64×64
///
/// No conv biases; BatchNorm (eps 1e-5) runs on its running statistics and
/// is folded into each layer's epilogue at load time. Output: NCHW in [-1, 1].
public final class FaceGenerator: @unchecked Sendable {
    /// Width of the latent z.
    public static let latentDimension = 100
    /// Output image side.
    public static let imageSize = 64

    struct Stage {
        let layer: ConvTranspose2d
        let weight: [Float]
        let norm: ChannelAffine?
    }

    let stages: [Stage]
    private let lock = NSLock()
    /// Per-share, per-stage workspaces, kept between calls (guarded by `lock`).
    private var workspaces: [[FloatBuffer?]] = []

    /// Loads `directory/weights.pth`.
    public convenience init(directory: URL) throws {
        try self.init(checkpoint: directory.appendingPathComponent("weights.pth"))
    }

    /// Loads the `dcgan-faces` asset, fetching it first if needed.
    public convenience init(store: AssetStore, progress: (String) -> Void = { _ in }) throws {
        try self.init(directory: try store.directory(for: "dcgan-faces", progress: progress))
    }

    /// Loads a PyTorch checkpoint holding `netG_state_dict` (or a bare state dict).
    public init(checkpoint url: URL) throws {
        let weights = try CheckedStateDict(contentsOf: url, wrappers: ["netG_state_dict"])
        let channels = FaceGenerator.channels
        var stages: [Stage] = []
        for i in 0..<5 {
            let index = 3 * i  // main.0, main.3, …, main.12; BatchNorm at +1
            let layer = ConvTranspose2d(inputChannels: channels[i], outputChannels: channels[i + 1], kernelSize: 4,
                                        stride: i == 0 ? 1 : 2, padding: i == 0 ? 0 : 1)
            let weight = try weights.scalars("main.\(index).weight", layer.weightShape)
            var norm: ChannelAffine? = nil
            if i < 4 {
                let C = channels[i + 1]
                norm = try weights.batchNorm("main.\(index + 1)", channels: C, epsilon: 1e-5)
            }
            stages.append(Stage(layer: layer, weight: weight, norm: norm))
        }
        self.stages = stages
    }

    /// Channels from z to the image: five 4×4 transposed convolutions
    /// (stride 1 from 1×1 to 4×4, then stride 2, doubling the side each time).
    static let channels = [FaceGenerator.latentDimension, 512, 256, 128, 64, 3]

    /// Multiply-adds of one image: Σ Cin·Cout·4²·Hin·Win over the five
    /// layers, Hin = 1, 4, 8, 16, 32.
    public static var multiplyAddsPerImage: Int {
        (0..<5).reduce(0) { total, i in
            let side = i == 0 ? 1 : 4 << (i - 1)
            return total + channels[i] * channels[i + 1] * 16 * side * side
        }
    }

    /// Images `[N, 3, 64, 64]` in [-1, 1] for latents `z` `[N, 100]`.
    public func generate(_ z: Tensor) throws -> Tensor {
        guard z.rank == 2, z.shape[1] == FaceGenerator.latentDimension else {
            throw ExpertError.badInput("the DCGAN generator takes z of shape [N, \(FaceGenerator.latentDimension)], got \(z.shape)")
        }
        guard z.isFinite else { throw ExpertError.badInput("z contains NaN or infinite values") }
        let N = z.shape[0]
        let side = FaceGenerator.imageSize
        if N == 0 { return Tensor(zeros: [0, 3, side, side]) }
        lock.lock()
        defer { lock.unlock() }
        // A large batch is split into one share per core, each running all
        // five layers with single-threaded GEMMs: OpenBLAS's hand-offs
        // between its threads cost more on these GEMMs than splitting gains.
        let shares = N >= FaceGenerator.imagesPerShare * 2 ? min(Parallel.threadCount, N / FaceGenerator.imagesPerShare) : 1
        // Workspaces for up to 8 images per GEMM, made before the shares run
        // and kept for the next call.
        if workspaces.count < shares { workspaces += Array(repeating: Array(repeating: nil, count: stages.count),
                                                            count: shares - workspaces.count) }
        let largestShare = (0..<shares).map { Parallel.chunkRange($0, of: shares, count: N).count }.max()!
        var size = 1
        for (index, stage) in stages.enumerated() {
            let wanted = stage.layer.workspaceCount(height: size, width: size, images: min(largestShare, 8))
            for share in 0..<shares where wanted > 0 && (workspaces[share][index]?.count ?? 0) < wanted {
                workspaces[share][index] = FloatBuffer(count: wanted)
            }
            size = stage.layer.outputSize(height: size, width: size).height
        }
        let workspaces = self.workspaces
        var output = [Float](repeating: 0, count: N * 3 * side * side)
        let latents = z.scalars
        latents.withUnsafeBufferPointer { zp in
            output.withUnsafeMutableBufferPointer { yp in
                let z = zp.baseAddress!, y = yp.baseAddress!
                let run = { (share: Int) in
                    let range = Parallel.chunkRange(share, of: shares, count: N)
                    self.generate(z + range.lowerBound * FaceGenerator.latentDimension, count: range.count,
                                  workspaces: workspaces[share], into: y + range.lowerBound * 3 * side * side)
                }
                if shares == 1 { run(0) } else { ComputeThreads.forEachIndependentTask(shares, run) }
            }
        }
        return Tensor(shape: [N, 3, side, side], scalars: output)
    }

    /// The fewest images a share gets: a batch is split over the cores from
    /// twice this many on.
    static let imagesPerShare = 8

    /// Runs the five layers on `count` latents at `z`, writing `[count, 3, 64, 64]`
    /// to `y`, with one workspace per stage (nil for the direct first one).
    private func generate(_ z: UnsafePointer<Float>, count N: Int, workspaces: [FloatBuffer?],
                          into y: UnsafeMutablePointer<Float>) {
        if N == 0 { return }
        var current = Array(UnsafeBufferPointer(start: z, count: N * FaceGenerator.latentDimension))
        var size = 1
        for (index, stage) in stages.enumerated() {
            let (ho, wo) = stage.layer.outputSize(height: size, width: size)
            let last = index == stages.count - 1
            var next = last ? [] : [Float](repeating: 0, count: N * stage.layer.outputChannels * ho * wo)
            let workspace = workspaces[index]
            let scale = stage.norm?.scale ?? [], shift = stage.norm?.shift ?? []
            scale.withUnsafeBufferPointer { sp in
                shift.withUnsafeBufferPointer { hp in
                    let epilogue = ConvolutionEpilogue(scale: stage.norm == nil ? nil : sp.baseAddress,
                                                       shift: stage.norm == nil ? nil : hp.baseAddress,
                                                       activation: stage.norm == nil ? .tanh : .relu)
                    // The last layer writes straight into the caller's images.
                    let forward = { (destination: UnsafeMutablePointer<Float>) in
                        stage.layer.forward(current, batch: N, height: size, width: size, weight: stage.weight,
                                            bias: nil, epilogue: epilogue, workspace: workspace, into: destination)
                    }
                    if last { forward(y) } else { next.withUnsafeMutableBufferPointer { forward($0.baseAddress!) } }
                }
            }
            current = next
            size = ho
        }
    }
}
