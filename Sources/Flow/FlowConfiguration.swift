/// The activation between ActNorm and the coupling in every block
/// (the reference's `activation` option).
public enum FlowActivation: String, Codable, CaseIterable, Sendable {
    /// None: ActNorm → coupling → shuffle (every published reference model).
    case none
    /// The reference's `InvLeakyRelu` (α = 0.9, log-determinant not counted;
    /// see `InvertibleLeakyReLU`).
    case lrelu
}

/// The architecture of a conditional INN. Keys in YAML and in checkpoint
/// metadata use the reference's names (`hidden_dim`, `n_flows`, …).
public struct FlowConfiguration: Codable, Equatable, Sendable {
    /// D: width of the data z_Θ.
    public var dimension: Int
    /// Dc: width of the condition z_Φ; 0 makes the flow unconditional.
    public var conditionDimension: Int
    /// E: width of the condition embedding.
    public var embeddingDimension: Int = 128
    /// H: width of the coupling subnets.
    public var hiddenDimension: Int = 1024
    /// Number of H → H layers in each coupling subnet.
    public var hiddenDepth: Int = 2
    /// Number of ActNorm → coupling → shuffle blocks.
    public var blockCount: Int = 20
    /// Width of the embedder's hidden layers.
    public var conditioningHiddenDimension: Int = 256
    /// Number of Hc → Hc layers in the embedder.
    public var conditioningDepth: Int = 2
    /// Whether the embedder uses BatchNorm after each hidden Linear.
    public var conditionerUsesBatchNorm: Bool = true
    /// Negative slope of the LeakyReLUs.
    public var leakySlope: Float = 0.01
    /// The activation after each ActNorm (absent from checkpoints written
    /// before it existed, which read as `.none`).
    public var activation: FlowActivation = .none
    /// Whether the embedder first standardises the condition with a fixed
    /// per-dimension mean and deviation (buffers `embedder.condition_mean`,
    /// `embedder.condition_std`, set from the training conditions), so that
    /// its first layer sees inputs of unit scale whatever the expert's.
    /// Not in the reference; absent from older checkpoints, which read as false.
    public var standardizesCondition: Bool = false

    public init(dimension: Int, conditionDimension: Int, embeddingDimension: Int = 128,
                hiddenDimension: Int = 1024, hiddenDepth: Int = 2, blockCount: Int = 20,
                conditioningHiddenDimension: Int = 256, conditioningDepth: Int = 2,
                conditionerUsesBatchNorm: Bool = true, leakySlope: Float = 0.01,
                activation: FlowActivation = .none, standardizesCondition: Bool = false) {
        self.dimension = dimension
        self.conditionDimension = conditionDimension
        self.embeddingDimension = embeddingDimension
        self.hiddenDimension = hiddenDimension
        self.hiddenDepth = hiddenDepth
        self.blockCount = blockCount
        self.conditioningHiddenDimension = conditioningHiddenDimension
        self.conditioningDepth = conditioningDepth
        self.conditionerUsesBatchNorm = conditionerUsesBatchNorm
        self.leakySlope = leakySlope
        self.activation = activation
        self.standardizesCondition = standardizesCondition
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dimension = try c.decode(Int.self, forKey: .dimension)
        conditionDimension = try c.decode(Int.self, forKey: .conditionDimension)
        embeddingDimension = try c.decode(Int.self, forKey: .embeddingDimension)
        hiddenDimension = try c.decode(Int.self, forKey: .hiddenDimension)
        hiddenDepth = try c.decode(Int.self, forKey: .hiddenDepth)
        blockCount = try c.decode(Int.self, forKey: .blockCount)
        conditioningHiddenDimension = try c.decode(Int.self, forKey: .conditioningHiddenDimension)
        conditioningDepth = try c.decode(Int.self, forKey: .conditioningDepth)
        conditionerUsesBatchNorm = try c.decode(Bool.self, forKey: .conditionerUsesBatchNorm)
        leakySlope = try c.decode(Float.self, forKey: .leakySlope)
        activation = try c.decodeIfPresent(FlowActivation.self, forKey: .activation) ?? .none
        standardizesCondition = try c.decodeIfPresent(Bool.self, forKey: .standardizesCondition) ?? false
    }

