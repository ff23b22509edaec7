import Foundation
import Layers
import TensorCore

/// Buffers for evaluation passes of up to `capacity` rows. Coupling
/// activations are shared by all blocks, since nothing is kept for backward.
final class FlowInferenceWorkspace {
    let capacity: Int
    let actNorm: ActNorm.Workspace
    let coupling: AffineCoupling.Workspace
    let shuffle = Shuffle.Workspace()
    let activation = InvertibleLeakyReLU.Workspace(count: 0)
    let embedder: ConditionEmbedder.Workspace?
    let embedding: FloatBuffer
    let ping: FloatBuffer, pong: FloatBuffer

    init(_ flow: ConditionalFlow, capacity: Int) {
        self.capacity = capacity
        let D = flow.configuration.dimension
        actNorm = flow.blocks[0].actNorm.makeWorkspace(batch: capacity)
        coupling = flow.blocks[0].coupling.makeWorkspace(batch: capacity)
        embedder = flow.embedder?.makeWorkspace(batch: capacity)
        embedding = FloatBuffer(count: capacity * flow.configuration.effectiveEmbeddingDimension)
        ping = FloatBuffer(count: capacity * D)
        pong = FloatBuffer(count: capacity * D)
    }
}

extension ConditionalFlow {
    /// Rows per evaluation chunk.
    static let evaluationChunk = 256

    /// Direction of an evaluation pass.
    enum Direction { case forward, inverse }

    /// The condition embedding e `[N, E]` in evaluation mode (running BatchNorm statistics).
    public func embed(_ condition: Tensor) -> Tensor {
        guard let embedder else { return Tensor(zeros: [condition.shape[0], 0]) }
        precondition(condition.rank == 2 && condition.shape[1] == configuration.conditionDimension,
                     "condition must be [N, \(configuration.conditionDimension)], got \(condition.shape)")
        let N = condition.shape[0], E = configuration.embeddingDimension
        var result = Tensor(zeros: [N, E])
        guard N > 0 else { return result }
        let workspace = inferenceWorkspace(capacity: min(N, Self.evaluationChunk)).embedder!
        condition.withUnsafeBufferPointer { c in
            result.withUnsafeMutableBufferPointer { e in
                var start = 0
                while start < N {
                    let B = min(Self.evaluationChunk, N - start)
                    embedder.forward(c.baseAddress! + start * configuration.conditionDimension, batch: B,
                                     training: false, updateStatistics: false,
                                     parameters: parameters.pointer, buffers: buffers.pointer,
                                     into: e.baseAddress! + start * E, workspace: workspace)
                    start += B
                }
            }
        }
        return result
    }

    /// Data → Gaussian: v = τ⁻¹(x | c). Returns v `[N, D]` and log|det ∂v/∂x| `[N]`.
    public func forward(_ x: Tensor, condition: Tensor?) -> (output: Tensor, logDet: Tensor) {
        run(.forward, x, condition: condition)
    }

    /// Gaussian → data: x = τ(v | c). Returns x `[N, D]` and log|det ∂x/∂v| `[N]`.
    public func inverse(_ v: Tensor, condition: Tensor?) -> (output: Tensor, logDet: Tensor) {
        run(.inverse, v, condition: condition)
    }

    /// Per-sample negative log-likelihood in nats, −log p(x | c) =
    /// ½‖v‖² + (D/2)·log 2π − log|det ∂v/∂x| `[N]`.
    public func negativeLogLikelihood(_ x: Tensor, condition: Tensor?) -> Tensor {
        let (v, logDet) = forward(x, condition: condition)
        let N = x.shape[0], D = configuration.dimension
        let constant = 0.5 * Double(D) * Foundation.log(2 * Double.pi)
        var nll = [Float](repeating: 0, count: N)
        v.withUnsafeBufferPointer { vp in
            for r in 0..<N {
                let half = 0.5 * Vector.sumOfSquares(vp.baseAddress! + r * D, count: D)
                nll[r] = Float(half + constant - Double(logDet.scalars[r]))
            }
        }
        return Tensor(shape: [N], scalars: nll)
    }

    /// Draws K = `count` samples x ~ p(x | c) for every condition row:
    /// returns `[N·K, D]`, condition-major. `temperature` scales v.
    public func sample(condition: Tensor?, count: Int, temperature: Float = 1,
                       using generator: inout SeededGenerator) -> Tensor {
        let rows = (condition?.shape[0] ?? 1) * count
        let v = generator.normalTensor([rows, configuration.dimension], standardDeviation: temperature)
        return sample(condition: condition, count: count, noise: v)
    }

