import Foundation
import Layers
import TensorCore

/// The BigGAN-deep generator (Brock et al. 2019, "Large Scale GAN Training
/// for High Fidelity Natural Image Synthesis") as `pytorch-pretrained-biggan`
/// 0.1.1 defines it (HuggingFace's port of the TF Hub modules
/// biggan-deep-128/256/512), read from that package's model directory:
/// `pytorch_model.bin` (a state_dict) and `config.json` (`BigGANConfiguration`).
///
///     e    = embeddings · class          class [N, classes] (one-hot or a mix), e [N, z_dim]
///     cond = [z, e]                      [N, 2·z_dim]
///     h    = gen_z(cond)  viewed as [N, 4, 4, 16·ch] (TensorFlow's NHWC order)
///     h    = GenBlocks (`BigGANBlock`), with self-attention (`BigGANSelfAttention`)
///            before block `attention_layer_position`
///     h    = relu(bn(h)) → conv_to_rgb (3×3, ch → ch) → first 3 channels → tanh   [N, 3, S, S]
///
/// Every linear map and convolution is spectral-normalised (eval mode: σ
/// from the stored u and v); BatchNorm statistics depend on the truncation
/// (`TruncatedStatistics`), eps = config `eps`. z is expected to be
/// `truncation × truncnorm(−2, 2)` noise (`truncatedNoise`), the same
/// truncation passed here.
public final class BigGAN: @unchecked Sendable {
    /// What `ExpertError.weightsRequired` tells a user who gave no weights.
    public static let weightsNeeded = "a pytorch-pretrained-biggan model directory (or its pytorch_model.bin, "
        + "with config.json beside it): biggan-deep-128, -256 or -512 as published by HuggingFace for "
        + "pytorch-pretrained-biggan (biggan-deep-128-pytorch_model.bin and biggan-deep-128-config.json, "
        + "renamed pytorch_model.bin and config.json), converted from DeepMind's TF Hub BigGAN-deep modules; "
        + "the package downloads them at run time and net2net does not fetch them"
    public let configuration: BigGANConfiguration
    /// `embeddings.weight` `[z_dim, classes]`.
    let embedding: [Float]
    /// `gen_z`: `[16·ch·16, 2·z_dim]` (spectral-normalised) and its bias.
    let generatorWeight: [Float], generatorBias: [Float]
    /// The generator's modules in order.
    enum Stage {
        case block(BigGANBlock)
        case attention(BigGANSelfAttention)
    }
    let stages: [Stage]
    let finalNorm: ConditionalBatchNorm
    /// `conv_to_rgb` cut to its first 3 output channels (the only ones kept).
    let toRGB: FoldedConvolution

    /// The width of z.
    public var latentDimension: Int { configuration.latentDimension }
    public var classCount: Int { configuration.classCount }
    public var imageSize: Int { configuration.outputSize }

    /// Loads a model directory (`pytorch_model.bin` and `config.json`), or a
    /// weights file with `config.json` beside it.
    public convenience init(weights url: URL) throws {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        guard exists else {
            throw ExpertError.badAsset(path: url.path, problem: "no such file or directory (expected BigGAN's model directory: "
                                       + "pytorch_model.bin and config.json, or that pytorch_model.bin)")
        }
        let weights = isDirectory.boolValue ? url.appendingPathComponent("pytorch_model.bin") : url
        try self.init(checkpoint: weights, configuration: weights.deletingLastPathComponent().appendingPathComponent("config.json"))
    }

