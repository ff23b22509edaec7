import ArgumentParser
import Foundation
import Experts
import MessagePassing
import Net2Net
import TensorCore

/// Self-checks of the MPI layer and of data-parallel training, run under
/// mpirun by the tests (and by hand on a cluster); rank 0 prints one JSON object.
struct DistributedCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distributed-check",
        abstract: "Check the MPI layer and data-parallel training on this job's processes.",
        discussion: """
        communicator: rank, size, barrier, broadcast, allreduce (sum, mean, maximum, in buckets), \
        gather in rank order, and an MPI error reported as an error. gradient: the summed gradient \
        shares of a sharded batch against one process's gradient of the whole batch. training: a \
        short training run's losses and whether every rank ends with identical parameters. \
        extraction: the shipped autoencoder's latents of seeded images, sharded and cached in \
        --cache (chunks of 64 rows), against one process's in one call. \
        Without --distributed the checks run in this process alone (the single-process reference).

        Example:
          mpirun -np 2 net2net distributed-check --distributed --case gradient --threads 1
        """,
        shouldDisplay: false)

    enum Case: String, ExpressibleByArgument, CaseIterable { case communicator, gradient, training, extraction }

    @Option(help: "communicator, gradient or training.") var `case`: Case = .communicator
    @Option(help: "Training steps (case training).") var steps = 12
    @Option(help: "Global batch rows (cases gradient and training).") var batchSize = 16
    @Flag(help: "Join the MPI job (start with mpirun -np N).") var distributed = false
    @Option(help: "Elements per MPI call in allreduce and broadcast (case communicator splits 2500 values).")
    var bucketElements = 1000
    @Option(help: "Case extraction: the cache directory.") var cache: String?
    @Option(help: "Case extraction: images to encode.") var rows = 300
    @Option(help: "Case extraction: pause per chunk in milliseconds (to be killed part way).") var chunkDelay = 0
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        guard bucketElements >= 1 && bucketElements <= Int(Int32.max) else {
            throw ValidationError("--bucket-elements must be in 1...\(Int32.max)")
        }
        try withCommunicator(distributed: distributed, bucketElements: bucketElements) { communicator in
            let report: [String: Any]?
            switch self.case {
            case .communicator: report = try CommunicatorCheck.run(communicator)
            case .gradient:
                report = try DataParallelCheck.gradient(communicator: communicator, globalBatch: batchSize).map {
                    ["size": communicator.size, "gradient_error": $0.gradientError, "state_error": $0.stateError,
                     "single_losses": $0.singleLosses.map(Double.init), "sharded_losses": $0.shardedLosses.map(Double.init)]
                }
            case .training:
                report = try DataParallelCheck.training(communicator: communicator, steps: steps, batchSize: batchSize).map {
                    ["size": communicator.size, "losses": $0.losses.map(Double.init),
                     "replicas_identical": $0.replicasIdentical, "state_digest": String($0.stateDigest, radix: 16)]
                }
            case .extraction:
                guard let cache else { throw ValidationError("--case extraction needs --cache DIR") }
                report = try extractionReport(communicator, cache: fileURL(cache))
            }
            if let report { try printJSON(report) }
        }
    }
}

extension DistributedCheck {
    /// Latents of `rows` seeded images by the shipped autoencoder: sharded and
    /// cached, then (rank 0) in one call; the largest difference relative to
    /// the largest latent, and how many chunks were cached before this run.
    func extractionReport(_ communicator: Communicator, cache: URL) throws -> [String: Any]? {
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
        return ["size": communicator.size, "shape": sharded.shape, "relative_error": Double(difference / scale),
                "cached_chunks_before": cachedBefore, "chunks": (rows + 63) / 64]
    }
}

/// Every collective of `Communicator` on known values; rank 0 gets the results.
enum CommunicatorCheck {
    static func run(_ communicator: Communicator) throws -> [String: Any]? {
        let n = communicator.size, rank = communicator.rank
        try communicator.barrier()
        let ranks = try communicator.gather([Int64(rank)])
        // Broadcast from the last rank.
        var broadcast: [Float] = rank == n - 1 ? [1.5, -2, 3.25] : [0, 0, 0]
        try communicator.broadcast(&broadcast, root: n - 1)
        let broadcasts = try communicator.gather(broadcast)
        // Sum of (rank + 1)·(i + 1) over 2500 elements, in buckets of `bucketElements`.
        var sums = (0..<2500).map { Float((rank + 1) * ($0 + 1)) }
        try communicator.allreduce(&sums)
        let expected = Float(n * (n + 1) / 2)
        let sumError = sums.indices.map { abs(sums[$0] - expected * Float($0 + 1)) }.max() ?? 0
        let sumsAgree = try communicator.gather([Double(sums.reduce(0, +))])
        var means: [Float] = [Float(rank), Float(2 * rank)]
        try means.withUnsafeMutableBufferPointer { try communicator.allreduceMean($0) }
        var maxima: [Double] = [Double(rank), -Double(rank)]
        try communicator.allreduce(&maxima, .maximum)
        // Rank r contributes r + 1 copies of r: rank order, varying counts.
        let gathered = try communicator.gather([Int64](repeating: Int64(rank), count: rank + 1))
        // An MPI error: a root that is not a rank.
        var errorText = "none"
        do {
            var value: [Float] = [0]
            try communicator.broadcast(&value, root: n)
        } catch let error as CommunicatorError {
            errorText = error.localizedDescription
        }
        guard communicator.isRoot else { return nil }
        return ["size": n, "ranks": (ranks ?? []).map(Int.init), "broadcasts": (broadcasts ?? []).map(Double.init),
                "sum_error": Double(sumError), "sum_first": sums.prefix(3).map(Double.init),
                "sum_totals": sumsAgree ?? [], "bucket_elements": communicator.bucketElements,
                "means": means.map(Double.init), "maxima": maxima, "gathered": (gathered ?? []).map(Int.init), "error": errorText]
    }
}
