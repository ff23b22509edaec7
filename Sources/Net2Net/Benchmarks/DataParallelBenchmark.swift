import Flow
import Foundation
import Layers
import MessagePassing
import TensorCore

/// Timing of data-parallel training steps (`net2net bench --suite
/// distributed`, under mpirun): each process computes its share of a global
/// batch (sharded forward and backward), the gradient is summed with
/// allreduce, and every process applies AMSGrad, as `Trainer` does. The sum
/// is taken in one or more ways, alternated step by step on the same flow
/// (so that a loaded machine slows each alike): in one allreduce after
/// backward (bucket size 0), or bucket by bucket during it
/// (`OverlappedGradientSum`).
public enum DataParallelBenchmark {
    public struct Result: Sendable, Codable {
        public let name: String
        public let processes: Int
        public let globalBatch: Int
        public let parameters: Int
        /// Float32 gradient bytes each process reduces per step.
        public let gradientBytes: Int
        /// The least bytes started as one allreduce during backward; 0: one allreduce after backward.
        public let gradientBucketBytes: Int
        /// MPI allreduce calls per step (buckets, and pieces of at most `Communicator.bucketElements`).
        public let bucketsPerStep: Int
        /// Wall time of one step on rank 0 (compute + allreduce + update).
        public let secondsPerStep: Double
        /// Of it, from the end of backward until the gradient is summed (all of
        /// the allreduce without overlap; what backward did not hide with it),
        /// including waiting for the slowest process.
        public let allreduceSecondsPerStep: Double
        /// The same reductions alone, after a barrier (no waiting for a slower
        /// process, no compute beside them), best of three: one allreduce, or
        /// the buckets started in turn (MPI_Iallreduce) and then waited for.
        public let allreduceAloneSeconds: Double
        /// Bytes each process sends (and receives) per step in a ring allreduce: 2(N − 1)/N · gradientBytes.
        public let ringBytesPerStep: Double
        /// ringBytesPerStep / allreduceAloneSeconds, in GB/s (0 for one process).
        public let busBandwidthGBps: Double
        public let samplesPerSecond: Double
    }

    /// `steps` timed rounds (after `warmup`) of `configuration` at
    /// `globalBatch` rows; each round takes one step per entry of
    /// `gradientBucketElements`, in order, and each entry gets its result.
    public static func run(name: String, configuration: FlowConfiguration, globalBatch: Int,
                           communicator: Communicator, gradientBucketElements: [Int] = [0], steps: Int = 5,
                           warmup: Int = 1, progress: (String) -> Void = { _ in }) throws -> [Result] {
        guard globalBatch % communicator.size == 0 else {
            throw Net2NetError.configuration("batch \(globalBatch) does not split over \(communicator.size) processes")
        }
        precondition(!gradientBucketElements.isEmpty && gradientBucketElements.allSatisfy { $0 >= 0 })
        let local = globalBatch / communicator.size
        let flow = ConditionalFlow(configuration: configuration, seed: 0)
        let gradients = FloatBuffer(count: flow.parameters.count)
        let workspace = flow.makeTrainingWorkspace(batch: local)
        let adam = Adam(parameterCount: flow.parameters.count)
        var generator = SeededGenerator(seed: 42)
        let x = generator.normalTensor([globalBatch, configuration.dimension])
        let condition = generator.normalTensor([globalBatch, configuration.conditionDimension])
        let first = communicator.rank * local
        let xs = x.rows(first..<(first + local)), cs = condition.rows(first..<(first + local))
        var failure: Error?
        let shard = communicator.usesMPI ? BatchShard(globalBatch: globalBatch) { values in
            do { try communicator.allreduce(values) } catch { failure = failure ?? error }
        } : nil
        let gradientBuffer = UnsafeMutableBufferPointer(start: gradients.pointer, count: gradients.count)
        let overlaps = gradientBucketElements.map {
            $0 > 0 && shard != nil ? OverlappedGradientSum(communicator: communicator, gradients: gradients, bucketElements: $0) : nil
        }
        var stepSeconds = [Double](repeating: 0, count: overlaps.count)
        var allreduceSeconds = stepSeconds
        // MPI calls per step: one per `Communicator.bucketElements` of each started range.
        let calls = { (ranges: [Range<Int>]) in
            ranges.reduce(0) { $0 + ($1.count + communicator.bucketElements - 1) / communicator.bucketElements }
        }
        var buckets = [Int](repeating: calls([0..<gradients.count]), count: overlaps.count)
        for round in 0..<(warmup + steps) {
            for (variant, overlap) in overlaps.enumerated() {
                try communicator.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                xs.withUnsafeBufferPointer { xp in
                    cs.withUnsafeBufferPointer { cp in
                        _ = flow.lossAndGradient(x: xp.baseAddress!, condition: cp.baseAddress!, gradients: gradients,
                                                 workspace: workspace, shard: shard,
                                                 gradientsFinished: overlap.map { $0.finished })
                    }
                }
                let reduceStart = DispatchTime.now().uptimeNanoseconds
                if let overlap {
                    try overlap.finish()
                    buckets[variant] = calls(overlap.buckets)
                } else {
                    try communicator.allreduce(gradientBuffer)
                }
                if let failure { throw failure }
                let reduceEnd = DispatchTime.now().uptimeNanoseconds
                _ = adam.update(parameters: flow.parameters, gradients: gradients, learningRate: 1e-5)
                let end = DispatchTime.now().uptimeNanoseconds
                if round >= warmup {
                    stepSeconds[variant] += Double(end - start) / 1e9
                    allreduceSeconds[variant] += Double(reduceEnd - reduceStart) / 1e9
                }
            }
            progress("\(name), \(communicator.size) processes: round \(round + 1)/\(warmup + steps)")
        }
        // Each variant's reductions alone after a barrier, best of three: one
        // allreduce, or the last step's buckets started in turn, then waited for.
        var alone = [Double](repeating: communicator.usesMPI ? .infinity : 0, count: overlaps.count)
        for (variant, overlap) in overlaps.enumerated() where communicator.usesMPI {
            for _ in 0..<3 {
                try communicator.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                if let overlap {
                    var requests = try overlap.buckets.map {
                        try communicator.startAllreduce(UnsafeMutableBufferPointer(rebasing: gradientBuffer[$0]))
                    }
                    try communicator.waitAll(&requests)
                } else {
                    try communicator.allreduce(gradientBuffer)
                }
                alone[variant] = min(alone[variant], Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
        }
        let bytes = gradients.count * MemoryLayout<Float>.stride
        let n = Double(communicator.size)
        let ring = 2 * (n - 1) / n * Double(bytes)
        return gradientBucketElements.indices.map { variant in
            Result(name: name, processes: communicator.size, globalBatch: globalBatch,
                   parameters: flow.parameters.count, gradientBytes: bytes,
                   gradientBucketBytes: gradientBucketElements[variant] * MemoryLayout<Float>.stride,
                   bucketsPerStep: buckets[variant],
                   secondsPerStep: stepSeconds[variant] / Double(steps),
                   allreduceSecondsPerStep: allreduceSeconds[variant] / Double(steps),
                   allreduceAloneSeconds: alone[variant], ringBytesPerStep: ring,
                   busBandwidthGBps: alone[variant] > 0 ? ring / alone[variant] / 1e9 : 0,
                   samplesPerSecond: Double(globalBatch) * Double(steps) / stepSeconds[variant])
        }
    }
}
