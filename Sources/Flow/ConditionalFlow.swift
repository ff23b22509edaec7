import Foundation
import Layers
import TensorCore

/// One block of the flow (data → Gaussian): ActNorm → [activation] →
/// double affine coupling → Shuffle.
public struct FlowBlock: Sendable {
    public let actNorm: ActNorm
    /// The reference's optional `lrelu` activation (`FlowConfiguration.activation`).
    public let activation: InvertibleLeakyReLU?
    public let coupling: AffineCoupling
    public let shuffle: Shuffle
}

/// The conditional INN τ of Net2Net (Rombach, Esser & Ommer, NeurIPS 2020).
///
/// `forward` maps data z `[N, D]` given a condition c `[N, Dc]` to
/// v `[N, D]`, which is standard normal under the model; `inverse` maps v
/// back (τ(v | c) = inverse). Both return the log-determinant of their
/// Jacobian `[N]`. All parameters live in one flat buffer (`parameters`,
/// named by `layout`); BatchNorm running statistics in `buffers`.
///
/// A flow is a reference type: it owns hundreds of megabytes at the
/// reference size, and copying it should be explicit (`copy()`).
public final class ConditionalFlow {
    public let configuration: FlowConfiguration
    public let layout: ParameterLayout
    public let bufferLayout: ParameterLayout
    public let parameters: FloatBuffer
    public let buffers: FloatBuffer
    public let embedder: ConditionEmbedder?
    public let blocks: [FlowBlock]
    /// Whether ActNorm has been initialised from data (the first training batch).
    public var isActNormInitialized: Bool
    /// Buffers of evaluation passes, kept between calls so that repeated
    /// sampling does not allocate.
    var inferenceWorkspace: FlowInferenceWorkspace?

    /// A freshly initialised flow: PyTorch-default Linear initialisation,
    /// identity ActNorm, BatchNorm at (1, 0), permutations drawn from `seed`.
    public convenience init(configuration: FlowConfiguration, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let permutations = (0..<configuration.blockCount).map { _ in generator.permutation(configuration.dimension) }
        self.init(configuration: configuration, permutations: permutations)
        let p = parameters.pointer
        embedder?.initialize(p, buffers: buffers.pointer, using: &generator)
        for block in blocks { block.coupling.initialize(p, using: &generator) }
    }

    /// A flow with the given permutations and all parameters zero (for loading).
    public init(configuration: FlowConfiguration, permutations: [[Int]]) {
        precondition(configuration.problems.isEmpty, configuration.problems.joined(separator: "; "))
        precondition(permutations.count == configuration.blockCount)
        self.configuration = configuration
        let parts = ConditionalFlow.layers(configuration)
        embedder = parts.embedder
        blocks = zip(parts.blocks, permutations).map {
            FlowBlock(actNorm: $0.0.actNorm,
                      activation: configuration.activation == .lrelu ? InvertibleLeakyReLU(dimension: configuration.dimension) : nil,
                      coupling: $0.0.coupling, shuffle: Shuffle(permutation: $0.1))
        }
        layout = parts.layout
        bufferLayout = parts.bufferLayout
        parameters = FloatBuffer(count: layout.count)
        rangesOutsideCouplings = ConditionalFlow.rangesOutside(blocks, count: layout.count)
        backwardGradientRanges = ConditionalFlow.backwardRanges(blocks, layout: layout)
        buffers = FloatBuffer(count: bufferLayout.count)
        isActNormInitialized = false
    }

    /// The names and shapes of a flow's parameters and buffers, without
    /// allocating them: what a checkpoint must hold before a flow is built
    /// from it. `configuration` must have no `problems`.
    public static func layouts(for configuration: FlowConfiguration) -> (parameters: ParameterLayout, buffers: ParameterLayout) {
        let parts = layers(configuration)
        return (parts.layout, parts.bufferLayout)
    }

