import Experts
import Flow
import Foundation
import Layers
import MessagePassing
import TensorCore

/// Checks of data-parallel training against a single process, run by every
/// process of an MPI job (`net2net distributed-check`); each returns its
/// findings on rank 0 and nil elsewhere.
public enum DataParallelCheck {
    /// The summed gradient shares of a batch against one process's gradient of the whole batch.
    public struct GradientComparison: Sendable {
        /// max |g_sharded − g_single| / max |g_single| over every parameter, worst of the batches.
        public var gradientError: Double
        /// The same for the BatchNorm running statistics and ActNorm's initialised parameters.
        public var stateError: Double
        /// The loss of each batch: one process, and the sharded run.
        public var singleLosses: [Float]
        public var shardedLosses: [Float]
    }

    /// A small flow with every part that needs the whole batch (ActNorm's
    /// initialisation, the embedder's BatchNorm) on `batches` seeded batches
    /// of `globalBatch` rows: each process computes its contiguous share's
    /// gradient, the shares are summed, and rank 0 compares with the gradient
    /// of the whole batch in one process.
    public static func gradient(communicator: Communicator, globalBatch: Int = 16, batches: Int = 2) throws
        -> GradientComparison? {
        guard globalBatch % communicator.size == 0 else {
            throw Net2NetError.configuration("the batch of \(globalBatch) rows does not split over \(communicator.size) processes")
        }
        let architecture = FlowConfiguration(dimension: 5, conditionDimension: 3, embeddingDimension: 4,
                                             hiddenDimension: 16, blockCount: 3, conditioningHiddenDimension: 8)
        let sharded = ConditionalFlow(configuration: architecture, seed: 11)
        let local = globalBatch / communicator.size
        let shardGradients = FloatBuffer(count: sharded.parameters.count)
        let shardWorkspace = sharded.makeTrainingWorkspace(batch: local)
        var failure: Error?
        let shard = BatchShard(globalBatch: globalBatch) { values in
            do { try communicator.allreduce(values) } catch { failure = failure ?? error }
        }
        let single = communicator.isRoot ? ConditionalFlow(configuration: architecture, seed: 11) : nil
        let singleGradients = FloatBuffer(count: sharded.parameters.count)
        let singleWorkspace = single?.makeTrainingWorkspace(batch: globalBatch)
        var comparison = GradientComparison(gradientError: 0, stateError: 0, singleLosses: [], shardedLosses: [])
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<batches {
            let x = generator.normalTensor([globalBatch, architecture.dimension], standardDeviation: 2)
            let c = generator.normalTensor([globalBatch, architecture.conditionDimension])
            let first = communicator.rank * local
            let xs = x.rows(first..<(first + local)), cs = c.rows(first..<(first + local))
            let loss = xs.withUnsafeBufferPointer { xp in
                cs.withUnsafeBufferPointer { cp in
                    sharded.lossAndGradient(x: xp.baseAddress!, condition: cp.baseAddress!, gradients: shardGradients,
                                            workspace: shardWorkspace, shard: shard)
                }
            }
            if let failure { throw failure }
            try communicator.allreduce(UnsafeMutableBufferPointer(start: shardGradients.pointer, count: shardGradients.count))
            guard let single, let singleWorkspace else { continue }
            let reference = x.withUnsafeBufferPointer { xp in
                c.withUnsafeBufferPointer { cp in
                    single.lossAndGradient(x: xp.baseAddress!, condition: cp.baseAddress!, gradients: singleGradients,
                                           workspace: singleWorkspace)
                }
            }
            comparison.singleLosses.append(reference.loss)
            comparison.shardedLosses.append(loss.loss)
            comparison.gradientError = max(comparison.gradientError, relativeError(shardGradients, singleGradients))
            comparison.stateError = max(comparison.stateError, relativeError(sharded.buffers, single.buffers),
                                        relativeError(sharded.parameters, single.parameters))
        }
        return communicator.isRoot ? comparison : nil
    }

    /// max |a − b| / max |b|.
    static func relativeError(_ a: FloatBuffer, _ b: FloatBuffer) -> Double {
        var difference = 0.0, scale = 0.0
        for i in 0..<b.count {
            difference = max(difference, Double(abs(a.pointer[i] - b.pointer[i])))
            scale = max(scale, Double(abs(b.pointer[i])))
        }
        return scale == 0 ? difference : difference / scale
    }