    enum CodingKeys: String, CodingKey {
        case dimension = "in_channels"
        case conditionDimension = "conditioning_dim"
        case embeddingDimension = "embedding_dim"
        case hiddenDimension = "hidden_dim"
        case hiddenDepth = "hidden_depth"
        case blockCount = "n_flows"
        case conditioningHiddenDimension = "conditioning_hidden_dim"
        case conditioningDepth = "conditioning_depth"
        case conditionerUsesBatchNorm = "conditioner_use_bn"
        case leakySlope = "leaky_slope"
        case activation
        case standardizesCondition = "standardize_condition"
    }

    /// The keys whose values differ, as "key: this vs other", by the
    /// checkpoints' key names (`in_channels` is D, `conditioning_dim` Dc).
    public func differences(from other: FlowConfiguration) -> String {
        func values(_ c: FlowConfiguration) -> [(String, String)] {
            [("in_channels", "\(c.dimension)"), ("conditioning_dim", "\(c.conditionDimension)"),
             ("embedding_dim", "\(c.embeddingDimension)"), ("hidden_dim", "\(c.hiddenDimension)"),
             ("hidden_depth", "\(c.hiddenDepth)"), ("n_flows", "\(c.blockCount)"),
             ("conditioning_hidden_dim", "\(c.conditioningHiddenDimension)"),
             ("conditioning_depth", "\(c.conditioningDepth)"),
             ("conditioner_use_bn", "\(c.conditionerUsesBatchNorm)"), ("leaky_slope", "\(c.leakySlope)"),
             ("activation", c.activation.rawValue), ("standardize_condition", "\(c.standardizesCondition)")]
        }
        return zip(values(self), values(other)).compactMap { mine, theirs in
            mine.1 == theirs.1 ? nil : "\(mine.0) \(mine.1) vs \(theirs.1)"
        }.joined(separator: ", ")
    }

    /// Whether the flow has a condition.
    public var isConditional: Bool { conditionDimension > 0 }

    /// The embedding width the couplings see (0 when unconditional).
    public var effectiveEmbeddingDimension: Int { isConditional ? embeddingDimension : 0 }

    /// Upper bounds on the sizes: far above any flow this package trains,
    /// low enough that no product of them overflows and that a corrupt or
    /// hostile checkpoint cannot make a loader build millions of layers.
    public static let maximumWidth = 1 << 20
    public static let maximumHiddenWidth = 1 << 16
    public static let maximumDepth = 64
    public static let maximumBlockCount = 1024

    /// Problems that make this configuration unusable, as sentences.
    public var problems: [String] {
        var p: [String] = []
        let widths = [("in_channels", dimension, Self.maximumWidth), ("conditioning_dim", conditionDimension, Self.maximumWidth),
                      ("embedding_dim", embeddingDimension, Self.maximumHiddenWidth),
                      ("hidden_dim", hiddenDimension, Self.maximumHiddenWidth),
                      ("conditioning_hidden_dim", conditioningHiddenDimension, Self.maximumHiddenWidth),
                      ("hidden_depth", hiddenDepth, Self.maximumDepth), ("conditioning_depth", conditioningDepth, Self.maximumDepth),
                      ("n_flows", blockCount, Self.maximumBlockCount)]
        for (key, value, limit) in widths where value > limit {
            p.append("\(key) must be at most \(limit) (got \(value))")
        }
        if dimension < 2 { p.append("the data dimension must be at least 2 (got \(dimension))") }
        if conditionDimension < 0 { p.append("conditioning_dim must not be negative") }
        if isConditional && embeddingDimension < 1 { p.append("embedding_dim must be at least 1") }
        if hiddenDimension < 1 { p.append("hidden_dim must be at least 1") }
        if hiddenDepth < 0 { p.append("hidden_depth must not be negative") }
        if blockCount < 1 { p.append("n_flows must be at least 1") }
        if isConditional && conditioningHiddenDimension < 1 { p.append("conditioning_hidden_dim must be at least 1") }
        if conditioningDepth < 0 { p.append("conditioning_depth must not be negative") }
        if !(leakySlope > 0 && leakySlope < 1) { p.append("leaky_slope must be in (0, 1)") }
        return p
    }
}