    public init(checkpoint url: URL, configuration configurationURL: URL) throws {
        let configuration = try BigGANConfiguration(contentsOf: configurationURL)
        self.configuration = configuration
        let weights = try CheckedStateDict(contentsOf: url)
        let ch = configuration.channelWidth, D = 2 * configuration.latentDimension
        embedding = try weights.scalars("embeddings.weight", [configuration.latentDimension, configuration.classCount])
        generatorWeight = try weights.spectralNormalized("generator.gen_z", [16 * 16 * ch, D])
        generatorBias = try weights.scalars("generator.gen_z.bias", [16 * 16 * ch])
        var stages: [Stage] = []
        for (index, layer) in configuration.layers.enumerated() {
            if index == configuration.attentionPosition {
                stages.append(.attention(try BigGANSelfAttention(weights, "generator.layers.\(stages.count)",
                                                                 channels: layer.inputMultiple * ch)))
            }
            stages.append(.block(try BigGANBlock(weights, "generator.layers.\(stages.count)", inputChannels: layer.inputMultiple * ch,
                                                 outputChannels: layer.outputMultiple * ch, upsample: layer.upsample,
                                                 conditionDimension: D, configuration: configuration)))
        }
        self.stages = stages
        finalNorm = try ConditionalBatchNorm(weights, "generator.bn", channels: ch, statistics: configuration.statisticsCount,
                                             epsilon: configuration.epsilon, conditionDimension: nil)
        let rgb = Conv2d(inputChannels: ch, outputChannels: ch, kernelSize: 3, padding: Padding2d(1))
        let weight = try weights.spectralNormalized("generator.conv_to_rgb", rgb.weightShape)
        let bias = try weights.scalars("generator.conv_to_rgb.bias", [ch])
        toRGB = FoldedConvolution(layer: Conv2d(inputChannels: ch, outputChannels: 3, kernelSize: 3, padding: Padding2d(1)),
                                  weight: Array(weight[0..<(3 * ch * 9)]), bias: Array(bias[0..<3]), activation: .tanh)
    }

    /// Images `[N, 3, S, S]` in [-1, 1] of latents z `[N, z_dim]` and class
    /// vectors `[N, classes]` at `truncation` ∈ (0, 1].
    public func generate(_ z: Tensor, classes: Tensor, truncation: Double) throws -> Tensor {
        let Z = latentDimension, K = classCount
        guard z.rank == 2, z.shape[1] == Z else { throw ExpertError.badInput("BigGAN takes z of shape [N, \(Z)], got \(z.shape)") }
        guard classes.shape == [z.shape[0], K] else {
            throw ExpertError.badInput("BigGAN takes class vectors of shape [\(z.shape[0]), \(K)], got \(classes.shape)")
        }
        guard truncation > 0 && truncation <= 1 else { throw ExpertError.badInput("the truncation must be in (0, 1], got \(truncation)") }
        guard z.isFinite && classes.isFinite else { throw ExpertError.badInput("z or the classes contain NaN or infinite values") }
        return render(count: z.shape[0]) { n, columns in
            forward(z: Array(z.scalars[(n * Z)..<((n + 1) * Z)]), classes: Array(classes.scalars[(n * K)..<((n + 1) * K)]),
                    truncation: truncation, columns: columns)
        }
    }

    /// Class embeddings e = embeddings · class `[N, z_dim]` of class vectors `[N, classes]`.
    public func classEmbeddings(_ classes: Tensor) throws -> Tensor {
        let Z = latentDimension, K = classCount
        guard classes.rank == 2, classes.shape[1] == K else {
            throw ExpertError.badInput("BigGAN takes class vectors of shape [N, \(K)], got \(classes.shape)")
        }
        let N = classes.shape[0]
        var e = [Float](repeating: 0, count: N * Z)
        // e[n, j] = Σ_k classes[n, k] · embedding[j, k]: classes [N, K] times embeddingᵀ [K, Z].
        if N > 0 { gemm(.none, .transposed, m: N, n: Z, k: K, a: classes.scalars, lda: K, b: embedding, ldb: K, beta: 0, c: &e, ldc: Z) }
        return Tensor(shape: [N, Z], scalars: e)
    }

    /// Images `[N, 3, S, S]` in [-1, 1] of the generator's condition vectors
    /// [z, e] `[N, 2·z_dim]` given directly (e need not be a class's embedding:
    /// mixtures and points between classes decode too), at `truncation` ∈ (0, 1].
    public func generate(conditions: Tensor, truncation: Double) throws -> Tensor {
        let D = 2 * latentDimension
        guard conditions.rank == 2, conditions.shape[1] == D else {
            throw ExpertError.badInput("BigGAN takes condition vectors [z, e] of shape [N, \(D)], got \(conditions.shape)")
        }
        guard truncation > 0 && truncation <= 1 else { throw ExpertError.badInput("the truncation must be in (0, 1], got \(truncation)") }
        guard conditions.isFinite else { throw ExpertError.badInput("the condition vectors contain NaN or infinite values") }
        return render(count: conditions.shape[0]) { n, columns in
            forward(condition: Array(conditions.scalars[(n * D)..<((n + 1) * D)]), truncation: truncation, columns: columns)
        }
    }