    /// What a short in-memory training run gives.
    public struct TrainingRun: Sendable {
        public var losses: [Float]
        /// Whether every process ends with bit-identical parameters, BatchNorm buffers and moments.
        public var replicasIdentical: Bool
        public var stateDigest: UInt64
        /// The gradient ranges the last step reduced as one allreduce each, in order (none without MPI).
        public var gradientBuckets: [Range<Int>]
    }

    /// `steps` steps of a small flow on seeded conditional-Gaussian pairs,
    /// global batch `batchSize`, no output directory; the same call without
    /// MPI (`Communicator.single`) is the single-process reference. The
    /// gradient is summed in buckets of at least `gradientBucketElements`
    /// during backward, or (0) in one allreduce after it.
    public static func training(communicator: Communicator, steps: Int, batchSize: Int = 16,
                                gradientBucketElements: Int = Trainer.defaultGradientBucketElements) throws -> TrainingRun? {
        let pairs = ConditionalGaussian(dimension: 4, conditionDimension: 3, seed: 1).pairs(400, seed: 1)
        let data = try PairDataset(condition: pairs.condition, target: pairs.target)
        var settings = TrainingConfiguration()
        settings.hiddenDimension = 16
        settings.blockCount = 3
        settings.embeddingDimension = 4
        settings.conditioningHiddenDimension = 8
        settings.batchSize = batchSize
        settings.steps = steps
        settings.validateEvery = max(1, steps / 2)
        settings.baseLearningRate = 1e-4
        // The conditioner's BatchNorm, so that its batch statistics are checked over processes too.
        settings.conditionerUsesBatchNorm = true
        let trainer = try Trainer(configuration: settings, data: data, outputDirectory: nil, communicator: communicator)
        trainer.gradientBucketElements = gradientBucketElements
        try trainer.run()
        let identical = try trainer.replicasAreIdentical()
        return communicator.isRoot ? TrainingRun(losses: trainer.losses, replicasIdentical: identical,
                                                 stateDigest: trainer.stateDigest(),
                                                 gradientBuckets: trainer.lastGradientBuckets) : nil
    }

    /// Sharded extraction against one process.
    public struct ExtractionComparison: Sendable {
        public var shape: [Int]
        /// max |sharded − whole| / max |whole|.
        public var relativeError: Double
        /// Chunks on disk before this run (a resumed run reuses them).
        public var cachedChunksBefore: Int
        public var chunks: Int
    }

    /// The shipped autoencoder's latents of `rows` seeded images: through
    /// `ShardedRows` (chunks of 64 rows cached in `cache`, each process's
    /// share slowed by `chunkDelay` milliseconds so a test can kill it part
    /// way), and on rank 0 in one call of one process.
    public static func extraction(communicator: Communicator, cache: URL, rows: Int, chunkDelay: Int = 0) throws
        -> ExtractionComparison? {
        let autoencoder = try ConvolutionalVAE.load(ShippedModels.autoencoder).model
        var generator = SeededGenerator(seed: 3)
        var images = generator.normalTensor([rows, 1, 28, 28], standardDeviation: 0.5)
        for i in images.scalars.indices { images.scalars[i] = max(-1, min(1, images.scalars[i])) }
        let extraction = ShardedRows(communicator: communicator, cacheDirectory: cache, chunkRows: 64)
        let key = ShardedRows.key("autoencoder", input: images.scalars.withUnsafeBytes { Data($0) })
        let cachedBefore = (try? FileManager.default.contentsOfDirectory(atPath: extraction.directory(for: key).path))?
            .filter { $0.hasPrefix("chunk-") }.count ?? 0
        let sharded = try extraction.map(count: rows, key: key) { selected in
            if chunkDelay > 0 { usleep(useconds_t(chunkDelay) * 1000) }
            return try autoencoder.encode(images.gatherRows(selected))
        }
        guard communicator.isRoot else { return nil }
        let whole = try autoencoder.encode(images)
        let scale = whole.scalars.map(abs).max() ?? 1
        let difference = zip(sharded.scalars, whole.scalars).map { abs($0 - $1) }.max() ?? .infinity
        return ExtractionComparison(shape: sharded.shape, relativeError: Double(difference / scale),
                                    cachedChunksBefore: cachedBefore, chunks: (rows + 63) / 64)
    }
}
