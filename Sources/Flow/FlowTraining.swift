import Foundation
import Layers
import TensorCore

/// Everything one training step of a batch of `batch` rows needs: the
/// activations of every block, kept for backward, and gradient scratch.
/// Allocated once and reused every step.
public final class FlowTrainingWorkspace {
    public let batch: Int
    let actNorms: [ActNorm.Workspace]
    let activations: [InvertibleLeakyReLU.Workspace?]
    let couplings: [AffineCoupling.Workspace]
    let shuffle = Shuffle.Workspace()
    let embedder: ConditionEmbedder.Workspace?
    let embedding: FloatBuffer, dEmbedding: FloatBuffer
    let ping: FloatBuffer, pong: FloatBuffer
    let logDet: FloatBuffer, dLogDet: FloatBuffer
    /// The flow's output v `[B, D]` of the last step.
    public let output: FloatBuffer
    /// ∂loss/∂x `[B, D]` and ∂loss/∂c `[B, Dc]` of the last step.
    public let inputGradient: FloatBuffer
    public let conditionGradient: FloatBuffer
    /// One gradient buffer per coupling net (S and T run concurrently), as
    /// long as the largest coupling Linear: a fused optimiser step computes
    /// each layer's gradient here and applies it while it is in cache.
    let gradientScratch: [FloatBuffer]

    init(_ flow: ConditionalFlow, batch B: Int) {
        let c = flow.configuration
        batch = B
        actNorms = flow.blocks.map { $0.actNorm.makeWorkspace(batch: B) }
        activations = flow.blocks.map { $0.activation?.makeWorkspace(batch: B) }
        couplings = flow.blocks.map { $0.coupling.makeWorkspace(batch: B) }
        embedder = flow.embedder?.makeWorkspace(batch: B)
        embedding = FloatBuffer(count: B * c.effectiveEmbeddingDimension)
        dEmbedding = FloatBuffer(count: B * c.effectiveEmbeddingDimension)
        ping = FloatBuffer(count: B * c.dimension)
        pong = FloatBuffer(count: B * c.dimension)
        logDet = FloatBuffer(count: B)
        dLogDet = FloatBuffer(count: B)
        output = FloatBuffer(count: B * c.dimension)
        inputGradient = FloatBuffer(count: B * c.dimension)
        conditionGradient = FloatBuffer(count: B * max(0, c.conditionDimension))
        let largest = flow.blocks.flatMap { $0.coupling.halves.flatMap { $0.allLinear.map(\.parameterRange.count) } }.max() ?? 0
        gradientScratch = (0..<2).map { _ in FloatBuffer(count: largest) }
    }
}

/// The loss of one training batch.
public struct FlowLoss: Sendable, Equatable {
    /// mean over the batch of ½‖v‖² − log|det ∂v/∂x| (the training objective).
    public var loss: Float
    /// The mean negative log-likelihood per dimension in nats:
    /// (loss + (D/2)·log 2π) / D.
    public var natsPerDimension: Float
}

extension ConditionalFlow {
    public func makeTrainingWorkspace(batch: Int) -> FlowTrainingWorkspace {
        FlowTrainingWorkspace(self, batch: batch)
    }

    /// Converts a mean loss (without the Gaussian constant) to nats per dimension.
    public func natsPerDimension(loss: Double) -> Double {
        let D = Double(configuration.dimension)
        return (loss + 0.5 * D * Foundation.log(2 * Double.pi)) / D
    }

