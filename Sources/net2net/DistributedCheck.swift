import ArgumentParser
import Foundation
import MessagePassing
import Net2Net

/// Self-checks of the MPI layer and of data-parallel training, run under
/// mpirun by the tests (and by hand on a cluster); rank 0 prints one JSON object.
struct DistributedCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distributed-check",
        abstract: "Check the MPI layer and data-parallel training on this job's processes.",
        discussion: """
        communicator: rank, size, barrier, broadcast, allreduce (sum, mean, maximum, in buckets), \
        nonblocking allreduce (started, tested, waited for), gather in rank order, and an MPI error \
        reported as an error. gradient: the summed gradient \
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
    @Option(help: "Case training: the least gradient elements summed as one allreduce during backward (0: one allreduce after backward).")
    var gradientBucketElements = Trainer.defaultGradientBucketElements
    @Option(help: "Case extraction: the cache directory.") var cache: String?
    @Option(help: "Case extraction: images to encode.") var rows = 300
    @Option(help: "Case extraction: pause per chunk in milliseconds (to be killed part way).") var chunkDelay = 0
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        guard bucketElements >= 1 && bucketElements <= Int(Int32.max) else {
            throw ValidationError("--bucket-elements must be in 1...\(Int32.max)")
        }
        guard rows >= 1, chunkDelay >= 0, steps >= 1, batchSize >= 2, gradientBucketElements >= 0 else {
            throw ValidationError("--rows and --steps must be at least 1, --batch-size at least 2, --chunk-delay and --gradient-bucket-elements not negative")
        }
        let cacheDirectory = cache.map(fileURL)
        if self.case == .extraction && cacheDirectory == nil { throw ValidationError("--case extraction needs --cache DIR") }
        try withCommunicator(distributed: distributed, bucketElements: bucketElements) { communicator in
            let report: [String: Any]?
            switch self.case {
            case .communicator:
                report = try CommunicatorCheck.run(communicator).map {
                    ["size": $0.size, "ranks": $0.ranks, "broadcasts": $0.broadcasts.map(Double.init),
                     "sum_error": Double($0.sumError), "sum_first": $0.sumFirst.map(Double.init), "sum_totals": $0.sumTotals,
                     "bucket_elements": $0.bucketElements, "means": $0.means.map(Double.init), "maxima": $0.maxima,
                     "gathered": $0.gathered, "error": $0.error,
                     "nonblocking_sum_error": Double($0.nonblockingSumError),
                     "nonblocking_sum_first": $0.nonblockingSumFirst.map(Double.init),
                     "nonblocking_maxima": $0.nonblockingMaxima, "wait_on_completed": $0.waitOnCompleted,
                     "nonblocking_error": $0.nonblockingError]
                }
            case .gradient:
                report = try DataParallelCheck.gradient(communicator: communicator, globalBatch: batchSize).map {
                    ["size": communicator.size, "gradient_error": $0.gradientError, "state_error": $0.stateError,
                     "single_losses": $0.singleLosses.map(Double.init), "sharded_losses": $0.shardedLosses.map(Double.init)]
                }
            case .training:
                report = try DataParallelCheck.training(communicator: communicator, steps: steps, batchSize: batchSize,
                                                        gradientBucketElements: gradientBucketElements).map {
                    ["size": communicator.size, "losses": $0.losses.map(Double.init),
                     "replicas_identical": $0.replicasIdentical, "state_digest": String($0.stateDigest, radix: 16),
                     "gradient_buckets": $0.gradientBuckets.map { [$0.lowerBound, $0.upperBound] }]
                }
            case .extraction:
                report = try DataParallelCheck.extraction(communicator: communicator, cache: cacheDirectory!, rows: rows,
                                                          chunkDelay: chunkDelay).map {
                    ["size": communicator.size, "shape": $0.shape, "relative_error": $0.relativeError,
                     "cached_chunks_before": $0.cachedChunksBefore, "chunks": $0.chunks]
                }
            }
            if let report { try printJSON(report) }
        }
    }
}