    /// `count` images `[N, 3, S, S]`, image n from its channels-last `[S, S, 3]` pixels.
    func render(count N: Int, _ image: (Int, FloatBuffer) -> [Float]) -> Tensor {
        let S = imageSize, plane = S * S
        var images = [Float](repeating: 0, count: N * 3 * plane)
        let columns = FloatBuffer(count: columnsCount())
        for n in 0..<N {
            let rgb = image(n, columns)
            for p in 0..<plane {
                for c in 0..<3 { images[(n * 3 + c) * plane + p] = rgb[p * 3 + c] }
            }
        }
        return Tensor(shape: [N, 3, S, S], scalars: images)
    }

    /// Im2col floats the largest 3×3 convolution needs.
    func columnsCount() -> Int {
        var side = 4, largest = 0
        for case .block(let block) in stages {
            largest = max(largest, block.columnsCount(height: side, width: side))
            if block.upsample { side *= 2 }
        }
        return max(largest, toRGB.columnsCount(height: side, width: side))
    }

    /// One image, channels-last `[S, S, 3]`.
    func forward(z: [Float], classes: [Float], truncation: Double, columns: FloatBuffer) -> [Float] {
        let Z = latentDimension, K = classCount
        var condition = z + [Float](repeating: 0, count: Z)
        for j in 0..<Z {
            var e: Float = 0
            for k in 0..<K { e += embedding[j * K + k] * classes[k] }
            condition[Z + j] = e
        }
        return forward(condition: condition, truncation: truncation, columns: columns)
    }

    /// One image, channels-last `[S, S, 3]`, of the condition vector [z, e] `[2·z_dim]`.
    func forward(condition: [Float], truncation: Double, columns: FloatBuffer) -> [Float] {
        let ch = configuration.channelWidth, D = 2 * latentDimension
        // gen_z's output is already [4, 4, 16·ch] channels-last.
        var h = generatorBias
        gemm(.none, .none, m: 16 * 16 * ch, n: 1, k: D, a: generatorWeight, lda: D, b: condition, ldb: 1, beta: 1, c: &h, ldc: 1)
        var side = 4
        for stage in stages {
            switch stage {
            case .attention(let attention):
                h = attention.forward(h, height: side, width: side)
            case .block(let block):
                h = block.forward(h, height: side, width: side, condition: condition, truncation: truncation, columns: columns)
                if block.upsample { side *= 2 }
            }
        }
        h.withUnsafeMutableBufferPointer {
            finalNorm.apply($0.baseAddress!, pixels: side * side, condition: [], truncation: truncation)
        }
        return toRGB.apply(h, height: side, width: side, columns: columns)
    }

    /// `truncation × x` with x drawn from a standard normal truncated to
    /// [−2, 2] (resampled until inside), `[count, z_dim]`: the noise the
    /// published models expect (the package draws it with scipy's
    /// `truncnorm`, a different stream).
    public func truncatedNoise(count: Int, truncation: Double, using generator: inout SeededGenerator) -> Tensor {
        var values: [Float] = []
        values.reserveCapacity(count * latentDimension)
        while values.count < count * latentDimension {
            let x = generator.normalTensor([1]).scalars[0]
            if abs(x) <= 2 { values.append(Float(truncation) * x) }
        }
        return Tensor(shape: [count, latentDimension], scalars: values)
    }

    /// One-hot class vectors `[N, classes]`; an index outside 0..<classes is an error.
    public func oneHot(_ indices: [Int]) throws -> Tensor {
        var t = Tensor(zeros: [indices.count, classCount])
        for (n, k) in indices.enumerated() {
            guard (0..<classCount).contains(k) else { throw ExpertError.badInput("class \(k) is not in 0…\(classCount - 1)") }
            t.scalars[n * classCount + k] = 1
        }
        return t
    }
}