    /// One training pass: forward in training mode (BatchNorm on batch
    /// statistics; ActNorm initialised from this batch if it is not yet),
    /// the loss mean(½‖v‖² − logdet), and backward. Parameter gradients are
    /// *written* to `gradients` (no need to zero it); gradients with respect
    /// to the inputs land in the workspace.
    ///
    /// x `[B, D]`, condition `[B, Dc]` (nil when unconditional), B = workspace.batch.
    ///
    /// With `update` (an optimiser step begun on `parameters` and
    /// `gradients`), the step is applied during backward: each coupling
    /// Linear as soon as its gradient is computed, while its weights and
    /// gradient are still in cache, and the rest (embedder, ActNorm) at the
    /// end. The couplings' gradients then go through a small scratch buffer
    /// and are not kept in `gradients`. The parameters equal those of a
    /// separate `update` after this call, bit for bit. When the loss is not
    /// finite, backward is skipped and nothing is updated.
    ///
    /// With `shard` (data-parallel training), x and condition are this
    /// process's rows of a batch of `shard.globalBatch` rows: the loss is the
    /// mean over the whole batch, BatchNorm and ActNorm's initialisation use
    /// the whole batch's statistics, and `gradients` receives this process's
    /// share of the whole batch's gradient (its rows' terms over the global
    /// batch size), so that the sum over processes is the gradient of the
    /// whole batch. No fused update then: the shares must be summed first.
    ///
    /// `gradientsFinished` is called during backward each time a range of
    /// `gradients` is final (no later part of the pass touches it), so that
    /// its sum over processes can start while backward goes on: once per
    /// block, last to first, then once for the embedder's range. The ranges
    /// are contiguous and descending and cover the whole buffer (some may be
    /// empty). Not with `update`, which keeps the couplings' gradients out
    /// of `gradients`.
    @discardableResult
    public func lossAndGradient(x: UnsafePointer<Float>, condition: UnsafePointer<Float>?,
                                gradients: FloatBuffer, workspace w: FlowTrainingWorkspace,
                                updateStatistics: Bool = true, applying update: Adam.Step? = nil,
                                shard: BatchShard? = nil, gradientsFinished: ((Range<Int>) -> Void)? = nil) -> FlowLoss {
        precondition(update == nil || shard == nil, "a sharded batch's gradient must be summed before an update")
        precondition(update == nil || gradientsFinished == nil, "a fused update does not keep the couplings' gradients")
        let B = w.batch, D = configuration.dimension, E = configuration.effectiveEmbeddingDimension
        let globalBatch = shard?.globalBatch ?? B
        let p = parameters.pointer
        let g = gradients.pointer
        precondition(gradients.count == parameters.count)
        for range in accumulatedGradientRanges { (g + range.lowerBound).update(repeating: 0, count: range.count) }

        // Embedding.
        var e: UnsafePointer<Float>? = nil
        if let embedder, let condition {
            embedder.forward(condition, batch: B, training: true, updateStatistics: updateStatistics,
                             parameters: p, buffers: buffers.pointer, into: w.embedding.pointer,
                             workspace: w.embedder!, shard: shard)
            e = UnsafePointer(w.embedding.pointer)
        } else {
            precondition(embedder == nil, "this flow needs a condition")
        }

        // Forward through the blocks.
        w.logDet.zero()
        w.ping.pointer.update(from: x, count: B * D)
        var current = w.ping.pointer, other = w.pong.pointer
        for (i, block) in blocks.enumerated() {
            if !isActNormInitialized {
                if let shard {
                    block.actNorm.initialize(from: current, batch: B, parameters: p, shard: shard)
                } else {
                    block.actNorm.initialize(from: current, batch: B, parameters: p)
                }
            }
            block.actNorm.forward(current, into: other, batch: B, embedding: nil, logDet: w.logDet.pointer,
                                  parameters: p, workspace: w.actNorms[i])
            if let activation = block.activation, let workspace = w.activations[i] {
                activation.forward(other, into: other, batch: B, embedding: nil, logDet: w.logDet.pointer,
                                   parameters: p, workspace: workspace)
            }
            block.coupling.forward(other, into: current, batch: B, embedding: e, logDet: w.logDet.pointer,
                                   parameters: p, workspace: w.couplings[i])
            block.shuffle.forward(current, into: other, batch: B, embedding: nil, logDet: w.logDet.pointer,
                                  parameters: p, workspace: w.shuffle)
            swap(&current, &other)
        }
        isActNormInitialized = true
        w.output.pointer.update(from: current, count: B * D)

        // Loss = mean(½‖v‖² − logdet); dv = v / B, dlogdet = −1 / B.
        var total = 0.0
        for r in 0..<B {
            total += 0.5 * Vector.sumOfSquares(w.output.pointer + r * D, count: D) - Double(w.logDet.pointer[r])
        }
        if let shard {
            var sum = total
            withUnsafeMutablePointer(to: &sum) { shard.sumOverProcesses(UnsafeMutableBufferPointer(start: $0, count: 1)) }
            total = sum
        }
        let loss = total / Double(globalBatch)
        if update != nil && !loss.isFinite {
            return FlowLoss(loss: Float(loss), natsPerDimension: Float(natsPerDimension(loss: loss)))
        }
        let inverseBatch = 1 / Float(globalBatch)
        for i in 0..<(B * D) { current[i] = w.output.pointer[i] * inverseBatch }
        w.dLogDet.pointer.update(repeating: -inverseBatch, count: B)

        // Backward.
        let fused = update.map { FusedUpdate(step: $0, scratch: w.gradientScratch.map(\.pointer)) }
        if E > 0 { w.dEmbedding.zero() }
        let dE: UnsafeMutablePointer<Float>? = E > 0 ? w.dEmbedding.pointer : nil
        for (i, block) in blocks.enumerated().reversed() {
            block.shuffle.backward(dy: current, dLogDet: w.dLogDet.pointer, into: other, batch: B, embedding: nil,
                                   parameters: p, gradients: g, dEmbedding: nil, workspace: w.shuffle)
            block.coupling.backward(dy: other, dLogDet: w.dLogDet.pointer, into: current, batch: B, embedding: e,
                                    parameters: p, gradients: g, dEmbedding: dE, workspace: w.couplings[i],
                                    fused: fused)
            if let activation = block.activation, let workspace = w.activations[i] {
                activation.backward(dy: current, dLogDet: w.dLogDet.pointer, into: current, batch: B, embedding: nil,
                                    parameters: p, gradients: g, dEmbedding: nil, workspace: workspace)
            }
            block.actNorm.backward(dy: current, dLogDet: w.dLogDet.pointer, into: other, batch: B, embedding: nil,
                                   parameters: p, gradients: g, dEmbedding: nil, workspace: w.actNorms[i])
            swap(&current, &other)
            gradientsFinished?(backwardGradientRanges[blocks.count - 1 - i])
        }
        w.inputGradient.pointer.update(from: current, count: B * D)
        if let embedder, let condition {
            embedder.backward(de: w.dEmbedding.pointer, batch: B, condition: condition, parameters: p,
                              buffers: buffers.pointer, gradients: g, dCondition: w.conditionGradient.pointer, workspace: w.embedder!,
                              shard: shard)
        }
        gradientsFinished?(backwardGradientRanges[blocks.count])
        if let update { for range in rangesOutsideCouplings { update.apply(range) } }  // embedder, ActNorm
        return FlowLoss(loss: Float(loss), natsPerDimension: Float(natsPerDimension(loss: loss)))
    }
}