    /// x = τ(v | c) for given noise v `[N·K, D]`: row r goes with condition
    /// row r / K (K = `count`), condition-major as `sample` draws it.
    public func sample(condition: Tensor?, count: Int, noise v: Tensor) -> Tensor {
        let repeated = condition.map { c in c.gatherRows((0..<c.shape[0]).flatMap { Array(repeating: $0, count: count) }) }
        return inverse(v, condition: repeated).output
    }

    func checkShapes(_ x: Tensor, condition: Tensor?) {
        precondition(x.rank == 2 && x.shape[1] == configuration.dimension,
                     "data must be [N, \(configuration.dimension)], got \(x.shape)")
        if configuration.isConditional {
            guard let condition else { preconditionFailure("this flow needs a condition") }
            precondition(condition.rank == 2 && condition.shape[1] == configuration.conditionDimension
                         && condition.shape[0] == x.shape[0],
                         "condition must be [\(x.shape[0]), \(configuration.conditionDimension)], got \(condition.shape)")
        }
    }

    func run(_ direction: Direction, _ input: Tensor, condition: Tensor?) -> (output: Tensor, logDet: Tensor) {
        checkShapes(input, condition: condition)
        let N = input.shape[0], D = configuration.dimension, E = configuration.effectiveEmbeddingDimension
        var output = Tensor(zeros: [N, D])
        var logDet = Tensor(zeros: [N])
        if N == 0 { return (output, logDet) }
        let embedding = condition.map { embed($0) }
        let w = inferenceWorkspace(capacity: min(N, Self.evaluationChunk))
        input.withUnsafeBufferPointer { xp in
            output.withUnsafeMutableBufferPointer { yp in
                logDet.withUnsafeMutableBufferPointer { lp in
                    var start = 0
                    while start < N {
                        let B = min(Self.evaluationChunk, N - start)
                        var e: UnsafePointer<Float>? = nil
                        if let embedding, E > 0 {
                            embedding.withUnsafeBufferPointer { ep in
                                w.embedding.pointer.update(from: ep.baseAddress! + start * E, count: B * E)
                            }
                            e = UnsafePointer(w.embedding.pointer)
                        }
                        pass(direction, xp.baseAddress! + start * D, into: yp.baseAddress! + start * D, batch: B,
                             embedding: e, logDet: lp.baseAddress! + start, workspace: w)
                        start += B
                    }
                }
            }
        }
        return (output, logDet)
    }

    func inferenceWorkspace(capacity: Int) -> FlowInferenceWorkspace {
        if let w = inferenceWorkspace, w.capacity >= capacity { return w }
        let w = FlowInferenceWorkspace(self, capacity: capacity)
        inferenceWorkspace = w
        return w
    }

    /// One evaluation pass over `B ≤ capacity` rows.
    func pass(_ direction: Direction, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch B: Int,
              embedding e: UnsafePointer<Float>?, logDet: UnsafeMutablePointer<Float>,
              workspace w: FlowInferenceWorkspace) {
        let D = configuration.dimension
        let p = UnsafePointer(parameters.pointer)
        w.ping.pointer.update(from: x, count: B * D)
        var current = w.ping.pointer, other = w.pong.pointer
        switch direction {
        case .forward:
            for block in blocks {
                block.actNorm.forward(current, into: other, batch: B, embedding: nil, logDet: logDet,
                                      parameters: p, workspace: w.actNorm)
                block.activation?.forward(other, into: other, batch: B, embedding: nil, logDet: logDet,
                                          parameters: p, workspace: w.activation)
                block.coupling.forward(other, into: current, batch: B, embedding: e, logDet: logDet,
                                       parameters: p, workspace: w.coupling)
                block.shuffle.forward(current, into: other, batch: B, embedding: nil, logDet: logDet,
                                      parameters: p, workspace: w.shuffle)
                swap(&current, &other)
            }
        case .inverse:
            for block in blocks.reversed() {
                block.shuffle.inverse(current, into: other, batch: B, embedding: nil, logDet: logDet,
                                      parameters: p, workspace: w.shuffle)
                block.coupling.inverse(other, into: current, batch: B, embedding: e, logDet: logDet,
                                       parameters: p, workspace: w.coupling)
                block.activation?.inverse(current, into: current, batch: B, embedding: nil, logDet: logDet,
                                          parameters: p, workspace: w.activation)
                block.actNorm.inverse(current, into: other, batch: B, embedding: nil, logDet: logDet,
                                      parameters: p, workspace: w.actNorm)
                swap(&current, &other)
            }
        }
        y.update(from: current, count: B * D)
    }
}