    private static func layers(_ c: FlowConfiguration)
        -> (embedder: ConditionEmbedder?, blocks: [(actNorm: ActNorm, coupling: AffineCoupling)],
            layout: ParameterLayout, bufferLayout: ParameterLayout) {
        var layout = ParameterLayout()
        var bufferLayout = ParameterLayout()
        var embedder: ConditionEmbedder? = nil
        if c.isConditional {
            embedder = ConditionEmbedder(conditionDimension: c.conditionDimension,
                                         hiddenDimension: c.conditioningHiddenDimension,
                                         embeddingDimension: c.embeddingDimension, depth: c.conditioningDepth,
                                         usesBatchNorm: c.conditionerUsesBatchNorm, slope: c.leakySlope,
                                         standardizes: c.standardizesCondition,
                                         parameters: &layout, buffers: &bufferLayout)
        }
        var blocks: [(actNorm: ActNorm, coupling: AffineCoupling)] = []
        for i in 0..<c.blockCount {
            let actNorm = ActNorm("blocks.\(i).actnorm", dimension: c.dimension, layout: &layout)
            let coupling = AffineCoupling("blocks.\(i).coupling", dimension: c.dimension,
                                          embeddingDimension: c.effectiveEmbeddingDimension,
                                          hiddenDimension: c.hiddenDimension, depth: c.hiddenDepth,
                                          slope: c.leakySlope, layout: &layout)
            blocks.append((actNorm, coupling))
        }
        return (embedder, blocks, layout, bufferLayout)
    }

    /// The per-block permutations.
    public var permutations: [[Int]] { blocks.map(\.shuffle.permutation) }

    /// The number of trainable scalars.
    public var parameterCount: Int { layout.entries.reduce(0) { $0 + $1.count } }

    /// An independent copy (parameters, buffers and state).
    public func copy() -> ConditionalFlow {
        let other = ConditionalFlow(configuration: configuration, permutations: permutations)
        other.parameters.pointer.update(from: parameters.pointer, count: parameters.count)
        other.buffers.pointer.update(from: buffers.pointer, count: buffers.count)
        other.isActNormInitialized = isActNormInitialized
        return other
    }

    /// The parts of the parameter buffer outside the couplings' Linear
    /// layers (the embedder, ActNorm, alignment padding), in order. A fused
    /// training step updates the couplings layer by layer during backward,
    /// and these at its end.
    let rangesOutsideCouplings: [Range<Int>]

    private static func rangesOutside(_ blocks: [FlowBlock], count: Int) -> [Range<Int>] {
        let inside = blocks.flatMap { $0.coupling.halves.flatMap { $0.allLinear.map(\.parameterRange) } }
            .sorted { $0.lowerBound < $1.lowerBound }
        var outside: [Range<Int>] = []
        var position = 0
        for range in inside {
            precondition(range.lowerBound >= position, "coupling parameter ranges overlap")
            if range.lowerBound > position { outside.append(position..<range.lowerBound) }
            position = range.upperBound
        }
        if position < count { outside.append(position..<count) }
        return outside
    }

    /// The parameter ranges whose gradients a training pass's backward
    /// finishes, in the order it finishes them: block n−1 (its ActNorm and
    /// coupling), …, block 0, then everything before block 0 (the embedder,
    /// whose gradient gathers every coupling's). Contiguous and descending,
    /// they cover the buffer, so the finished part is always a suffix of it.
    let backwardGradientRanges: [Range<Int>]

    private static func backwardRanges(_ blocks: [FlowBlock], layout: ParameterLayout) -> [Range<Int>] {
        let spans = blocks.map { block in
            let parts = [block.actNorm.locOffset..<(block.actNorm.locOffset + block.actNorm.dimension),
                         block.actNorm.logScaleOffset..<(block.actNorm.logScaleOffset + block.actNorm.dimension)]
                + block.coupling.halves.flatMap { $0.allLinear.map(\.parameterRange) }
            return parts.map(\.lowerBound).min()!..<parts.map(\.upperBound).max()!
        }
        precondition(zip(spans, spans.dropFirst()).allSatisfy { $0.upperBound <= $1.lowerBound },
                     "blocks' parameters must be laid out in block order")
        precondition(layout.entries.allSatisfy { $0.name.hasPrefix("blocks.") || $0.offset < (spans.first?.lowerBound ?? layout.count) },
                     "parameters outside the blocks must come before them")
        var ranges: [Range<Int>] = []
        var end = layout.count
        for span in spans.reversed() {
            ranges.append(span.lowerBound..<end)
            end = span.lowerBound
        }
        ranges.append(0..<end)
        return ranges
    }

    /// Parameter ranges whose gradients are accumulated (`+=`) rather than
    /// overwritten, and so must be zeroed before each backward pass.
    var accumulatedGradientRanges: [Range<Int>] {
        layout.entries.filter { !$0.name.contains(".coupling.") }.map { $0.offset..<($0.offset + $0.count) }
    }
}
